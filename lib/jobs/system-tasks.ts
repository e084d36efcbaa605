import { createTask, type ScheduledTask } from "node-cron";
import type { PrismaClient } from "../db/generated/client";
import type { Logger } from "../log";
import { createPostgresRunCoordinator, type PostgresRunCoordinator } from "./coordinator";

/**
 * ModelDeck's own periodic work in the scheduler process (alert evaluation, rollup
 * retention, drift snapshots, webhook deliveries…), as opposed to the refresh jobs users
 * define. Each task is a node-cron schedule whose fires are claimed through the same Postgres
 * run coordinator as refresh jobs, so with N scheduler replicas every fire runs on exactly
 * one of them. On one replica a fire that comes while the previous run of the same task is
 * still going is skipped (and logged at debug): tasks are idempotent catch-up work, the next
 * fire picks up what is left.
 */
export type SystemTask = {
  /** Stable name, part of the claim key: `system:<name>:<fire time>`. */
  name: string;
  /** node-cron expression (six fields allowed, e.g. every 15 s: `*\/15 * * * * *`). */
  schedule: string;
  /** How long a claim is held (defaults to 10 minutes); longer than a run can take. */
  leaseMs?: number;
  run: (fire: { at: Date; signal: AbortSignal }) => Promise<void>;
};

export type SystemTaskStatus = { name: string; runs: number; failures: number; running: boolean };

const DEFAULT_LEASE_MS = 10 * 60_000;

export class SystemTasks {
  private readonly coordinator: PostgresRunCoordinator;
  private readonly tasks = new Map<
    string,
    {
      def: SystemTask;
      cron?: ScheduledTask;
      running?: Promise<void>;
      runs: number;
      failures: number;
    }
  >();
  private readonly abort = new AbortController();
  private started = false;

  constructor(private readonly deps: { db: PrismaClient; instanceId: string; log: Logger }) {
    this.coordinator = createPostgresRunCoordinator({ db: deps.db, instanceId: deps.instanceId });
  }

  add(task: SystemTask): this {
    if (this.tasks.has(task.name)) throw new Error(`System task ${task.name} is already added.`);
    this.tasks.set(task.name, { def: task, runs: 0, failures: 0 });
    if (this.started) this.schedule(task.name);
    return this;
  }

  start(): void {
    this.started = true;
    for (const name of this.tasks.keys()) this.schedule(name);
  }

  status(): SystemTaskStatus[] {
    return [...this.tasks.values()].map((t) => ({
      name: t.def.name,
      runs: t.runs,
      failures: t.failures,
      running: Boolean(t.running),
    }));
  }

  /** Stops firing, aborts what runs and waits for it to end. */
  async stop(): Promise<void> {
    this.abort.abort(new Error("the scheduler is stopping"));
    const running: Promise<void>[] = [];
    for (const t of this.tasks.values()) {
      await t.cron?.destroy();
      if (t.running) running.push(t.running);
    }
    await Promise.allSettled(running);
  }

  private schedule(name: string): void {
    const entry = this.tasks.get(name)!;
    const { log } = this.deps;
    entry.cron = createTask(
      entry.def.schedule,
      (ctx) => {
        if (this.abort.signal.aborted) return;
        if (entry.running) {
          log.debug({ task: name }, "system task still running; this fire is skipped");
          return;
        }
        const at = ctx.date;
        entry.running = entry.def
          .run({ at, signal: this.abort.signal })
          .then(() => void entry.runs++)
          .catch((error: unknown) => {
            entry.failures++;
            log.warn({ err: error, task: name, at }, "system task failed");
          })
          .finally(() => (entry.running = undefined));
        return entry.running;
      },
      {
        name: `system:${name}`,
        distributed: true,
        runCoordinator: this.coordinator,
        distributedLease: entry.def.leaseMs ?? DEFAULT_LEASE_MS,
        logger: {
          info: () => {},
          debug: () => {},
          warn: (message) => log.warn({ source: "node-cron", task: name }, String(message)),
          error: (message, err) =>
            log.error({ source: "node-cron", task: name, err: err ?? message }, String(message)),
        },
      },
    );
    void entry.cron.start();
  }
}
