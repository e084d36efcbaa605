/**
 * Generates the charts benchmark's data inside Postgres (generate_series, no rows through
 * Node): `rows` served requests of one classification model with two versions, spread
 * evenly over `days` ending at `end`, ground truth for a share of the successful ones, and
 * the per-minute rollups those rows imply, computed the way lib/monitoring/rollups.ts
 * computes them (the same histogram bounds and counters).
 *
 * Traffic shape: v1 serves alone for the first third; then v2 takes 30 % (a canary). Latency
 * is log-normal (median 4 ms for v1, 6 ms for v2) with one request in 20,000 fifty times
 * slower; 0.4 % answer 503 and 0.5 % answer 400. v1 is right on about 90 % of the labelled
 * rows, v2 on about 86 %. Request ids are UUIDv7 of the request's millisecond, as serving
 * makes them.
 */
import type pg from "pg";
import {
  LATENCY_BASE_MS,
  LATENCY_BUCKET_COUNT,
  LATENCY_GROWTH,
} from "../../lib/monitoring/histogram";

export type Generated = {
  modelId: string;
  versions: { id: string; version: number }[];
  startMs: number;
  endMs: number;
  rows: number;
};

const CHUNK = 1_000_000;

export async function generate(
  client: pg.Client,
  target: Omit<Generated, "startMs"> & { days: number; feedbackShare: number },
  progress: (message: string) => void,
): Promise<void> {
  const { modelId, versions, rows, endMs } = target;
  const spanMs = target.days * 86_400_000;
  const startMs = endMs - spanMs;
  const [v1, v2] = versions as [Generated["versions"][0], Generated["versions"][0]];
  await client.query("TRUNCATE prediction_log, prediction_feedback, metric_rollup");
  await client.query("SELECT setseed(0.42)");
  for (let lo = 0; lo < rows; lo += CHUNK) {
    const hi = Math.min(rows, lo + CHUNK) - 1;
    const t = Date.now();
    await client.query(
      `INSERT INTO prediction_log
         ("requestId", at, "modelId", model, "versionId", version, alias, status, "latencyMs",
          "queueMs", "computeMs", "batchSize", rows, predicted, error, "instanceId")
       SELECT (lpad(to_hex(ms), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
              to_timestamp(ms / 1000.0) AT TIME ZONE 'UTC',
              $1::uuid, 'bench-charts',
              CASE WHEN second THEN $3::uuid ELSE $2::uuid END,
              CASE WHEN second THEN 2 ELSE 1 END,
              'production', status,
              latency, latency * 0.2, latency * 0.6, 8,
              CASE WHEN status = 200 THEN 1 END,
              CASE WHEN status = 200 THEN '["' || cls || '"]' END,
              CASE WHEN status <> 200 THEN 'generated failure' END,
              'bench'
         FROM (
           SELECT ms, h, second,
                  CASE WHEN u2 < 0.004 THEN 503 WHEN u2 < 0.009 THEN 400 ELSE 200 END AS status,
                  CASE WHEN u5 < 0.5 THEN 'a' WHEN u5 < 0.8 THEN 'b' ELSE 'c' END AS cls,
                  exp(ln(CASE WHEN second THEN 6.0 ELSE 4.0 END)
                      + 0.45 * sqrt(-2 * ln(1 - u3)) * cos(2 * pi() * u4))
                    * CASE WHEN u6 < 0.00005 THEN 50 ELSE 1 END AS latency
             FROM (
               SELECT (${startMs}::bigint + (i * ${spanMs}::bigint) / ${rows}) AS ms,
                      md5(i::text) AS h,
                      i >= ${Math.floor(rows / 3)} AND random() < 0.3 AS second,
                      random() AS u2, random() AS u3, random() AS u4, random() AS u5, random() AS u6
                 FROM generate_series(${lo}::bigint, ${hi}::bigint) AS i
             ) g
         ) s`,
      [modelId, v1.id, v2.id],
    );
    progress(`prediction_log: ${hi + 1} rows (${((Date.now() - t) / 1000).toFixed(1)} s chunk)`);
  }

  let t = Date.now();
  await client.query(
    `INSERT INTO prediction_feedback
       ("requestId", "modelId", version, "predictedAt", kind, truth, labelled, correct,
        "receivedAt", "submittedByType", "submittedByLabel")
     SELECT "requestId", "modelId", version, at, 'label', jsonb_build_array(truth), 1,
            (truth = pred)::int, at + interval '1 hour', 'system', 'bench'
       FROM (
         SELECT "requestId", "modelId", version, at, pred,
                CASE WHEN random() < CASE version WHEN 1 THEN 0.9 ELSE 0.86 END THEN pred
                     ELSE CASE pred WHEN 'a' THEN 'b' WHEN 'b' THEN 'c' ELSE 'a' END END AS truth
           FROM (SELECT *, predicted::jsonb ->> 0 AS pred FROM prediction_log
                  WHERE status = 200 AND random() < $1) p
       ) f`,
    [target.feedbackShare],
  );
  progress(`prediction_feedback (${((Date.now() - t) / 1000).toFixed(1)} s)`);

  // The rollups: per (model, version, minute, latency bucket) first, then one dense
  // histogram per minute (one FILTER sum per bucket), as rollupDeltas + the upsert build it.
  t = Date.now();
  const bucketOf = `CASE WHEN "latencyMs" <= ${LATENCY_BASE_MS} THEN 0
    ELSE least(${LATENCY_BUCKET_COUNT - 1}, ceil(ln("latencyMs" / ${LATENCY_BASE_MS}) / ln(${LATENCY_GROWTH})))::int END`;
  const histogram = Array.from(
    { length: LATENCY_BUCKET_COUNT },
    (_, k) => `coalesce(sum(n) FILTER (WHERE b = ${k}), 0)::bigint`,
  ).join(", ");
  await client.query(
    `INSERT INTO metric_rollup
       ("modelId", version, minute, "versionId", requests, errors, "clientErrors", rows,
        "latencySumMs", "latencyMaxMs", "latencyBuckets")
     SELECT "modelId", version, minute, min("versionId"::text)::uuid, sum(n), sum(e), sum(ce), sum(r),
            sum(ls), max(lm), ARRAY[${histogram}]
       FROM (
         SELECT "modelId", version, date_trunc('minute', at) AS minute, ${bucketOf} AS b,
                min("versionId"::text) AS "versionId",
                count(*) AS n,
                count(*) FILTER (WHERE status >= 500) AS e,
                count(*) FILTER (WHERE status >= 400 AND status < 500) AS ce,
                coalesce(sum(rows) FILTER (WHERE status < 400), 0) AS r,
                sum("latencyMs") AS ls, max("latencyMs") AS lm
           FROM prediction_log GROUP BY 1, 2, 3, 4
       ) per_bucket
      GROUP BY 1, 2, 3`,
  );
  progress(`metric_rollup (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  t = Date.now();
  await client.query(
    `UPDATE metric_rollup r SET labelled = f.labelled, correct = f.correct
       FROM (SELECT "modelId", version, date_trunc('minute', "predictedAt") AS minute,
                    sum(labelled) AS labelled, sum(correct) AS correct
               FROM prediction_feedback GROUP BY 1, 2, 3) f
      WHERE r."modelId" = f."modelId" AND r.version = f.version AND r.minute = f.minute`,
  );
  progress(`feedback into metric_rollup (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  t = Date.now();
  await client.query("VACUUM ANALYZE prediction_log, prediction_feedback, metric_rollup");
  progress(`VACUUM ANALYZE (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}
