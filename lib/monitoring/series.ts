import { ApiError, notFound } from "../api/errors";
import type { PrismaClient } from "../db/generated/client";
import { defaultGate, type GateDirection } from "../evaluation/gate";
import { METRICS, metricValue, type MetricName, type QualityMetrics } from "../evaluation/metrics";
import { isValidModelName } from "../registry/names";
import { BLOCK_SECONDS, compactedUntil, HISTOGRAM_SUMS, utcParam } from "./blocks";
import { addCounts, emptyCounts, quantileOfCounts } from "./histogram";
import {
  autoStepSeconds,
  DEFAULT_RANGE_MS,
  formatStep,
  MAX_RANGE_DAYS,
  parseStepSeconds,
  stepProblem,
} from "./steps";

/**
 * The metrics series the charts draw (GET /api/v1/models/{name}/metrics): the per-minute
 * rollups merged into buckets of one step, per version. Counts add up; latency percentiles
 * come from the merged histograms (quantileOfCounts, the one reader of them); each bucket
 * keeps its slowest request and its busiest minute, so a spike survives any step. A bucket
 * without traffic is absent (a gap), never a zero.
 *
 * Failed requests count apart: client errors (4xx: the request was wrong) and server errors
 * (5xx: serving failed). Requests serving answered before it knew a version (an unknown alias
 * or version number: rollup version 0) belong to no version; they are the `unresolved` part.
 *
 * The heavy lifting is one grouped query over metric_rollup's primary key (modelId,
 * version, minute); the raw prediction log is never read here.
 */

export type MetricsQuery = { from?: string; to?: string; step?: string; version?: string };

export type MetricsPoint = {
  time: number;
  start: string;
  requests: number;
  /** Answers with status ≥ 500 (server errors). */
  errors: number;
  /** Answers with status 400–499 (client errors). */
  clientErrors: number;
  rows: number;
  throughput: number;
  maxThroughput: number;
  clientErrorRate: number;
  serverErrorRate: number;
  /** Same as serverErrorRate (what "error rate" always meant here); kept for API clients. */
  errorRate: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  latencyMeanMs: number | null;
  latencyMaxMs: number | null;
  trafficShare: number;
  labelled: number;
  accuracy: number | null;
  mae: number | null;
  rmse: number | null;
};
export type MetricsSummary = Omit<MetricsPoint, "time" | "start">;

export type EvaluationMark = {
  evaluationId: string;
  finishedAt: string;
  dataset: string;
  datasetVersion: number;
  rows: number | null;
  metric: keyof typeof METRICS;
  metricLabel: string;
  direction: "higher" | "lower";
  value: number | null;
  accuracy: number | null;
  mae: number | null;
  rmse: number | null;
};

export type VersionSeries = {
  version: number;
  versionId: string;
  aliases: string[];
  evaluation: EvaluationMark | null;
  summary: MetricsSummary | null;
  points: MetricsPoint[];
};

/** Counts and rates of answered requests, apart by outcome. */
export type RequestOutcomes = {
  requests: number;
  clientErrors: number;
  errors: number;
  clientErrorRate: number;
  serverErrorRate: number;
};

/** Requests for the model that no version answered (unknown alias or version number). */
export type UnresolvedSeries = {
  summary: RequestOutcomes;
  points: Array<RequestOutcomes & { time: number; start: string }>;
};

export type MetricsSeries = {
  model: string;
  task: "classification" | "regression" | "other";
  from: string;
  to: string;
  step: number;
  stepLabel: string;
  versions: VersionSeries[];
  /** Null when every request in range named a version that answered. */
  unresolved: UnresolvedSeries | null;
};

/** One bucket of one version as the query returns it (sums over its minutes). */
type BucketRow = {
  version: number;
  /** Bucket start, ms since the epoch. */
  bucket: number;
  requests: number;
  errors: number;
  clientErrors: number;
  rows: number;
  latencySumMs: number;
  latencyMaxMs: number;
  maxMinuteRequests: number;
  labelled: number;
  correct: number;
  absErrorSum: number;
  sqErrorSum: number;
  latencyBuckets: number[] | null;
};

const MINUTE_MS = 60_000;
const BLOCK_MS = BLOCK_SECONDS * 1000;

function invalid(field: string, message: string): ApiError {
  return new ApiError("validation_failed", `Invalid request: ${field} ${message}.`, {
    fields: [{ field, message }],
  });
}

function parseTime(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw invalid(field, "is not a valid time");
  return ms;
}

/** The range and step a query asks for, checked (400 naming the field when wrong). */
export function resolveRange(
  query: MetricsQuery,
  now = Date.now(),
): { fromMs: number; toMs: number; stepSeconds: number } {
  const toMs = parseTime(query.to, "query.to") ?? now;
  const fromMs = parseTime(query.from, "query.from") ?? toMs - DEFAULT_RANGE_MS;
  if (!(fromMs < toMs)) throw invalid("query.from", "must be before to");
  if (toMs - fromMs > MAX_RANGE_DAYS * 86_400_000) {
    throw invalid("query.from", `must be at most ${MAX_RANGE_DAYS} days before to`);
  }
  let stepSeconds: number;
  if (query.step === undefined) {
    stepSeconds = autoStepSeconds(fromMs, toMs);
  } else {
    const parsed = parseStepSeconds(query.step);
    if (parsed === null) throw invalid("query.step", 'must be a duration such as "5m" or "1h"');
    const problem = stepProblem(parsed, fromMs, toMs);
    if (problem) throw invalid("query.step", problem);
    stepSeconds = parsed;
  }
  return { fromMs, toMs, stepSeconds };
}

function parseVersions(text: string | undefined): number[] | null {
  if (text === undefined) return null;
  return [...new Set(text.split(",").map(Number))].sort((a, b) => a - b);
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

function outcomes(b: { requests: number; clientErrors: number; errors: number }): RequestOutcomes {
  return {
    requests: b.requests,
    clientErrors: b.clientErrors,
    errors: b.errors,
    clientErrorRate: ratio(b.clientErrors, b.requests) ?? 0,
    serverErrorRate: ratio(b.errors, b.requests) ?? 0,
  };
}

/** A point's (or summary's) figures from summed counters and a merged histogram. */
function figures(
  b: Omit<BucketRow, "version" | "bucket" | "latencyBuckets">,
  counts: ArrayLike<number | bigint>,
  seconds: number,
  allRequests: number,
  task: MetricsSeries["task"],
): MetricsSummary {
  const hasLatency = b.requests > 0;
  const maxMs = hasLatency ? b.latencyMaxMs : null;
  const counted = outcomes(b);
  return {
    ...counted,
    rows: b.rows,
    throughput: seconds > 0 ? b.requests / seconds : 0,
    maxThroughput: b.maxMinuteRequests / 60,
    errorRate: counted.serverErrorRate,
    latencyP50Ms: hasLatency ? quantileOfCounts(counts, 0.5, maxMs) : null,
    latencyP95Ms: hasLatency ? quantileOfCounts(counts, 0.95, maxMs) : null,
    latencyP99Ms: hasLatency ? quantileOfCounts(counts, 0.99, maxMs) : null,
    latencyMeanMs: hasLatency ? b.latencySumMs / b.requests : null,
    latencyMaxMs: maxMs,
    trafficShare: ratio(b.requests, allRequests) ?? 0,
    labelled: b.labelled,
    accuracy: task === "classification" ? ratio(b.correct, b.labelled) : null,
    mae: task === "regression" ? ratio(b.absErrorSum, b.labelled) : null,
    rmse: task === "regression" && b.labelled > 0 ? Math.sqrt(b.sqErrorSum / b.labelled) : null,
  };
}

const BUCKET = (step: number, column: string) =>
  `(extract(epoch FROM date_bin('${step} seconds', ${column}, timestamp '1970-01-01')) * 1000)::float8`;

/**
 * The per-(version, bucket) sums of a model's rollups in [fromMs, toMs), version 0 (requests
 * no version answered) included: request and latency
 * counters from the 30-minute blocks where they are complete and the step is whole blocks,
 * from the minutes elsewhere. The two parts run concurrently and are added up per bucket.
 */
export async function readRollupBuckets(
  db: PrismaClient,
  modelId: string,
  fromMs: number,
  toMs: number,
  stepSeconds: number,
  /** rollup_compaction.compactedUntil, when the caller has read it already. */
  compacted?: number | null,
): Promise<BucketRow[]> {
  const watermark =
    stepSeconds % BLOCK_SECONDS === 0
      ? compacted !== undefined
        ? compacted
        : await compactedUntil(db)
      : null;
  const blocksUntil =
    watermark === null
      ? fromMs
      : Math.max(fromMs, Math.min(watermark, Math.floor(toMs / BLOCK_MS) * BLOCK_MS));
  const counters = (table: "metric_rollup" | "metric_rollup_block", a: number, b: number) => {
    const time = table === "metric_rollup" ? "minute" : "start";
    const maxMinute = table === "metric_rollup" ? "max(requests)" : `max("maxMinuteRequests")`;
    return db.$queryRawUnsafe<BucketRow[]>(
      `SELECT version, ${BUCKET(stepSeconds, time)} AS bucket,
              sum(requests)::float8 AS requests, sum(errors)::float8 AS errors,
              sum("clientErrors")::float8 AS "clientErrors", sum(rows)::float8 AS rows,
              sum("latencySumMs") AS "latencySumMs", max("latencyMaxMs") AS "latencyMaxMs",
              ${maxMinute}::float8 AS "maxMinuteRequests",
              sum(labelled)::float8 AS labelled, sum(correct)::float8 AS correct,
              sum("absErrorSum") AS "absErrorSum", sum("sqErrorSum") AS "sqErrorSum",
              ARRAY[${HISTOGRAM_SUMS}]::float8[] AS "latencyBuckets"
         FROM ${table}
        WHERE "modelId" = $1::uuid
          AND ${time} >= ${utcParam(2)} AND ${time} < ${utcParam(3)}
        GROUP BY 1, 2`,
      modelId,
      a,
      b,
    );
  };
  const parts = await Promise.all([
    blocksUntil > fromMs ? counters("metric_rollup_block", fromMs, blocksUntil) : [],
    blocksUntil < toMs ? counters("metric_rollup", blocksUntil, toMs) : [],
  ]);
  const merged = new Map<string, BucketRow>();
  for (const row of parts.flat() as Array<
    Partial<BucketRow> & { version: number; bucket: number }
  >) {
    const key = `${row.version}|${row.bucket}`;
    let into = merged.get(key);
    if (!into) {
      into = {
        version: row.version,
        bucket: row.bucket,
        requests: 0,
        errors: 0,
        clientErrors: 0,
        rows: 0,
        latencySumMs: 0,
        latencyMaxMs: 0,
        maxMinuteRequests: 0,
        labelled: 0,
        correct: 0,
        absErrorSum: 0,
        sqErrorSum: 0,
        latencyBuckets: null,
      };
      merged.set(key, into);
    }
    into.requests += row.requests ?? 0;
    into.errors += row.errors ?? 0;
    into.clientErrors += row.clientErrors ?? 0;
    into.rows += row.rows ?? 0;
    into.latencySumMs += row.latencySumMs ?? 0;
    into.latencyMaxMs = Math.max(into.latencyMaxMs, row.latencyMaxMs ?? 0);
    into.maxMinuteRequests = Math.max(into.maxMinuteRequests, row.maxMinuteRequests ?? 0);
    into.labelled += row.labelled ?? 0;
    into.correct += row.correct ?? 0;
    into.absErrorSum += row.absErrorSum ?? 0;
    into.sqErrorSum += row.sqErrorSum ?? 0;
    if (row.latencyBuckets) {
      into.latencyBuckets = addCounts(into.latencyBuckets ?? emptyCounts(), row.latencyBuckets);
    }
  }
  return [...merged.values()].sort((a, b) => a.version - b.version || a.bucket - b.bucket);
}

export async function getModelMetrics(
  db: PrismaClient,
  modelName: string,
  query: MetricsQuery,
  now = Date.now(),
): Promise<MetricsSeries> {
  // One round trip for the model (with its gate) and the blocks' watermark, one for the rest.
  const [model, compacted] = await Promise.all([
    isValidModelName(modelName)
      ? db.model.findUnique({
          where: { name: modelName },
          select: {
            id: true,
            name: true,
            task: true,
            versions: { select: { id: true, version: true }, orderBy: { version: "asc" } },
            aliases: { select: { name: true, version: { select: { version: true } } } },
            gate: { select: { primaryMetric: true, direction: true } },
          },
        })
      : null,
    compactedUntil(db),
  ]);
  if (!model) throw notFound(`Model ${JSON.stringify(modelName)}`);
  const { fromMs: askedFrom, toMs, stepSeconds } = resolveRange(query, now);
  const asked = parseVersions(query.version);
  const known = new Map(model.versions.map((v) => [v.version, v.id]));
  const missing = asked?.filter((v) => !known.has(v)) ?? [];
  if (missing.length) {
    throw notFound(`Version ${missing.join(", ")} of model ${JSON.stringify(model.name)}`);
  }
  const stepMs = stepSeconds * 1000;
  const fromMs = Math.floor(askedFrom / stepMs) * stepMs;
  // Only whole minutes exist in the rollups: the range's end is the minute it falls in.
  const endMs = Math.ceil(toMs / MINUTE_MS) * MINUTE_MS;
  const task = model.task as MetricsSeries["task"];

  const [rows, evaluations] = await Promise.all([
    readRollupBuckets(db, model.id, fromMs, endMs, stepSeconds, compacted),
    latestEvaluations(
      db,
      model.id,
      model.gate
        ? {
            primaryMetric: model.gate.primaryMetric as MetricName,
            direction: model.gate.direction as GateDirection,
          }
        : defaultGate(task),
    ),
  ]);

  // Every version's traffic counts in the shares, whichever versions were asked for; requests
  // no version answered (version 0) are no version's share.
  const allByBucket = new Map<number, number>();
  let allRequests = 0;
  for (const r of rows) {
    if (r.version === 0) continue;
    allByBucket.set(r.bucket, (allByBucket.get(r.bucket) ?? 0) + r.requests);
    allRequests += r.requests;
  }
  const byVersion = new Map<number, BucketRow[]>();
  for (const r of rows) {
    const list = byVersion.get(r.version) ?? [];
    list.push(r);
    byVersion.set(r.version, list);
  }
  const aliasesOf = new Map<number, string[]>();
  for (const a of model.aliases) {
    aliasesOf.set(a.version.version, [...(aliasesOf.get(a.version.version) ?? []), a.name]);
  }
  const chosen = asked ?? [...known.keys()].filter((v) => byVersion.has(v) || aliasesOf.has(v));

  const versions = chosen.map((version): VersionSeries => {
    const buckets = byVersion.get(version) ?? [];
    const total = {
      requests: 0,
      errors: 0,
      clientErrors: 0,
      rows: 0,
      latencySumMs: 0,
      latencyMaxMs: 0,
      maxMinuteRequests: 0,
      labelled: 0,
      correct: 0,
      absErrorSum: 0,
      sqErrorSum: 0,
    };
    const merged = emptyCounts();
    const points: MetricsPoint[] = [];
    for (const b of buckets) {
      if (b.requests === 0 && b.labelled === 0) continue;
      const counts = b.latencyBuckets ?? [];
      const seconds = (Math.min(b.bucket + stepMs, endMs) - b.bucket) / 1000;
      const time = b.bucket;
      points.push({
        time,
        start: new Date(time).toISOString(),
        ...figures(b, counts, seconds, allByBucket.get(b.bucket) ?? 0, task),
      });
      for (const k of Object.keys(total) as Array<keyof typeof total>) {
        total[k] =
          k === "latencyMaxMs" || k === "maxMinuteRequests"
            ? Math.max(total[k], b[k])
            : total[k] + b[k];
      }
      addCounts(merged, counts);
    }
    return {
      version,
      versionId: known.get(version)!,
      aliases: (aliasesOf.get(version) ?? []).sort(),
      evaluation: evaluations.get(version) ?? null,
      summary: points.length
        ? figures(total, merged, (endMs - fromMs) / 1000, allRequests, task)
        : null,
      points,
    };
  });

  return {
    model: model.name,
    task,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    step: stepSeconds,
    stepLabel: formatStep(stepSeconds),
    versions,
    // Only for the whole model: a version filter asks for those versions alone.
    unresolved: asked ? null : unresolvedSeries(byVersion.get(0) ?? []),
  };
}

/** The requests of rollup version 0 (answered before a version was known), per bucket. */
function unresolvedSeries(buckets: BucketRow[]): UnresolvedSeries | null {
  const total = { requests: 0, clientErrors: 0, errors: 0 };
  const points: UnresolvedSeries["points"] = [];
  for (const b of buckets) {
    if (b.requests === 0) continue;
    points.push({ time: b.bucket, start: new Date(b.bucket).toISOString(), ...outcomes(b) });
    total.requests += b.requests;
    total.clientErrors += b.clientErrors;
    total.errors += b.errors;
  }
  return points.length ? { summary: outcomes(total), points } : null;
}

/** Each version's latest succeeded evaluation, as the overlay shows it. */
async function latestEvaluations(
  db: PrismaClient,
  modelId: string,
  gate: { primaryMetric: MetricName; direction: GateDirection },
): Promise<Map<number, EvaluationMark>> {
  const [rows] = await Promise.all([
    db.evaluation.findMany({
      where: { modelId, status: "succeeded" },
      orderBy: [{ versionId: "asc" }, { finishedAt: "desc" }],
      distinct: ["versionId"],
      select: {
        id: true,
        finishedAt: true,
        rowCount: true,
        metrics: true,
        version: { select: { version: true } },
        datasetVersion: { select: { version: true, dataset: { select: { name: true } } } },
      },
    }),
  ]);
  const marks = new Map<number, EvaluationMark>();
  for (const e of rows) {
    const metrics = e.metrics as QualityMetrics | null;
    marks.set(e.version.version, {
      evaluationId: e.id,
      finishedAt: (e.finishedAt ?? new Date(0)).toISOString(),
      dataset: e.datasetVersion.dataset.name,
      datasetVersion: e.datasetVersion.version,
      rows: e.rowCount,
      metric: gate.primaryMetric,
      metricLabel: METRICS[gate.primaryMetric].label,
      direction: gate.direction,
      value: metricValue(metrics, gate.primaryMetric),
      accuracy: metricValue(metrics, "accuracy"),
      mae: metricValue(metrics, "mae"),
      rmse: metricValue(metrics, "rmse"),
    });
  }
  return marks;
}
