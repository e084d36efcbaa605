import type { PrismaClient } from "../db/generated/client";
import type { SystemTask } from "../jobs/system-tasks";
import type { Logger } from "../log";
import { LATENCY_BUCKET_COUNT } from "./histogram";

/**
 * 30-minute blocks of the rollups (table metric_rollup_block): the counters of closed half
 * hours, summed from the minutes by a scheduler task, so a chart over a week reads 336 rows
 * per version instead of 10,080 (merging 65 histogram counts per row is what long ranges
 * cost; bench/charts).
 *
 * Each run recomputes, from metric_rollup, every block from a little before the watermark
 * (`rollup_compaction.compactedUntil`) up to the last closed block, then moves the
 * watermark. Readers use blocks before the watermark and minutes after it
 * (lib/monitoring/series.ts). Late prediction-log flushes into an already compacted block
 * are picked up because each run recomputes RECOMPUTE_MS before the watermark as well.
 *
 * Feedback for a prediction in a compacted block adds to the block too (feedback.ts). The
 * two never race: feedback holds a share lock on the rollup_compaction row for its whole
 * transaction, compaction an exclusive one, so a compaction reads the minutes only after
 * every feedback in flight has committed, and feedback reads the watermark only after any
 * running compaction has.
 */

export const BLOCK_SECONDS = 1800;
const BLOCK_MS = BLOCK_SECONDS * 1000;
/** A closed block waits this long for serving's last flushes before it is compacted. */
export const BLOCK_GRACE_MS = 2 * 60_000;
/** Each run recomputes this much before the watermark too (late flushes after an outage). */
export const RECOMPUTE_MS = 3 * 3600_000;
/** Blocks are recomputed a day per statement, at most this many days per run (backfill). */
const CHUNK_MS = 86_400_000;
const MAX_CHUNKS_PER_RUN = 60;

/** Times go in as epoch ms: the columns are UTC timestamps without zone. */
export const utcParam = (n: number) => `(to_timestamp($${n} / 1000.0) AT TIME ZONE 'UTC')`;

/** Element-wise sum of the minutes' histograms: one plain sum per histogram bucket. */
export const HISTOGRAM_SUMS = Array.from(
  { length: LATENCY_BUCKET_COUNT },
  (_, i) => `coalesce(sum("latencyBuckets"[${i + 1}]), 0)`,
).join(", ");

const alignDown = (ms: number) => Math.floor(ms / BLOCK_MS) * BLOCK_MS;

/** How far blocks are complete (null before the first compaction). */
export async function compactedUntil(db: Pick<PrismaClient, "rollupCompaction">) {
  const row = await db.rollupCompaction.findUnique({ where: { id: 1 } });
  return row ? row.compactedUntil.getTime() : null;
}

export async function compactRollups(
  db: PrismaClient,
  options: { now?: Date; signal?: AbortSignal; log?: Logger } = {},
): Promise<{ from: number | null; until: number; chunks: number }> {
  const target = alignDown((options.now?.getTime() ?? Date.now()) - BLOCK_GRACE_MS);
  // Null or the epoch (the row feedback creates): nothing compacted yet, start at the data.
  const stored = await compactedUntil(db);
  const watermark = stored !== null && stored > 0 ? stored : null;
  let from: number | null;
  if (watermark !== null) {
    from = Math.min(watermark, target) - RECOMPUTE_MS;
  } else {
    const [first] = await db.$queryRawUnsafe<{ ms: number | null }[]>(
      `SELECT (extract(epoch FROM min(minute)) * 1000)::float8 AS ms FROM metric_rollup`,
    );
    from = first?.ms != null ? alignDown(first.ms) : null;
  }
  let until = watermark ?? target;
  let chunks = 0;
  if (from !== null) {
    for (let a = from; a < target && chunks < MAX_CHUNKS_PER_RUN; a += CHUNK_MS) {
      if (options.signal?.aborted) break;
      const b = Math.min(a + CHUNK_MS, target);
      await db.$transaction(async (tx) => {
        await tx.rollupCompaction.upsert({
          where: { id: 1 },
          create: { id: 1, compactedUntil: new Date(watermark ?? a) },
          update: {},
        });
        await tx.$queryRawUnsafe(`SELECT 1 FROM rollup_compaction WHERE id = 1 FOR UPDATE`);
        // Blocks whose minutes are gone (retention) go too; the rest are rewritten whole.
        await tx.$executeRawUnsafe(
          `DELETE FROM metric_rollup_block WHERE start >= ${utcParam(1)} AND start < ${utcParam(2)}`,
          a,
          b,
        );
        await tx.$executeRawUnsafe(
          `INSERT INTO metric_rollup_block AS k
             ("modelId", version, start, requests, errors, "clientErrors", rows, "latencySumMs",
              "latencyMaxMs", "maxMinuteRequests", "latencyBuckets", labelled, correct,
              "absErrorSum", "sqErrorSum")
           SELECT "modelId", version,
                  date_bin('${BLOCK_SECONDS} seconds', minute, timestamp '1970-01-01'),
                  sum(requests), sum(errors), sum("clientErrors"), sum(rows), sum("latencySumMs"),
                  max("latencyMaxMs"), max(requests), ARRAY[${HISTOGRAM_SUMS}]::bigint[],
                  sum(labelled), sum(correct), sum("absErrorSum"), sum("sqErrorSum")
             FROM metric_rollup
            WHERE minute >= ${utcParam(1)} AND minute < ${utcParam(2)} AND (requests > 0 OR labelled <> 0)
            GROUP BY 1, 2, 3
           ON CONFLICT ("modelId", version, start) DO UPDATE SET
             requests = EXCLUDED.requests, errors = EXCLUDED.errors,
             "clientErrors" = EXCLUDED."clientErrors", rows = EXCLUDED.rows,
             "latencySumMs" = EXCLUDED."latencySumMs", "latencyMaxMs" = EXCLUDED."latencyMaxMs",
             "maxMinuteRequests" = EXCLUDED."maxMinuteRequests",
             "latencyBuckets" = EXCLUDED."latencyBuckets", labelled = EXCLUDED.labelled,
             correct = EXCLUDED.correct, "absErrorSum" = EXCLUDED."absErrorSum",
             "sqErrorSum" = EXCLUDED."sqErrorSum"`,
          a,
          b,
        );
        const next = new Date(Math.max(b, watermark ?? 0));
        await tx.rollupCompaction.upsert({
          where: { id: 1 },
          create: { id: 1, compactedUntil: next },
          update: { compactedUntil: next },
        });
      });
      until = Math.max(until, b);
      chunks++;
    }
  } else {
    // Nothing to compact yet: blocks are complete (empty) up to now.
    await db.rollupCompaction.upsert({
      where: { id: 1 },
      create: { id: 1, compactedUntil: new Date(target) },
      update: { compactedUntil: new Date(target) },
    });
    until = target;
  }
  return { from, until, chunks };
}

/** The scheduler's compaction task: every minute, on one replica. */
export function rollupCompactionTask(deps: { db: PrismaClient; log: Logger }): SystemTask {
  return {
    name: "rollup-blocks",
    schedule: "5 * * * * *",
    leaseMs: 10 * 60_000,
    run: async ({ at, signal }) => {
      await compactRollups(deps.db, { now: at, signal, log: deps.log });
    },
  };
}
