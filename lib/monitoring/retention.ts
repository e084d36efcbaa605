import type { PrismaClient } from "../db/generated/client";
import type { SystemTask } from "../jobs/system-tasks";
import type { Logger } from "../log";
import { dropExpiredPartitions, type DropOptions } from "./partitions";

/**
 * Retention of monitoring data: raw prediction logs and their feedback are kept
 * `predictionLogDays`, the per-minute rollups (which already hold the feedback's counts) and
 * the hourly tally of pending feedback `rollupDays`. Pending feedback itself expires much
 * sooner (lib/monitoring/pending-feedback.ts). A scheduler system task runs
 * `enforceRetention` every few minutes.
 *
 * The raw log and its feedback are partitioned by day (lib/monitoring/partitions.ts): whole
 * days past the cutoff are detached and dropped (optionally exported first), in a time that
 * does not grow with their rows. Only rows in the default partitions (stragglers outside
 * every day) are deleted row by row, as below.
 *
 * Without long locks: rows go in small batches, each its own autocommitted DELETE of at
 * most `batchSize` rows found through an index (the UUIDv7 primary key of prediction_log
 * and prediction_feedback, whose ids are time-ordered, and metric_rollup's BRIN on
 * minute). A DELETE takes only row locks and the table's ROW EXCLUSIVE lock, which never
 * conflicts with serving's COPYs and upserts; each batch's transaction lasts milliseconds,
 * so nothing waits long, and a pause between batches leaves the database to the traffic.
 * A run stops after `maxBatchesPerRun` per table (the next fire goes on), so a backlog
 * after raising traffic or lowering retention drains over several runs instead of one long
 * one. Autovacuum reclaims the space as usual.
 */

export type RetentionPolicy = { predictionLogDays: number; rollupDays: number };

export type RetentionOptions = {
  now?: Date;
  /** Given: each expired day of the raw log is written to this store before it is dropped. */
  exportTo?: DropOptions["exportTo"];
  batchSize?: number;
  maxBatchesPerRun?: number;
  /** Pause between batches (ms). */
  pauseMs?: number;
  signal?: AbortSignal;
  log?: Logger;
};

export type RetentionResult = {
  /** Day partitions of prediction_log and prediction_feedback dropped whole. */
  partitionsDropped: string[];
  /** Of those, the ones written to the artifact store first. */
  partitionsExported: number;
  /** Rows deleted one by one (from the default partitions only). */
  predictionLog: number;
  feedback: number;
  rollups: number;
  blocks: number;
  /** Hours of pending-feedback outcomes (lib/monitoring/pending-feedback.ts), kept like rollups. */
  pendingTally: number;
  /** DELETE statements run (each its own short transaction). */
  batches: number;
};

const DAY_MS = 86_400_000;
/** Times go in as epoch ms: the columns are UTC timestamps without zone, whatever the session's. */
const UTC_PARAM = (n: number) => `(to_timestamp($${n} / 1000.0) AT TIME ZONE 'UTC')`;

/**
 * The smallest UUIDv7 of the millisecond `ms`: every id made before that millisecond sorts
 * below it, so "older than the cutoff" is a range of the primary key.
 */
export function uuidV7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0").slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

export async function enforceRetention(
  db: PrismaClient,
  policy: RetentionPolicy,
  options: RetentionOptions = {},
): Promise<RetentionResult> {
  const now = (options.now ?? new Date()).getTime();
  const batchSize = options.batchSize ?? 5000;
  const maxBatches = options.maxBatchesPerRun ?? 200;
  const pauseMs = options.pauseMs ?? 20;
  const logCutoff = new Date(now - policy.predictionLogDays * DAY_MS);
  const rollupCutoff = new Date(now - policy.rollupDays * DAY_MS);
  const logCutoffId = uuidV7Floor(logCutoff.getTime());

  let batches = 0;
  const drain = async (deleteBatch: () => Promise<number>): Promise<number> => {
    let total = 0;
    for (let i = 0; i < maxBatches && !options.signal?.aborted; i++) {
      const n = await deleteBatch();
      batches++;
      total += n;
      if (n < batchSize) break;
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
    return total;
  };

  const days = await dropExpiredPartitions(db, {
    now,
    retentionDays: policy.predictionLogDays,
    exportTo: options.exportTo,
    signal: options.signal,
    log: options.log,
  });

  // Stragglers in the default partitions. Both the id range (the index used) and the time
  // (what retention means) must be past the cutoff: a row whose clock disagreed slightly
  // with its id waits for a later run.
  const predictionLog = await drain(() =>
    db.$executeRawUnsafe(
      `DELETE FROM prediction_log_default WHERE "requestId" = ANY(ARRAY(
         SELECT "requestId" FROM prediction_log_default
          WHERE "requestId" < $1::uuid AND at < ${UTC_PARAM(2)}
          ORDER BY "requestId" LIMIT $3))`,
      logCutoffId,
      logCutoff.getTime(),
      batchSize,
    ),
  );
  const feedback = await drain(() =>
    db.$executeRawUnsafe(
      `DELETE FROM prediction_feedback_default WHERE "requestId" = ANY(ARRAY(
         SELECT "requestId" FROM prediction_feedback_default
          WHERE "requestId" < $1::uuid AND "predictedAt" < ${UTC_PARAM(2)}
          ORDER BY "requestId" LIMIT $3))`,
      logCutoffId,
      logCutoff.getTime(),
      batchSize,
    ),
  );
  // Rollup rows of old minutes are no longer updated, so their tuple ids are stable.
  const rollups = await drain(() =>
    db.$executeRawUnsafe(
      `DELETE FROM metric_rollup WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM metric_rollup WHERE minute < ${UTC_PARAM(1)} LIMIT $2))`,
      rollupCutoff.getTime(),
      batchSize,
    ),
  );
  // Their 30-minute blocks (lib/monitoring/blocks.ts) go with them.
  const blocks = await drain(() =>
    db.$executeRawUnsafe(
      `DELETE FROM metric_rollup_block WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM metric_rollup_block WHERE start < ${UTC_PARAM(1)} LIMIT $2))`,
      rollupCutoff.getTime(),
      batchSize,
    ),
  );
  const pendingTally = await drain(() =>
    db.$executeRawUnsafe(
      `DELETE FROM pending_feedback_tally WHERE hour = ANY(ARRAY(
         SELECT hour FROM pending_feedback_tally WHERE hour < ${UTC_PARAM(1)} LIMIT $2))`,
      rollupCutoff.getTime(),
      batchSize,
    ),
  );
  const result = {
    partitionsDropped: days.dropped,
    partitionsExported: days.exported.length,
    predictionLog,
    feedback,
    rollups,
    blocks,
    pendingTally,
    batches,
  };
  if (predictionLog + feedback + rollups + blocks + pendingTally > 0) {
    options.log?.info(
      { ...result, logCutoff, rollupCutoff },
      "retention deleted old monitoring data",
    );
  }
  return result;
}

/**
 * The scheduler's retention task: every 10 minutes (at second 40, away from the minute's
 * other tasks), on one replica. One run deletes at most maxBatchesPerRun × batchSize rows
 * per table, well within its lease; a backlog drains over the following runs.
 */
export function retentionTask(deps: {
  db: PrismaClient;
  log: Logger;
  policy: RetentionPolicy;
  exportTo?: RetentionOptions["exportTo"];
}): SystemTask {
  return {
    name: "monitoring-retention",
    schedule: "40 */10 * * * *",
    leaseMs: 15 * 60_000,
    run: async ({ at, signal }) => {
      await enforceRetention(deps.db, deps.policy, {
        now: at,
        signal,
        log: deps.log,
        exportTo: deps.exportTo,
      });
    },
  };
}
