import type { PrismaClient } from "../db/generated/client";
import { currentDriftScore } from "../monitoring/drift";
import { quantileOfCounts } from "../monitoring/histogram";
import { minuteOf } from "../monitoring/rollups";
import type { AlertMetric } from "./definitions";

/**
 * The value of a rule's metric over its window ending at `now`, read from the per-minute
 * rollups (never the raw log), or null when there is no data to judge by (see the state
 * machine: no data holds the state).
 *
 * The window covers every rollup minute that overlaps (now − window, now]: the current,
 * partial minute included, so a breach shows within one evaluation, not a minute later.
 */
export type RuleScope = {
  modelId: string;
  metric: AlertMetric;
  windowSeconds: number;
  version: number | null;
  alias: string | null;
};

export type MetricReading = {
  value: number | null;
  /** The version the scope resolved to (alias → its version now); null: all versions. */
  version: number | null;
  /** Why there is no value, when there is none. */
  noData?: string;
};

type RollupSums = {
  requests: number;
  errors: number;
  clientErrors: number;
  labelled: number;
  correct: number;
  absErrorSum: number;
  latencyMaxMs: number | null;
  latencyBuckets: number[] | null;
};

async function rollupSums(
  db: PrismaClient,
  modelId: string,
  version: number | null,
  from: Date,
  to: Date,
): Promise<RollupSums> {
  const rows = await db.$queryRaw<RollupSums[]>`
    SELECT coalesce(sum(requests), 0)::float8 AS requests,
           coalesce(sum(errors), 0)::float8 AS errors,
           coalesce(sum("clientErrors"), 0)::float8 AS "clientErrors",
           coalesce(sum(labelled), 0)::float8 AS labelled,
           coalesce(sum(correct), 0)::float8 AS correct,
           coalesce(sum("absErrorSum"), 0)::float8 AS "absErrorSum",
           max("latencyMaxMs")::float8 AS "latencyMaxMs",
           modeldeck_sum_counts("latencyBuckets")::float8[] AS "latencyBuckets"
      FROM metric_rollup
     WHERE "modelId" = ${modelId}::uuid
       AND minute >= ${from} AND minute <= ${to}
       AND (${version}::int IS NULL OR version = ${version}::int)`;
  return rows[0]!;
}

/**
 * A request-outcome rate from window sums, or null without requests: 4xx for
 * client_error_rate; 5xx for server_error_rate and for error_rate, which has always meant 5xx.
 */
function errorRate(
  metric: "client_error_rate" | "server_error_rate" | "error_rate",
  s: { requests: number; errors: number; clientErrors: number },
): number | null {
  if (!(s.requests > 0)) return null;
  return (metric === "client_error_rate" ? s.clientErrors : s.errors) / s.requests;
}

async function resolveScope(
  db: PrismaClient,
  scope: RuleScope,
): Promise<{ version: number | null; noData?: string }> {
  if (scope.version != null) return { version: scope.version };
  if (!scope.alias) return { version: null };
  const alias = await db.modelAlias.findUnique({
    where: { modelId_name: { modelId: scope.modelId, name: scope.alias } },
    select: { version: { select: { version: true } } },
  });
  if (!alias) return { version: null, noData: `alias ${scope.alias} points at no version` };
  return { version: alias.version.version };
}

export async function readMetric(
  db: PrismaClient,
  scope: RuleScope,
  now: Date,
): Promise<MetricReading> {
  const resolved = await resolveScope(db, scope);
  if (resolved.noData) return { value: null, version: null, noData: resolved.noData };
  const version = resolved.version;
  const windowStart = new Date(now.getTime() - scope.windowSeconds * 1000);
  const none = (why: string): MetricReading => ({ value: null, version, noData: why });

  if (scope.metric === "failed_job_runs") {
    const [row] = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n
        FROM job_run r JOIN refresh_job j ON j.id = r."jobId"
       WHERE j."modelId" = ${scope.modelId}::uuid AND r.status = 'failed'
         AND r."finishedAt" > ${windowStart} AND r."finishedAt" <= ${now}`;
    return { value: row!.n, version: null };
  }
  if (scope.metric === "drift_score") {
    const versionId =
      version != null
        ? (
            await db.modelVersion.findUnique({
              where: { modelId_version: { modelId: scope.modelId, version } },
              select: { id: true },
            })
          )?.id
        : undefined;
    if (version != null && !versionId) return none(`version ${version} does not exist`);
    const drift = await currentDriftScore(db, {
      modelId: scope.modelId,
      versionId,
      windowMs: scope.windowSeconds * 1000,
      now,
    });
    return drift.score === null
      ? none(drift.problem ?? "not enough sampled inputs in the window")
      : { value: drift.score, version };
  }

  const from = minuteOf(windowStart);
  const s = await rollupSums(db, scope.modelId, version, from, now);
  switch (scope.metric) {
    case "throughput": {
      // No rollup rows means no requests: throughput 0 is data (traffic stopped).
      const spanSeconds = Math.max(1, (now.getTime() - from.getTime()) / 1000);
      return { value: s.requests / spanSeconds, version };
    }
    case "client_error_rate":
    case "server_error_rate":
    case "error_rate": {
      const value = errorRate(scope.metric, s);
      return value === null ? none("no requests in the window") : { value, version };
    }
    case "latency_p95":
    case "latency_p99": {
      const q = scope.metric === "latency_p95" ? 0.95 : 0.99;
      const value = s.latencyBuckets ? quantileOfCounts(s.latencyBuckets, q, s.latencyMaxMs) : null;
      return value === null ? none("no requests in the window") : { value, version };
    }
    case "live_accuracy":
      return s.labelled > 0
        ? { value: s.correct / s.labelled, version }
        : none("no feedback for predictions in the window");
    case "live_mae":
      return s.labelled > 0
        ? { value: s.absErrorSum / s.labelled, version }
        : none("no feedback for predictions in the window");
  }
}
