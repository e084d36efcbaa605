import { describe, expect, it } from "vitest";
import {
  MAX_HISTORY_SERIES,
  MAX_LABELLED_VERSIONS,
  shapeMetricHistory,
  type HistoryEvaluation,
} from "./history";
import type { QualityMetrics } from "./metrics";

const accuracyGate = { primaryMetric: "accuracy", direction: "higher" } as const;
const t0 = Date.parse("2026-12-01T10:00:00Z");

function classification(accuracy: number, rocAuc: number | null = null): QualityMetrics {
  return {
    kind: "classification",
    rows: 150,
    accuracy,
    precisionMacro: accuracy,
    recallMacro: accuracy,
    f1Macro: accuracy,
    perClass: [],
    confusionMatrix: { labels: [], matrix: [] },
    logLoss: null,
    rocAuc,
  };
}

let n = 0;
function evaluation(
  version: number,
  minutes: number,
  accuracy: number,
  dataset = "iris",
  datasetVersion = 1,
): HistoryEvaluation {
  return {
    id: `e${++n}`,
    version,
    dataset,
    datasetVersion,
    finishedAt: new Date(t0 + minutes * 60_000),
    rowCount: 150,
    metrics: classification(accuracy),
  };
}

describe("shapeMetricHistory", () => {
  it("no evaluations: no series, the gate's metric and direction still named", () => {
    const h = shapeMetricHistory({ primaryMetric: "rmse", direction: "lower" }, null, []);
    expect(h).toEqual({
      metric: "rmse",
      metricLabel: "RMSE",
      direction: "lower",
      productionVersion: null,
      series: [],
      versions: [],
      omittedSeries: 0,
      withoutValue: 0,
    });
  });

  it("one point: one series with the version labelled and marked as production", () => {
    const h = shapeMetricHistory(accuracyGate, 1, [evaluation(1, 0, 0.9)]);
    expect(h.series).toHaveLength(1);
    expect(h.series[0]!.label).toBe("iris v1");
    expect(h.series[0]!.points).toEqual([
      expect.objectContaining({
        version: 1,
        value: 0.9,
        time: t0,
        finishedAt: "2026-12-01T10:00:00.000Z",
        isProduction: true,
        labelled: true,
      }),
    ]);
    expect(h.versions).toEqual([1]);
  });

  it("one series per dataset version, points oldest first, series most recent first", () => {
    // Listed newest first, as the query reads them.
    const h = shapeMetricHistory(accuracyGate, 2, [
      evaluation(2, 30, 0.96, "iris", 2),
      evaluation(2, 20, 0.95),
      evaluation(1, 10, 0.33),
      evaluation(1, 5, 0.31, "iris", 2),
    ]);
    expect(h.series.map((s) => s.key)).toEqual(["iris@2", "iris@1"]);
    expect(h.series[1]!.points.map((p) => [p.version, p.value, p.isProduction])).toEqual([
      [1, 0.33, false],
      [2, 0.95, true],
    ]);
    expect(h.versions).toEqual([1, 2]);
  });

  it("a version evaluated twice on the same data is labelled once, at its latest point", () => {
    const h = shapeMetricHistory(accuracyGate, null, [
      evaluation(3, 3, 0.8),
      evaluation(3, 1, 0.7),
      evaluation(2, 2, 0.6),
    ]);
    const points = h.series[0]!.points;
    expect(points.map((p) => [p.version, p.labelled])).toEqual([
      [3, false],
      [2, true],
      [3, true],
    ]);
  });

  it("many versions: only the oldest, newest and production versions are labelled", () => {
    const count = MAX_LABELLED_VERSIONS + 8;
    const evaluations = Array.from({ length: count }, (_, i) =>
      evaluation(i + 1, i, 0.5 + i / 100),
    );
    const h = shapeMetricHistory(accuracyGate, 7, evaluations);
    expect(h.series[0]!.points).toHaveLength(count);
    expect(h.series[0]!.points.filter((p) => p.labelled).map((p) => p.version)).toEqual([
      1,
      7,
      count,
    ]);
    expect(h.versions).toHaveLength(count);
  });

  it("a metric the evaluation did not compute is counted, not charted", () => {
    const h = shapeMetricHistory({ primaryMetric: "rocAuc", direction: "higher" }, null, [
      { ...evaluation(1, 0, 0.9), metrics: classification(0.9, 0.97) },
      evaluation(2, 1, 0.9), // rocAuc null: a three-class model
      { ...evaluation(3, 2, 0.9), metrics: null },
    ]);
    expect(h.series[0]!.points.map((p) => [p.version, p.value])).toEqual([[1, 0.97]]);
    expect(h.withoutValue).toBe(2);
  });

  it("keeps the most recently evaluated dataset versions beyond the series limit", () => {
    const evaluations = Array.from({ length: MAX_HISTORY_SERIES + 2 }, (_, i) =>
      evaluation(1, i, 0.9, `d${i}`),
    );
    const h = shapeMetricHistory(accuracyGate, null, evaluations);
    expect(h.series).toHaveLength(MAX_HISTORY_SERIES);
    expect(h.series[0]!.dataset).toBe(`d${MAX_HISTORY_SERIES + 1}`);
    expect(h.series.map((s) => s.dataset)).not.toContain("d0");
    expect(h.omittedSeries).toBe(2);
  });
});
