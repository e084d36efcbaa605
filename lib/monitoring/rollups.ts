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
 * `now` stands in for records without their own time.
 */
export function rollupDeltas(records: Iterable<RolledUpRequest>, now = new Date()): RollupDelta[] {
  const fold = new RollupFold();
  const nowMs = now.getTime();
  for (const r of records)
    fold.add(
      r.modelId,
      r.versionId ?? null,
      r.version ?? 0,
      r.at ? r.at.getTime() : nowMs,
      r.status,
      r.rows ?? 1,
      r.latencyMs,
    );
  return fold.deltas();
}

/**
 * Folds requests one at a time into per-(model, version, minute) deltas: the one place the
 * rollup rule lives (`rollupDeltas` over records, the prediction log over its columns).
 *
 * Runs for every logged request, so it is kept cheap (a few hundred ns per request):
 * consecutive requests of one key (the usual case: one model, one version, this minute) reuse
 * the previous delta, and keys are built from numbers rather than formatted dates.
 */
export class RollupFold {
  private readonly byKey = new Map<string, RollupDelta>();
  private last: RollupDelta | null = null;
  private lastModel = "";
  private lastVersion = -1;
  private lastMinuteMs = -1;

  /** `rows`: rows the request predicted (counted only when it succeeded). */
  add(
    modelId: string,
    versionId: string | null,
    version: number,
    atMs: number,
    status: number,
    rows: number,
    latencyMs: number,
  ): void {
    const minuteMs = Math.floor(atMs / MINUTE_MS) * MINUTE_MS;
    let d = this.last;
    if (
      !d ||
      modelId !== this.lastModel ||
      version !== this.lastVersion ||
      minuteMs !== this.lastMinuteMs
    ) {
      const key = `${modelId}|${version}|${minuteMs}`;
      d = this.byKey.get(key) ?? null;
      if (!d) {
        d = {
          modelId,
          version,
          versionId,
          minute: new Date(minuteMs),
          requests: 0,
          errors: 0,
          clientErrors: 0,
          rows: 0,
          latencySumMs: 0,
          latencyMaxMs: 0,
          latencyBuckets: emptyCounts(),
        };
        this.byKey.set(key, d);
      }
      this.last = d;
      this.lastModel = modelId;
      this.lastVersion = version;
      this.lastMinuteMs = minuteMs;
    }
    d.requests++;
    if (status >= 500) d.errors++;
    else if (status >= 400) d.clientErrors++;
    else d.rows += rows;
    const latency = Number.isFinite(latencyMs) && latencyMs > 0 ? latencyMs : 0;
    d.latencySumMs += latency;
    if (latency > d.latencyMaxMs) d.latencyMaxMs = latency;
    d.latencyBuckets[latencyBucketOf(latency)]!++;
  }

  /** The deltas so far, sorted by (model, version, minute). */
  deltas(): RollupDelta[] {
    return [...this.byKey.values()].sort(
      (a, b) =>
        (a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : 0) ||
        a.version - b.version ||
        a.minute.getTime() - b.minute.getTime(),
    );
  }
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
