import { createTask, type Logger as CronLogger, type ScheduledTask } from "node-cron";
import type { PrismaClient } from "../db/generated/client";
import type { Logger } from "../log";
import type { ArtifactStore } from "../storage";
import {
  createPostgresRunCoordinator,
  pruneClaims,
  type PostgresRunCoordinator,
} from "./coordinator";
import { executeRun, StopRun } from "./executor";
import { listenToJobEvents, type JobEventListener } from "./listener";
import {
  claimNextRun,
  failExpiredLeases,
  fireKey,
  jobTaskName,
  parseFireKey,
  recordFire,
} from "./runs";
import type { JobSettings } from "./settings";

/**
 * The scheduler: node-cron tasks for the enabled jobs in Postgres, a Postgres run coordinator
 * so that each fire is claimed by exactly one replica (the claim and its run row commit
 * together), and an executor that takes queued runs (fires and "Run now") from the shared
 * queue. Re-syncs on job notifications and periodically; fails runs whose lease expired.
 * Everything long-running is async I/O or a child process: the event loop stays free to fire.
 */

/** How long a fire's claim is kept (node-cron's distributedLease): far longer than any lateness. */
const CLAIM_TTL_MS = 6 * 3600_000;
const PRUNE_EVERY_MS = 10 * 60_000;

type Scheduled = { task: ScheduledTask; schedule: string; timezone: string };

export type SchedulerStatus = {
  schedules: number;
  running: number;
  listening: boolean;
  lastSyncAt: string | null;
};

export class JobScheduler {
  private readonly tasks = new Map<string, Scheduled>();
  private readonly active = new Map<string, Promise<unknown>>();
  private readonly coordinator: PostgresRunCoordinator;
  private readonly stopController = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private listener: JobEventListener | undefined;
  private stopping = false;
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private lastSyncAt: Date | null = null;
  private lastPrune = 0;
  private readonly cronLogger: CronLogger;

  constructor(
    private readonly deps: {
      db: PrismaClient;
      store: ArtifactStore;
      settings: JobSettings;
      instanceId: string;
      log: Logger;
      /** For the LISTEN connection (a pool cannot hold one). */
      connectionString: string;
    },
  ) {
    const { log } = deps;
    this.coordinator = createPostgresRunCoordinator({
      db: deps.db,
      instanceId: deps.instanceId,
      onClaim: async (tx, key) => {
        const fire = parseFireKey(key);
        if (!fire) return;
        const outcome = await recordFire(tx, fire.jobId, fire.slot);
        log.debug({ key, outcome }, "claimed a fire");
      },
    });
    this.cronLogger = {
      info: (message) => log.debug({ source: "node-cron" }, message),
      warn: (message) => log.warn({ source: "node-cron" }, message),
      error: (message, err) =>
        log.error(
          { source: "node-cron", err: err ?? message },
          String((message as Error)?.message ?? message),
        ),
      debug: (message) => log.debug({ source: "node-cron" }, String(message)),
    };
  }

  status(): SchedulerStatus {
    return {
      schedules: this.tasks.size,
      running: this.active.size,
      listening: this.listener?.connected ?? false,
      lastSyncAt: this.lastSyncAt?.toISOString() ?? null,
    };
  }

  /** Starts listening, scheduling and polling; resolves after the first sync attempt. */
  async start(): Promise<void> {
    const { settings, log } = this.deps;
    let firstSync!: () => void;
    const synced = new Promise<void>((resolve) => (firstSync = resolve));
    this.listener = listenToJobEvents({
      connectionString: this.deps.connectionString,
      log,
      onEvent: (event) => {
        if (event.type === "run.queued") this.kick();
        else if (event.type.startsWith("job.")) void this.sync("notified");
      },
      onConnected: () => {
        void this.sync("listener connected").finally(firstSync);
        this.kick();
      },
    });
    this.every(settings.resyncMs, () => void this.sync("periodic"));
    this.every(settings.pollMs, () => this.kick());
    this.every(Math.max(500, Math.min(5_000, settings.leaseMs / 2)), () => void this.reap());
    // Do not wait forever for the listener: schedule from a plain read if it is slow.
    const fallback = setTimeout(() => void this.sync("start").finally(firstSync), 5_000);
    fallback.unref();
    await synced;
    clearTimeout(fallback);
  }

  private every(ms: number, fn: () => void) {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Re-reads the enabled jobs and adds, replaces or removes cron tasks to match. */
  sync(why: string): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        try {
          await this.syncOnce();
          this.lastSyncAt = new Date();
        } catch (error) {
          this.deps.log.warn({ err: error, why }, "could not read the jobs; will retry");
        }
      } while (this.syncAgain && !this.stopping);
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const jobs = await this.deps.db.refreshJob.findMany({
      where: { enabled: true },
      select: { id: true, name: true, schedule: true, timezone: true },
    });
    if (this.stopping) return;
    const wanted = new Map(jobs.map((j) => [j.id, j]));
    for (const [id, scheduled] of this.tasks) {
      const job = wanted.get(id);
      if (!job || job.schedule !== scheduled.schedule || job.timezone !== scheduled.timezone) {
        await scheduled.task.destroy();
        this.tasks.delete(id);
      }
    }
    for (const job of jobs) {
      if (this.tasks.has(job.id)) continue;
      try {
        this.tasks.set(job.id, {
          task: this.schedule(job.id, job.schedule, job.timezone),
          schedule: job.schedule,
          timezone: job.timezone,
        });
      } catch (error) {
        this.deps.log.error(
          { err: error, job: job.name, schedule: job.schedule },
          "cannot schedule a job (its schedule was refused by node-cron)",
        );
      }
    }
  }

  private schedule(jobId: string, schedule: string, timezone: string): ScheduledTask {
    const task = createTask(schedule, () => this.kick(), {
      name: jobTaskName(jobId),
      timezone,
      distributed: true,
      runCoordinator: this.coordinator,
      distributedLease: CLAIM_TTL_MS,
      logger: this.cronLogger,
    });
    // A fire this process was too busy to take in time (the event loop was blocked, the
    // machine overloaded) is still claimed, under the same key, if it is not too late: the
    // claim decides, so another replica that did fire it on time wins and nothing doubles.
    task.on("execution:missed", (ctx) => void this.catchUp(jobId, ctx.date));
    void task.start();
    return task;
  }

  private async catchUp(jobId: string, slot: Date): Promise<void> {
    if (this.stopping) return;
    const lateMs = Date.now() - slot.getTime();
    if (lateMs > this.deps.settings.catchUpMs) {
      this.deps.log.warn({ jobId, slot, lateMs }, "a fire was missed and is too late to run");
      return;
    }
    try {
      if (await this.coordinator.shouldRun(fireKey(jobId, slot), CLAIM_TTL_MS)) this.kick();
    } catch (error) {
      this.deps.log.warn({ err: error, jobId, slot }, "could not claim a missed fire");
    }
  }

  /** Looks for queued runs now (coalesced: one poll at a time, another right after if asked). */
  kick(): void {
    if (this.stopping) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = this.poll().finally(() => {
      this.polling = undefined;
      if (this.pollAgain && !this.stopping) {
        this.pollAgain = false;
        this.kick();
      }
    });
  }

  private async poll(): Promise<void> {
    const { db, settings, instanceId, log } = this.deps;
    while (!this.stopping && this.active.size < settings.concurrency) {
      let run;
      try {
        run = await claimNextRun(db, instanceId, settings.leaseMs);
      } catch (error) {
        log.warn({ err: error }, "could not take a queued run");
        return;
      }
      // Claimed even if a stop began meanwhile: it runs (and is stopped with the others).
      if (!run) return;
      log.info({ runId: run.id, job: run.jobName, attempt: run.attempt }, "run started");
      const done = executeRun(this.deps, run, this.stopController.signal)
        .catch((error: unknown) =>
          log.error({ err: error, runId: run.id }, "could not end a run; its lease will expire"),
        )
        .finally(() => {
          this.active.delete(run.id);
          this.kick();
        });
      this.active.set(run.id, done);
    }
  }

  private async reap(): Promise<void> {
    const { db, settings, log } = this.deps;
    try {
      const changed = await failExpiredLeases(db, settings.retryBaseMs);
      for (const c of changed) log.warn(c, "a run's lease expired (its scheduler died)");
      if (changed.some((c) => c.endedAs === "retrying")) this.kick();
      if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = Date.now();
        await pruneClaims(db);
      }
    } catch (error) {
      log.warn({ err: error }, "could not check run leases");
    }
  }

  /**
   * Graceful stop: no more fires or new runs; running runs get `graceMs` to finish, then
   * are stopped and recorded as failed (or re-queued if their action allows a retry).
   */
  async stop(reason = "shutdown", graceMs = this.deps.settings.shutdownGraceMs): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    for (const { task } of this.tasks.values()) await task.destroy();
    this.tasks.clear();
    await this.syncing;
    await this.polling;
    await this.listener?.stop();
    const running = [...this.active.values()];
    if (running.length > 0) {
      this.deps.log.info({ running: running.length, graceMs }, "waiting for running runs");
      const finished = await Promise.race([
        Promise.allSettled(running).then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref()),
      ]);
      if (!finished) {
        this.stopController.abort(
          new StopRun(
            `The scheduler shut down (${reason}) before the run finished; it was stopped after ${Math.round(graceMs / 1000)} s.`,
            true,
          ),
        );
        await Promise.race([
          Promise.allSettled([...this.active.values()]),
          new Promise((r) => setTimeout(r, 4_000).unref()),
        ]);
      }
    }
  }
}
