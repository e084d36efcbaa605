import { describe, expect, it } from "vitest";
import fixture from "./fixtures/drift-reference.json";
import {
  binProportions,
  buildFeatureReference,
  chiSquareHomogeneity,
  chiSquareSf,
  compareFeature,
  featureKindOf,
  kolmogorovSf,
  ksTest,
  populationStabilityIndex,
  quantileEdges,
  summarizeDrift,
  MIN_SAMPLE_ROWS,
  PSI_BINS,
  PSI_EPSILON,
  KS_EXACT_MAX_CELLS,
  type FeatureDrift,
} from "./drift-stats";

/**
 * Checked against lib/monitoring/fixtures/drift-reference.json, computed independently with
 * SciPy/NumPy (see drift-reference.py). Tolerances: edges, proportions and D exactly up to
 * 1e-12 (the same float32 inputs, the same definitions); PSI and chi-square statistics
 * relative 1e-9; p-values relative 1e-6 (absolute 1e-12 for those below 1e-6, where both
 * sides only say "certainly drifted").
 */
const close = (actual: number, expected: number, rel: number, abs = 1e-12) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(abs, rel * Math.abs(expected)));
const closePValue = (actual: number, expected: number) =>
  expected < 1e-6
    ? expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-12)
    : close(actual, expected, 1e-6);

const sorted = (xs: number[]) => Float64Array.from(xs.map(Math.fround)).sort();

describe("drift statistics against SciPy (fixture)", () => {
  it("uses the fixture's constants", () => {
    expect(fixture.constants).toEqual({
      bins: PSI_BINS,
      epsilon: PSI_EPSILON,
      ksExactMaxCells: KS_EXACT_MAX_CELLS,
    });
  });

  const numeric = [...fixture.dataset.numeric, ...fixture.numeric];
  it.each(numeric.map((c) => [c.name, c] as const))(
    "numeric %s: quantile edges, bin shares, PSI, KS D and p-value",
    (_name, c) => {
      const ref = sorted(c.reference);
      const edges = quantileEdges(ref);
      expect(edges.length).toBe(c.expected.edges.length);
      edges.forEach((e, i) => close(e, c.expected.edges[i]!, 1e-12));
      const rp = binProportions(ref, edges);
      const cp = binProportions(sorted(c.current), edges);
      rp.forEach((p, i) => close(p, c.expected.referenceProportions[i]!, 0, 1e-12));
      cp.forEach((p, i) => close(p, c.expected.currentProportions[i]!, 0, 1e-12));
      close(populationStabilityIndex(rp, cp), c.expected.psi, 1e-9);

      const ks = ksTest(ref, sorted(c.current));
      expect(ks.method).toBe(c.expected.ks.method);
      close(ks.statistic, c.expected.ks.statistic, 1e-12);
      closePValue(ks.pValue, c.expected.ks.pValue);

      // compareFeature puts the same pieces together.
      const reference = buildFeatureReference("x", "numeric", c.reference);
      const drift = compareFeature(reference, c.current);
      close(drift.psi!, c.expected.psi, 1e-9);
      close(drift.referenceMean!, c.expected.referenceMean, 1e-9);
      close(drift.currentMean!, c.expected.currentMean, 1e-9);
      expect(drift.status).toBe(c.expected.psi >= 0.2 ? "drifted" : "ok");
    },
  );

  const categorical = [...fixture.dataset.categorical, ...fixture.categorical];
  it.each(categorical.map((c) => [c.name, c] as const))(
    "categorical %s: chi-square statistic, dof and p-value",
    (_name, c) => {
      const reference = buildFeatureReference("cat", "categorical", c.reference);
      const drift = compareFeature(reference, c.current);
      expect(drift.statistic).toBe("chi_square");
      expect(drift.chiSquare!.dof).toBe(c.expected.dof);
      close(drift.chiSquare!.statistic, c.expected.statistic, 1e-9);
      closePValue(drift.chiSquare!.pValue, c.expected.pValue);
      expect(drift.status).toBe(c.expected.pValue < 0.05 ? "drifted" : "ok");
    },
  );

  it.each(fixture.kolmogorovSf.map((c) => [c.x, c.sf] as const))(
    "Kolmogorov survival function at %s",
    (x, sf) => close(kolmogorovSf(x), sf, 1e-9, 1e-15),
  );

  it.each(fixture.chiSquareSf.map((c) => [c.x, c.dof, c.sf] as const))(
    "chi-square survival function at x = %s, dof = %s",
    (x, dof, sf) => close(chiSquareSf(x, dof), sf, 1e-9, 1e-15),
  );

  it("the dataset case's model score is the share of drifted features", () => {
    const d = fixture.dataset;
    const results = d.columns.map((col) => {
      const c =
        col.kind === "numeric"
          ? d.numeric.find((n) => n.name === `dataset/${col.name}`)!
          : d.categorical.find((n) => n.name === `dataset/${col.name}`)!;
      return compareFeature(
        buildFeatureReference(col.name, col.kind as "numeric" | "categorical", c.reference),
        c.current,
      );
    });
    expect(results.map((r) => r.status)).toEqual(["drifted", "ok", "drifted"]);
    expect(summarizeDrift(results).score).toBeCloseTo(d.expectedScore, 12);
  });
});

describe("drift statistics: edge cases", () => {
  it("says not enough data below the minimum sample, never a score of 0", () => {
    const reference = buildFeatureReference(
      "x",
      "numeric",
      Array.from({ length: 200 }, (_, i) => i),
    );
    const few = compareFeature(
      reference,
      Array.from({ length: MIN_SAMPLE_ROWS - 1 }, () => 1e6),
    );
    expect(few).toMatchObject({ status: "insufficient_data", score: null, psi: null, ks: null });
    const none = summarizeDrift([few]);
    expect(none).toEqual({ score: null, driftedFeatures: 0, measuredFeatures: 0, featureCount: 1 });
  });

  it("identical samples: PSI 0, D 0, p-value 1", () => {
    const xs = Array.from({ length: 120 }, (_, i) => (i * 7) % 31);
    const drift = compareFeature(buildFeatureReference("x", "numeric", xs), xs);
    expect(drift.psi).toBe(0);
    expect(drift.ks).toEqual({ statistic: 0, pValue: 1, method: "exact" });
  });

  it("keeps an evenly spaced sorted sample of large references for KS", () => {
    const xs = Array.from({ length: 12_001 }, (_, i) => 12_000 - i);
    const ref = buildFeatureReference("x", "numeric", xs);
    if (ref.kind !== "numeric") throw new Error("numeric expected");
    expect(ref.sample).toHaveLength(5_000);
    expect(ref.sample[0]).toBe(0);
    expect(ref.sample.at(-1)).toBe(12_000);
    expect(ref.count).toBe(12_001);
  });

  it("chi-square with a single category has nothing to compare", () => {
    expect(chiSquareHomogeneity([10], [20])).toEqual({ statistic: 0, dof: 0, pValue: 1 });
  });

  it("PSI clamps empty bins to epsilon instead of going infinite", () => {
    const psi = populationStabilityIndex([0.5, 0.5], [1, 0]);
    expect(Number.isFinite(psi)).toBe(true);
    close(psi, 0.5 * Math.log(2) + (PSI_EPSILON - 0.5) * Math.log(PSI_EPSILON / 0.5), 1e-12);
  });

  it("feature kinds: booleans and integers with few values are categorical", () => {
    expect(featureKindOf({ type: "boolean" })).toBe("categorical");
    expect(featureKindOf({ type: "integer", values: [0, 1, 2] })).toBe("categorical");
    expect(featureKindOf({ type: "integer" })).toBe("numeric");
    expect(featureKindOf({ type: "number", values: [0.5, 1.5] })).toBe("numeric");
  });

  it("the model score ignores features without enough data", () => {
    const f = (status: FeatureDrift["status"]) => ({ status }) as FeatureDrift;
    expect(summarizeDrift([f("drifted"), f("ok"), f("insufficient_data"), f("ok")])).toEqual({
      score: 1 / 3,
      driftedFeatures: 1,
      measuredFeatures: 3,
      featureCount: 4,
    });
  });
});
