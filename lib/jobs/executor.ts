import { ApiError } from "../api/errors";
import type { PrismaClient } from "../db/generated/client";
import type { Logger } from "../log";
import type { ArtifactStore } from "../storage";
import { describeAction, jobActionSchema, type JobAction } from "./action-schema";
import { handlerFor, jobActor, RunFailure } from "./actions";
import {
  appendRunLog,
  endAttempt,
  renewLease,
  type ClaimedRun,
  type EndedAs,
  type LogLine,
} from "./runs";
import type { JobSettings } from "./settings";

/**
 * Executes one claimed run: builds the action's context, keeps the lease alive while the
 * handler works (async I/O and child processes only, so the scheduler's event loop stays
 * free), streams log lines to Postgres in small batches, and ends the attempt.
 */

/** A run's log stops growing here (the rest is counted, not stored). */
export const MAX_LOG_LINES = 20_000;
const FLUSH_INTERVAL_MS = 250;

export class StopRun extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "StopRun";
  }
}

class RunLog {
  private buffer: LogLine[] = [];
  private written = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: PrismaClient,
    private readonly runId: string,
    private readonly log: Logger,
  ) {}

  push(line: string, stream: string) {
    if (this.written + this.buffer.length >= MAX_LOG_LINES) {
      this.dropped++;
      return;
    }
    this.buffer.push({ stream, line, at: new Date() });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_INTERVAL_MS);
  }

  flush(): Promise<void> {
    const lines = this.buffer;
    this.buffer = [];
    if (lines.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      try {
        await appendRunLog(this.db, this.runId, lines);
        this.written += lines.length;
      } catch (error) {
        this.log.warn(
          { err: error, runId: this.runId, lines: lines.length },
          "could not write run log lines",
        );
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dropped > 0) {
      this.buffer.push({
        stream: "warn",
        line: `… ${this.dropped} more line(s) were not kept (a run keeps at most ${MAX_LOG_LINES}).`,
        at: new Date(),
      });
    }
    await this.flush();
  }
}

export type ExecutorDeps = {
  db: PrismaClient;
  store: ArtifactStore;
  settings: JobSettings;
  instanceId: string;
  log: Logger;
};

function describeError(error: unknown): { message: string; retryable: boolean; result?: unknown } {
  if (error instanceof RunFailure) {
    return { message: error.message, retryable: error.retryable, result: error.result };
  }
  if (error instanceof StopRun) return { message: error.message, retryable: error.retryable };
  if (error instanceof ApiError) {
    // The registry's answers to bad input will not change on a retry; server errors may.
    return { message: error.message, retryable: error.status >= 500 };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: `Unexpected error: ${message}`, retryable: true };
}

/**
 * Runs `run` to the end of its attempt. `stop` aborts it from outside (shutdown); the lease
 * being lost (another scheduler failed the run after the lease expired) aborts it too.
 */
export async function executeRun(
  deps: ExecutorDeps,
  run: ClaimedRun,
  stop: AbortSignal,
): Promise<EndedAs> {
  const { db, settings, instanceId } = deps;
  const log = deps.log.child({ runId: run.id, job: run.jobName });
  const runLog = new RunLog(db, run.id, log);
  const controller = new AbortController();
  const onStop = () =>
    controller.abort(
      stop.reason instanceof Error
        ? stop.reason
        : new StopRun("The scheduler shut down before the run finished.", true),
    );
  if (stop.aborted) onStop();
  else stop.addEventListener("abort", onStop, { once: true });

  const renewEvery = Math.max(200, Math.floor(settings.leaseMs / 3));
  let renewing = false;
  const renewTimer = setInterval(() => {
    if (renewing) return;
    renewing = true;
    renewLease(db, run.id, instanceId, settings.leaseMs)
      .then((held) => {
        if (!held && !controller.signal.aborted) {
          log.warn("lost the lease of a running run; stopping it");
          controller.abort(
            new StopRun(
              "This scheduler lost the run's lease (it could not renew it in time), so another scheduler ended the run.",
              false,
            ),
          );
        }
      })
      .catch((error: unknown) => log.warn({ err: error }, "could not renew a run's lease"))
      .finally(() => (renewing = false));
  }, renewEvery);

  let outcome: Parameters<typeof endAttempt>[3];
  try {
    const parsed = jobActionSchema.safeParse(run.action);
    if (!parsed.success) {
      throw new RunFailure(
        `The run's action is not valid: ${parsed.error.issues.map((i) => `${["action", ...i.path].join(".")} ${i.message}`).join("; ")}.`,
      );
    }
    const action: JobAction = parsed.data;
    runLog.push(
      `Attempt ${run.attempt} of ${run.maxAttempts} on ${instanceId}: ${describeAction(action)} (model ${run.modelName}).`,
      "info",
    );
    const result = await handlerFor(action)({
      db,
      store: deps.store,
      settings,
      job: { id: run.jobId, name: run.jobName, model: run.modelName },
      run: {
        id: run.id,
        attempt: run.attempt,
        maxAttempts: run.maxAttempts,
        trigger: run.trigger,
        scheduledFor: run.scheduledFor,
      },
      action,
      actor: jobActor(run.jobName),
      log: (line, stream = "info") => runLog.push(line, stream),
      signal: controller.signal,
    });
    if (controller.signal.aborted) throw controller.signal.reason;
    outcome = { status: "succeeded", result: result ?? {} };
    runLog.push("Succeeded.", "info");
  } catch (caught) {
    const error = controller.signal.aborted ? (controller.signal.reason ?? caught) : caught;
    const { message, retryable, result } = describeError(error);
    if (!(error instanceof RunFailure) && !(error instanceof StopRun)) {
      log.warn({ err: error }, "run failed");
    }
    runLog.push(message, "error");
    outcome = {
      status: "failed",
      error: message,
      retryable,
      ...(result !== undefined ? { result } : {}),
    };
  } finally {
    clearInterval(renewTimer);
    stop.removeEventListener("abort", onStop);
  }
  await runLog.close();
  const ended = await endAttempt(db, run.id, instanceId, outcome, settings.retryBaseMs);
  log.info({ endedAs: ended, attempt: run.attempt }, "run ended");
  return ended;
}
