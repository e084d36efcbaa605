import { emptyCounts, latencyBucketOf } from "./histogram";

/**
 * Per-minute rollups of served requests (table metric_rollup). The serving process folds
 * each batch of prediction-log rows into deltas with `rollupDeltas` and writes them with
 * `upsertRollupsQuery` in the same transaction as the rows themselves, so the rollups always
 * equal the log they summarise; counters are only ever added to, so replicas writing the
 * same minute compose.
 */

/** What a rollup needs of a logged request (a PredictionRecord satisfies it). */
export type RolledUpRequest = {
  modelId: string;
  versionId?: string | null;
  version?: number | null;
  status: number;
  latencyMs: number;
  rows?: number | null;
  at?: Date;
};

export type RollupDelta = {
  modelId: string;
  version: number;
  versionId: string | null;
  minute: Date;
  requests: number;
  errors: number;
  clientErrors: number;
  rows: number;
  latencySumMs: number;
  latencyMaxMs: number;
  latencyBuckets: number[];
};

const MINUTE_MS = 60_000;

export const minuteOf = (at: Date): Date =>
  new Date(Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS);

/**
 * Deltas per (model, version, minute), sorted by that key: every writer then locks rollup
 * rows in the same order, so concurrent upserts of the same minutes cannot deadlock.
 * `now` stands in for records without their own time (as the log writes them).
 *
 * Runs on the serving event loop for every logged request, so it is kept cheap (a few
 * hundred ns per record): consecutive records of one key (the usual case: one model, one
 * version, this minute) reuse the previous delta, and keys are built from numbers rather
 * than formatted dates.
 */
export function rollupDeltas(records: Iterable<RolledUpRequest>, now = new Date()): RollupDelta[] {
  const byKey = new Map<string, RollupDelta>();
  const nowMinuteMs = minuteOf(now).getTime();
  let last: RollupDelta | null = null;
  let lastModel = "";
  let lastVersion = -1;
  let lastMinuteMs = -1;
  for (const r of records) {
    const minuteMs = r.at ? Math.floor(r.at.getTime() / MINUTE_MS) * MINUTE_MS : nowMinuteMs;
    const version = r.version ?? 0;
    let d: RollupDelta | null = last;
    if (!d || r.modelId !== lastModel || version !== lastVersion || minuteMs !== lastMinuteMs) {
      const key = `${r.modelId}|${version}|${minuteMs}`;
      d = byKey.get(key) ?? null;
      if (!d) {
        d = {
          modelId: r.modelId,
          version,
          versionId: r.versionId ?? null,
          minute: new Date(minuteMs),
          requests: 0,
          errors: 0,
          clientErrors: 0,
          rows: 0,
          latencySumMs: 0,
          latencyMaxMs: 0,
          latencyBuckets: emptyCounts(),
        };
        byKey.set(key, d);
      }
      last = d;
      lastModel = r.modelId;
      lastVersion = version;
      lastMinuteMs = minuteMs;
    }
    d.requests++;
    if (r.status >= 500) d.errors++;
    else if (r.status >= 400) d.clientErrors++;
    else d.rows += r.rows ?? 1;
    const latency = Number.isFinite(r.latencyMs) && r.latencyMs > 0 ? r.latencyMs : 0;
    d.latencySumMs += latency;
    if (latency > d.latencyMaxMs) d.latencyMaxMs = latency;
    d.latencyBuckets[latencyBucketOf(latency)]!++;
  }
  return [...byKey.values()].sort(
    (a, b) =>
      (a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : 0) ||
      a.version - b.version ||
      a.minute.getTime() - b.minute.getTime(),
  );
}

/** One INSERT … ON CONFLICT DO UPDATE adding the deltas (for node-postgres `query`). */
export function upsertRollupsQuery(deltas: RollupDelta[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const rows = deltas.map((d) => {
    const at = values.length;
    values.push(
      d.modelId,
      d.version,
      // As UTC text: node-postgres would send a Date in the process's local time, and the
      // column (like every Prisma DateTime) holds UTC without a zone.
      d.minute.toISOString(),
      d.versionId,
      d.requests,
      d.errors,
      d.clientErrors,
      d.rows,
      d.latencySumMs,
      d.latencyMaxMs,
      `{${d.latencyBuckets.join(",")}}`,
    );
    const p = (i: number) => `$${at + i}`;
    return `(${p(1)}::uuid, ${p(2)}::int, ${p(3)}::timestamp(3), ${p(4)}::uuid, ${p(5)}::bigint, ${p(6)}::bigint, ${p(7)}::bigint, ${p(8)}::bigint, ${p(9)}::float8, ${p(10)}::float8, ${p(11)}::bigint[])`;
  });
  const text = `INSERT INTO metric_rollup AS r
  ("modelId", version, minute, "versionId", requests, errors, "clientErrors", rows,
   "latencySumMs", "latencyMaxMs", "latencyBuckets")
VALUES ${rows.join(",\n       ")}
ON CONFLICT ("modelId", version, minute) DO UPDATE SET
  "versionId" = coalesce(r."versionId", EXCLUDED."versionId"),
  requests = r.requests + EXCLUDED.requests,
  errors = r.errors + EXCLUDED.errors,
  "clientErrors" = r."clientErrors" + EXCLUDED."clientErrors",
  rows = r.rows + EXCLUDED.rows,
  "latencySumMs" = r."latencySumMs" + EXCLUDED."latencySumMs",
  "latencyMaxMs" = greatest(r."latencyMaxMs", EXCLUDED."latencyMaxMs"),
  "latencyBuckets" = modeldeck_add_counts(r."latencyBuckets", EXCLUDED."latencyBuckets")`;
  return { text, values };
}
