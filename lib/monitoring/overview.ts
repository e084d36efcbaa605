import type { PrismaClient } from "../db/generated/client";
import { addCounts, emptyCounts, quantileOfCounts } from "./histogram";
import { autoStepSeconds } from "./steps";

/**
 * The Monitoring page: every model with traffic in a range, one line each — a throughput
 * sparkline, p95 latency (from the versions' histograms merged), client errors (4xx) and
 * server errors (5xx) apart, live accuracy or MAE, and the versions that served. Two grouped
 * queries over metric_rollup, whatever the number of models; the raw prediction log is never
 * read. A model's figures include the requests no version answered (an unknown alias or
 * version number; rollup version 0): they were addressed to the model all the same.
 */
export type ModelOverview = {
  modelId: string;
  model: string;
  task: "classification" | "regression" | "other";
  requests: number;
  /** Average requests per second over the range. */
  throughput: number;
  /** Answers with status 400–499, and their share of the requests. */
  clientErrors: number;
  clientErrorRate: number;
  /** Answers with status ≥ 500, and their share of the requests. */
  serverErrors: number;
  serverErrorRate: number;
  latencyP95Ms: number | null;
  labelled: number;
  accuracy: number | null;
  mae: number | null;
  /** Versions with traffic in range, ascending, with their share of the model's requests. */
  versions: { version: number; requests: number; share: number }[];
  /** Requests no version answered (an unknown alias or version number: 404). */
  unresolvedRequests: number;
  /** Aliases now pointing at a version, by alias. */
  aliases: Record<string, number>;
  /** Requests per second per bucket of `stepSeconds`; null where nothing was served. */
  sparkline: { time: number; throughput: number | null }[];
};

export type MonitoringOverview = {
  fromMs: number;
  toMs: number;
  stepSeconds: number;
  models: ModelOverview[];
};

type TotalsRow = {
  modelId: string;
  version: number;
  requests: number;
  errors: number;
  clientErrors: number;
  labelled: number;
  correct: number;
  absErrorSum: number;
  latencyMaxMs: number;
  latencyBuckets: (number | bigint | string)[];
};
type BucketRow = { modelId: string; bucket: number; requests: number };

/** About 60 points per sparkline: a shape, not a chart. */
const SPARKLINE_POINTS = 60;

export async function getMonitoringOverview(
  db: PrismaClient,
  range: { fromMs: number; toMs: number },
): Promise<MonitoringOverview> {
  const { fromMs, toMs } = range;
  let stepSeconds = autoStepSeconds(fromMs, toMs);
  while ((toMs - fromMs) / 1000 / stepSeconds > SPARKLINE_POINTS) stepSeconds *= 2;

  // minute is a UTC timestamp without zone: compare and extract it as UTC.
  const window = `minute >= to_timestamp($1 / 1000.0) AT TIME ZONE 'UTC'
                  AND minute < to_timestamp($2 / 1000.0) AT TIME ZONE 'UTC'`;
  const [totals, buckets] = await Promise.all([
    db.$queryRawUnsafe<TotalsRow[]>(
      `SELECT "modelId"::text AS "modelId", version,
              sum(requests)::float8 AS requests, sum(errors)::float8 AS errors,
              sum("clientErrors")::float8 AS "clientErrors", sum(labelled)::float8 AS labelled, sum(correct)::float8 AS correct,
              sum("absErrorSum") AS "absErrorSum", max("latencyMaxMs") AS "latencyMaxMs",
              modeldeck_sum_counts("latencyBuckets") AS "latencyBuckets"
         FROM metric_rollup WHERE ${window}
        GROUP BY 1, 2 ORDER BY 1, 2`,
      fromMs,
      toMs,
    ),
    db.$queryRawUnsafe<BucketRow[]>(
      `SELECT "modelId"::text AS "modelId",
              (floor(extract(epoch FROM minute) / $3) * $3 * 1000)::float8 AS bucket,
              sum(requests)::float8 AS requests
         FROM metric_rollup WHERE ${window}
        GROUP BY 1, 2 ORDER BY 1, 2`,
      fromMs,
      toMs,
      stepSeconds,
    ),
  ]);

  const byModel = new Map<string, TotalsRow[]>();
  for (const t of totals) {
    if (Number(t.requests) === 0 && Number(t.labelled) === 0) continue;
    const list = byModel.get(t.modelId) ?? [];
    list.push(t);
    byModel.set(t.modelId, list);
  }
  if (byModel.size === 0) return { fromMs, toMs, stepSeconds, models: [] };

  const models = await db.model.findMany({
    where: { id: { in: [...byModel.keys()] } },
    select: {
      id: true,
      name: true,
      task: true,
      aliases: { select: { name: true, version: { select: { version: true } } } },
    },
  });
  const sparkBuckets = new Map<string, Map<number, number>>();
  for (const b of buckets) {
    const m = sparkBuckets.get(b.modelId) ?? new Map<number, number>();
    m.set(Number(b.bucket), Number(b.requests));
    sparkBuckets.set(b.modelId, m);
  }
  const step = stepSeconds * 1000;
  const firstBucket = Math.floor(fromMs / step) * step;

  const overview = models.map((m): ModelOverview => {
    const rows = byModel.get(m.id)!;
    const counts = emptyCounts();
    let requests = 0;
    let errors = 0;
    let clientErrors = 0;
    let labelled = 0;
    let correct = 0;
    let absErrorSum = 0;
    let maxMs = 0;
    for (const r of rows) {
      requests += Number(r.requests);
      errors += Number(r.errors);
      clientErrors += Number(r.clientErrors);
      labelled += Number(r.labelled);
      correct += Number(r.correct);
      absErrorSum += Number(r.absErrorSum);
      maxMs = Math.max(maxMs, Number(r.latencyMaxMs));
      addCounts(counts, r.latencyBuckets.map(Number));
    }
    const spark = sparkBuckets.get(m.id) ?? new Map<number, number>();
    const sparkline: ModelOverview["sparkline"] = [];
    for (let t = firstBucket; t < toMs; t += step) {
      const n = spark.get(t);
      // The first and last buckets are cut by the range: divide by the part inside it.
      const seconds = (Math.min(t + step, toMs) - Math.max(t, fromMs)) / 1000;
      sparkline.push({ time: t, throughput: n === undefined ? null : n / Math.max(seconds, 1) });
    }
    return {
      modelId: m.id,
      model: m.name,
      task: m.task,
      requests,
      throughput: requests / Math.max((toMs - fromMs) / 1000, 1),
      clientErrors,
      clientErrorRate: requests > 0 ? clientErrors / requests : 0,
      serverErrors: errors,
      serverErrorRate: requests > 0 ? errors / requests : 0,
      latencyP95Ms: quantileOfCounts(counts, 0.95, maxMs || null),
      labelled,
      accuracy: m.task === "classification" && labelled > 0 ? correct / labelled : null,
      mae: m.task === "regression" && labelled > 0 ? absErrorSum / labelled : null,
      versions: rows
        .filter((r) => r.version > 0 && Number(r.requests) > 0)
        .map((r) => ({
          version: r.version,
          requests: Number(r.requests),
          share: requests > 0 ? Number(r.requests) / requests : 0,
        })),
      unresolvedRequests: rows
        .filter((r) => r.version === 0)
        .reduce((n, r) => n + Number(r.requests), 0),
      aliases: Object.fromEntries(m.aliases.map((a) => [a.name, a.version.version])),
      sparkline,
    };
  });
  overview.sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model));
  return { fromMs, toMs, stepSeconds, models: overview };
}

/** The overview of the last `windowMs` up to now (the Overview page's last hour). */
export function getRecentMonitoringOverview(
  db: PrismaClient,
  windowMs: number,
  now = Date.now(),
): Promise<MonitoringOverview> {
  return getMonitoringOverview(db, { fromMs: now - windowMs, toMs: now });
}
