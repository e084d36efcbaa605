import type { Prisma, PrismaClient } from "../db/generated/client";
import type { Tx } from "../registry/shared";
import { maxAttemptsFor, retryDelayMs } from "./action-schema";
import { firesAt } from "./cron";
import { publishEvent } from "../notifications/events";
import { notifyJobEvent } from "./events";
import { parseStoredAction } from "./views";

/**
 * The run queue in Postgres: fires and "Run now" insert queued runs; schedulers claim them
 * (FOR UPDATE SKIP LOCKED), hold a lease they renew while running, and end them. Every move
 * to `running` happens under the job row's lock after checking that no other run of the job
 * is running, so runs of one job never overlap, whichever scheduler takes them.
 * Times are the database's clock (now()), so replicas on different hosts agree.
 */

const JOB_KEY = /^job:([0-9a-f-]{36}):(.+)$/;

/** The node-cron task name of a job; node-cron's fire keys are `${name}:${fireTimeISO}`. */
export const jobTaskName = (jobId: string) => `job:${jobId}`;
export const fireKey = (jobId: string, slot: Date) => `${jobTaskName(jobId)}:${slot.toISOString()}`;

export function parseFireKey(key: string): { jobId: string; slot: Date } | null {
  const m = JOB_KEY.exec(key);
  if (!m) return null;
  const slot = new Date(m[2]!);
  return Number.isNaN(slot.getTime()) ? null : { jobId: m[1]!, slot };
}

export const SCHEDULER_ACTOR_LABEL = "scheduler";

export type FireOutcome =
  | { kind: "queued"; runId: string }
  | { kind: "skipped"; runId: string; reason: string }
  | { kind: "ignored"; reason: string };

/**
 * Records one cron fire of a job inside the claim's transaction: a queued run, or a skipped
 * run saying why when a run of the job is still queued or running. Nothing is recorded for a
 * job that was disabled or deleted, or whose schedule no longer fires at `slot` (a replica
 * that has not re-synced yet fired on the old schedule). The unique (job, fire time) index
 * makes a second run for one fire impossible.
 */
export async function recordFire(
  tx: Tx,
  jobId: string,
  slot: Date,
  note?: string,
): Promise<FireOutcome> {
  const jobs = await tx.$queryRaw<
    { id: string; schedule: string; timezone: string; enabled: boolean; action: unknown }[]
  >`SELECT id::text AS id, schedule, timezone, enabled, action
      FROM refresh_job WHERE id = ${jobId}::uuid FOR NO KEY UPDATE`;
  const job = jobs[0];
  if (!job) return { kind: "ignored", reason: "the job no longer exists" };
  if (!job.enabled) return { kind: "ignored", reason: "the job is disabled" };
  if (!firesAt(job.schedule, job.timezone, slot)) {
    return { kind: "ignored", reason: "the job's schedule does not fire at this time any more" };
  }
  const active = await tx.jobRun.findFirst({
    where: { jobId, status: { in: ["queued", "running"] } },
    select: { id: true, status: true, startedAt: true, createdAt: true },
    orderBy: { createdAt: "desc" },
  });
  const action = parseStoredAction(job.action);
  const base = {
    jobId,
    trigger: "schedule" as const,
    scheduledFor: slot,
    action: job.action as Prisma.InputJsonValue,
    maxAttempts: maxAttemptsFor(action),
    requestedByType: "system",
    requestedById: null,
    requestedByLabel: SCHEDULER_ACTOR_LABEL,
  };
  if (active) {
    const since = (active.startedAt ?? active.createdAt).toISOString();
    const reason =
      active.status === "running"
        ? `Skipped: run ${active.id} of this job was still running (since ${since}); runs of one job never overlap.`
        : `Skipped: run ${active.id} of this job was still queued (since ${since}); runs of one job never overlap.`;
    const run = await tx.jobRun.create({
      data: { ...base, status: "skipped", reason, finishedAt: new Date() },
      select: { id: true },
    });
    return { kind: "skipped", runId: run.id, reason };
  }
  const run = await tx.jobRun.create({
    data: { ...base, status: "queued", ...(note ? { reason: note } : {}) },
    select: { id: true },
  });
  await notifyJobEvent(tx, { type: "run.queued", jobId, runId: run.id });
  return { kind: "queued", runId: run.id };
}

export type ClaimedRun = {
  id: string;
  jobId: string;
  jobName: string;
  modelName: string;
  action: unknown;
  attempt: number;
  maxAttempts: number;
  trigger: "schedule" | "manual";
  scheduledFor: Date | null;
  requestedByLabel: string;
};

/**
 * Takes the oldest queued run that is due and whose job has no running run, marks it running
 * for `instanceId` with a lease, and returns it (null when there is none to take).
 */
export async function claimNextRun(
  db: PrismaClient,
  instanceId: string,
  leaseMs: number,
): Promise<ClaimedRun | null> {
  return db.$transaction(
    async (tx) => {
      const candidates = await tx.$queryRaw<{ id: string; jobId: string }[]>`
        SELECT id::text AS id, "jobId"::text AS "jobId" FROM job_run
         WHERE status = 'queued' AND "availableAt" <= now()
         ORDER BY "availableAt", "createdAt"
         LIMIT 10
         FOR UPDATE SKIP LOCKED`;
      for (const candidate of candidates) {
        const locked = await tx.$queryRaw<{ id: string }[]>`
          SELECT id::text AS id FROM refresh_job WHERE id = ${candidate.jobId}::uuid
             FOR NO KEY UPDATE SKIP LOCKED`;
        if (locked.length === 0) continue;
        // A fresh statement after taking the lock: sees every earlier move to running.
        const running = await tx.$queryRaw<{ id: string }[]>`
          SELECT id::text AS id FROM job_run
           WHERE "jobId" = ${candidate.jobId}::uuid AND status = 'running' LIMIT 1`;
        if (running.length > 0) continue;
        const rows = await tx.$queryRaw<
          {
            id: string;
            jobId: string;
            action: unknown;
            attempt: number;
            maxAttempts: number;
            trigger: "schedule" | "manual";
            scheduledFor: Date | null;
            requestedByLabel: string;
          }[]
        >`
          UPDATE job_run
             SET status = 'running', "instanceId" = ${instanceId}, "startedAt" = now(),
                 "heartbeatAt" = now(), "leaseExpiresAt" = now() + ${Math.round(leaseMs)} * interval '1 millisecond',
                 "finishedAt" = NULL
           WHERE id = ${candidate.id}::uuid AND status = 'queued'
          RETURNING id::text AS id, "jobId"::text AS "jobId", action, attempt, "maxAttempts",
                    trigger::text AS trigger, "scheduledFor", "requestedByLabel"`;
        const run = rows[0];
        if (!run) continue;
        const job = await tx.refreshJob.findUniqueOrThrow({
          where: { id: run.jobId },
          select: { name: true, model: { select: { name: true } } },
        });
        return { ...run, jobName: job.name, modelName: job.model.name };
      }
      return null;
    },
    { isolationLevel: "ReadCommitted", maxWait: 10_000, timeout: 20_000 },
  );
}

/** Extends the lease of a run this instance holds; false when it no longer holds it. */
export async function renewLease(
  db: PrismaClient,
  runId: string,
  instanceId: string,
  leaseMs: number,
): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE job_run SET "heartbeatAt" = now(),
           "leaseExpiresAt" = now() + ${Math.round(leaseMs)} * interval '1 millisecond'
     WHERE id = ${runId}::uuid AND status = 'running' AND "instanceId" = ${instanceId}`;
  return n === 1;
}

export type AttemptOutcome =
  | { status: "succeeded"; result: unknown }
  | { status: "failed"; error: string; result?: unknown; retryable: boolean };

export type EndedAs = "succeeded" | "failed" | "retrying" | "lost";

/**
 * Ends the current attempt of a run this instance holds. A retryable failure with attempts
 * left puts the run back in the queue (same row, attempt + 1) after a backoff.
 */
export async function endAttempt(
  db: PrismaClient,
  runId: string,
  instanceId: string,
  outcome: AttemptOutcome,
  retryBaseMs: number,
): Promise<EndedAs> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ attempt: number; maxAttempts: number; jobId: string }[]>`
      SELECT attempt, "maxAttempts", "jobId"::text AS "jobId" FROM job_run
       WHERE id = ${runId}::uuid AND status = 'running' AND "instanceId" = ${instanceId}
       FOR UPDATE`;
    const run = rows[0];
    if (!run) return "lost";
    const result = toJson(outcome.result);
    if (outcome.status === "succeeded") {
      await tx.jobRun.update({
        where: { id: runId },
        data: {
          status: "succeeded",
          finishedAt: new Date(),
          leaseExpiresAt: null,
          result,
          error: null,
        },
      });
      await notifyJobEvent(tx, { type: "run.finished", jobId: run.jobId, runId });
      return "succeeded";
    }
    if (outcome.retryable && run.attempt < run.maxAttempts) {
      const delay = retryDelayMs(run.attempt + 1, retryBaseMs);
      await tx.$executeRaw`
        UPDATE job_run SET status = 'queued', attempt = attempt + 1, "leaseExpiresAt" = NULL,
               "availableAt" = now() + ${delay} * interval '1 millisecond', error = ${outcome.error}
         WHERE id = ${runId}::uuid`;
      await tx.jobRunLog.create({
        data: {
          runId,
          stream: "warn",
          line: `Attempt ${run.attempt} of ${run.maxAttempts} failed: ${outcome.error} Retrying in ${Math.round(delay / 1000)} s.`,
        },
      });
      return "retrying";
    }
    await tx.jobRun.update({
      where: { id: runId },
      data: {
        status: "failed",
        finishedAt: new Date(),
        leaseExpiresAt: null,
        error: outcome.error,
        ...(result !== undefined ? { result } : {}),
      },
    });
    await notifyJobEvent(tx, { type: "run.finished", jobId: run.jobId, runId });
    await publishRunFailed(tx, runId, outcome.error);
    return "failed";
  });
}

/** The webhook notification for a run that ended failed (no attempts left), in its transaction. */
async function publishRunFailed(tx: Tx, runId: string, error: string): Promise<void> {
  const rows = await tx.$queryRaw<
    { jobId: string; job: string; model: string; attempt: number; trigger: string }[]
  >`
    SELECT j.id::text AS "jobId", j.name AS job, m.name AS model, r.attempt, r.trigger::text AS trigger
      FROM job_run r JOIN refresh_job j ON j.id = r."jobId" JOIN model m ON m.id = j."modelId"
     WHERE r.id = ${runId}::uuid`;
  const run = rows[0];
  if (run) await publishEvent(tx, { type: "job.failed", payload: { runId, ...run, error } });
}

function toJson(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  return JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
}

/**
 * Any live scheduler calls this periodically: a running run whose lease ran out belongs to a
 * process that died (or lost the database for longer than the lease). It is failed with an
 * explanation, or re-queued if its action allows another attempt. Returns what it changed.
 */
export async function failExpiredLeases(
  db: PrismaClient,
  retryBaseMs: number,
): Promise<{ runId: string; endedAs: "failed" | "retrying" }[]> {
  return db.$transaction(async (tx) => {
    const expired = await tx.$queryRaw<
      {
        id: string;
        jobId: string;
        instanceId: string | null;
        heartbeatAt: Date | null;
        leaseExpiresAt: Date;
        attempt: number;
        maxAttempts: number;
      }[]
    >`
      SELECT id::text AS id, "jobId"::text AS "jobId", "instanceId", "heartbeatAt", "leaseExpiresAt",
             attempt, "maxAttempts"
        FROM job_run
       WHERE status = 'running' AND "leaseExpiresAt" < now()
       ORDER BY "leaseExpiresAt"
       LIMIT 100
       FOR UPDATE SKIP LOCKED`;
    const changed: { runId: string; endedAs: "failed" | "retrying" }[] = [];
    for (const run of expired) {
      const error =
        `The scheduler running this run (${run.instanceId ?? "unknown"}) stopped renewing its lease: ` +
        `last heartbeat ${run.heartbeatAt?.toISOString() ?? "never"}, lease expired ${run.leaseExpiresAt.toISOString()}. ` +
        `The process probably died; whatever the run had not finished was not applied.`;
      const retry = run.attempt < run.maxAttempts;
      if (retry) {
        const delay = retryDelayMs(run.attempt + 1, retryBaseMs);
        await tx.$executeRaw`
          UPDATE job_run SET status = 'queued', attempt = attempt + 1, "leaseExpiresAt" = NULL,
                 "availableAt" = now() + ${delay} * interval '1 millisecond', error = ${error}
           WHERE id = ${run.id}::uuid`;
      } else {
        await tx.$executeRaw`
          UPDATE job_run SET status = 'failed', "finishedAt" = now(), "leaseExpiresAt" = NULL,
                 error = ${error}
           WHERE id = ${run.id}::uuid`;
        await notifyJobEvent(tx, { type: "run.finished", jobId: run.jobId, runId: run.id });
        await publishRunFailed(tx, run.id, error);
      }
      await tx.jobRunLog.create({
        data: {
          runId: run.id,
          stream: "error",
          line: retry
            ? `${error} Retrying (attempt ${run.attempt + 1} of ${run.maxAttempts}).`
            : error,
        },
      });
      changed.push({ runId: run.id, endedAs: retry ? "retrying" : "failed" });
    }
    return changed;
  });
}

export type LogLine = { stream: string; line: string; at?: Date };

export const MAX_LOG_LINE_CHARS = 8_000;

export async function appendRunLog(
  db: PrismaClient,
  runId: string,
  lines: LogLine[],
): Promise<void> {
  if (lines.length === 0) return;
  await db.jobRunLog.createMany({
    data: lines.map((l) => ({
      runId,
      stream: l.stream,
      line: l.line.length > MAX_LOG_LINE_CHARS ? `${l.line.slice(0, MAX_LOG_LINE_CHARS)}…` : l.line,
      ...(l.at ? { at: l.at } : {}),
    })),
  });
}
