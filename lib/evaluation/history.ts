import type { PrismaClient } from "../db/generated/client";
import { getModel } from "../registry";
import type { GateDirection } from "./gate";
import { getGate } from "./gates";
import { METRICS, metricValue, type MetricName, type QualityMetrics } from "./metrics";

/**
 * The model page's metric history: the gate's primary metric of every succeeded evaluation
 * over time, one series per dataset version (values measured on different data are not
 * comparable, so they never share a line). `getMetricHistory` reads it; `shapeMetricHistory`
 * is the pure part, unit-tested.
 */

/** The newest succeeded evaluations read for the chart. */
export const HISTORY_EVALUATIONS = 500;
/** Dataset versions charted at most (the most recently evaluated); one colour each. */
export const MAX_HISTORY_SERIES = 6;
/** A series with more versions than this labels only its oldest, newest and production one. */
export const MAX_LABELLED_VERSIONS = 12;

export type MetricHistoryPoint = {
  evaluationId: string;
  version: number;
  finishedAt: string;
  /** finishedAt in ms since the epoch: the chart's x. */
  time: number;
  value: number;
  rowCount: number | null;
  /** The version production points at now. */
  isProduction: boolean;
  /** Draw the version's label at this point: once per version (its latest), fewer when crowded. */
  labelled: boolean;
};

export type MetricHistorySeries = {
  /** `${dataset}@${datasetVersion}` */
  key: string;
  dataset: string;
  datasetVersion: number;
  /** "iris v1" */
  label: string;
  /** Oldest first. */
  points: MetricHistoryPoint[];
};

export type MetricHistory = {
  metric: MetricName;
  metricLabel: string;
  direction: GateDirection;
  productionVersion: number | null;
  /** The most recently evaluated dataset version first. */
  series: MetricHistorySeries[];
  /** Versions with at least one point, ascending. */
  versions: number[];
  /** Dataset versions left out beyond MAX_HISTORY_SERIES. */
  omittedSeries: number;
  /** Succeeded evaluations without a value of the metric (e.g. ROC AUC of a 3-class model). */
  withoutValue: number;
};

export type HistoryEvaluation = {
  id: string;
  version: number;
  dataset: string;
  datasetVersion: number;
  finishedAt: Date | string;
  rowCount: number | null;
  metrics: QualityMetrics | null;
};

export function shapeMetricHistory(
  gate: { primaryMetric: MetricName; direction: GateDirection },
  productionVersion: number | null,
  evaluations: HistoryEvaluation[],
): MetricHistory {
  const bySeries = new Map<string, MetricHistorySeries>();
  let withoutValue = 0;
  for (const e of evaluations) {
    const value = metricValue(e.metrics, gate.primaryMetric);
    if (value === null) {
      withoutValue++;
      continue;
    }
    const key = `${e.dataset}@${e.datasetVersion}`;
    let series = bySeries.get(key);
    if (!series) {
      series = {
        key,
        dataset: e.dataset,
        datasetVersion: e.datasetVersion,
        label: `${e.dataset} v${e.datasetVersion}`,
        points: [],
      };
      bySeries.set(key, series);
    }
    const finishedAt = new Date(e.finishedAt);
    series.points.push({
      evaluationId: e.id,
      version: e.version,
      finishedAt: finishedAt.toISOString(),
      time: finishedAt.getTime(),
      value,
      rowCount: e.rowCount,
      isProduction: e.version === productionVersion,
      labelled: false,
    });
  }
  const all = [...bySeries.values()];
  for (const s of all) {
    s.points.sort((a, b) => a.time - b.time || a.version - b.version);
    labelPoints(s.points, productionVersion);
  }
  const lastTime = (s: MetricHistorySeries) => s.points[s.points.length - 1]!.time;
  all.sort((a, b) => lastTime(b) - lastTime(a) || a.key.localeCompare(b.key));
  const series = all.slice(0, MAX_HISTORY_SERIES);
  const versions = [...new Set(series.flatMap((s) => s.points.map((p) => p.version)))].sort(
    (a, b) => a - b,
  );
  return {
    metric: gate.primaryMetric,
    metricLabel: METRICS[gate.primaryMetric].label,
    direction: gate.direction,
    productionVersion,
    series,
    versions,
    omittedSeries: all.length - series.length,
    withoutValue,
  };
}

/** Marks each version's latest point as labelled; only a few versions when there are many. */
function labelPoints(points: MetricHistoryPoint[], productionVersion: number | null) {
  const latest = new Map<number, MetricHistoryPoint>();
  for (const p of points) latest.set(p.version, p);
  let labelled = [...latest.keys()];
  if (labelled.length > MAX_LABELLED_VERSIONS) {
    const sorted = labelled.sort((a, b) => a - b);
    labelled = [sorted[0]!, sorted[sorted.length - 1]!];
    if (productionVersion !== null) labelled.push(productionVersion);
  }
  for (const v of labelled) {
    const p = latest.get(v);
    if (p) p.labelled = true;
  }
}

/** The metric history of a model's gate primary metric (404 for an unknown model). */
export async function getMetricHistory(
  db: PrismaClient,
  modelName: string,
): Promise<MetricHistory> {
  const [model, gate] = await Promise.all([getModel(db, modelName), getGate(db, modelName)]);
  const rows = await db.evaluation.findMany({
    where: { modelId: model.id, status: "succeeded", finishedAt: { not: null } },
    select: {
      id: true,
      rowCount: true,
      metrics: true,
      finishedAt: true,
      version: { select: { version: true } },
      datasetVersion: { select: { version: true, dataset: { select: { name: true } } } },
    },
    orderBy: [{ finishedAt: "desc" }, { id: "desc" }],
    take: HISTORY_EVALUATIONS,
  });
  return shapeMetricHistory(
    gate,
    model.productionVersion,
    rows.map((r) => ({
      id: r.id,
      version: r.version.version,
      dataset: r.datasetVersion.dataset.name,
      datasetVersion: r.datasetVersion.version,
      finishedAt: r.finishedAt!,
      rowCount: r.rowCount,
      metrics: r.metrics as QualityMetrics | null,
    })),
  );
}
