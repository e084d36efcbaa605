import { describe, expect, it } from "vitest";
import reference from "./fixtures/reference.json";
import {
  argmax,
  binaryRocAuc,
  classificationMetrics,
  metricValue,
  percentile,
  regressionMetrics,
} from "./metrics";

// Reference values computed with scikit-learn / numpy outside the project (see the file's
// "origin" and fixtures/make_reference.py). 1e-12 leaves room only for summation order.
const close = (actual: number | null, expected: number | null) => {
  if (expected === null) expect(actual).toBeNull();
  else expect(actual).toBeCloseTo(expected, 12);
};

describe("metrics against scikit-learn", () => {
  it("names its origin", () => {
    expect(reference.origin).toMatch(/scikit-learn \d+\.\d+/);
  });

  for (const c of reference.classification) {
    it(`classification: ${c.name}`, () => {
      const m = classificationMetrics({
        yTrue: c.input.yTrue,
        yPred: c.input.yPred,
        labels: c.input.labels,
        probabilities: c.input.probabilities,
      });
      close(m.accuracy, c.expected.accuracy);
      close(m.precisionMacro, c.expected.precisionMacro);
      close(m.recallMacro, c.expected.recallMacro);
      close(m.f1Macro, c.expected.f1Macro);
      close(m.logLoss, c.expected.logLoss);
      close(m.rocAuc, c.expected.rocAuc);
      expect(m.confusionMatrix.matrix).toEqual(c.expected.confusionMatrix);
      expect(m.confusionMatrix.labels).toEqual(c.input.labels);
      c.expected.perClass.forEach((expected, k) => {
        close(m.perClass[k]!.precision, expected.precision);
        close(m.perClass[k]!.recall, expected.recall);
        close(m.perClass[k]!.f1, expected.f1);
        expect(m.perClass[k]!.support).toBe(expected.support);
      });
      expect(m.rows).toBe(c.input.yTrue.length);
    });
  }

  for (const c of reference.regression) {
    it(`regression: ${c.name}`, () => {
      const m = regressionMetrics(c.input.yTrue, c.input.yPred);
      close(m.mae, c.expected.mae);
      close(m.mse, c.expected.mse);
      close(m.rmse, c.expected.rmse);
      close(m.r2, c.expected.r2);
    });
  }

  it("percentiles interpolate like numpy.percentile", () => {
    const sorted = reference.percentiles.input;
    for (const [p, expected] of Object.entries(reference.percentiles.expected)) {
      close(percentile(sorted, Number(p)), expected);
    }
  });
});

describe("metrics: small cases by hand", () => {
  it("a perfect binary classifier", () => {
    const m = classificationMetrics({
      yTrue: [0, 1, 1, 0],
      yPred: [0, 1, 1, 0],
      labels: ["no", "yes"],
      probabilities: [0.9, 0.1, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4],
    });
    expect(m).toMatchObject({ accuracy: 1, f1Macro: 1, rocAuc: 1 });
    expect(m.confusionMatrix.matrix).toEqual([
      [2, 0],
      [0, 2],
    ]);
    expect(m.logLoss).toBeCloseTo(
      -(Math.log(0.9) + Math.log(0.8) + Math.log(0.7) + Math.log(0.6)) / 4,
      12,
    );
  });

  it("ROC AUC is undefined with one class, and uses scores without probabilities", () => {
    expect(binaryRocAuc([1, 1], [0.2, 0.4])).toBeNull();
    const m = classificationMetrics({
      yTrue: [0, 1],
      yPred: [0, 1],
      labels: ["a", "b"],
      scores: [3, -1, -2, 5],
    });
    expect([m.rocAuc, m.logLoss]).toEqual([1, null]);
  });

  it("refuses mismatched lengths and out-of-range classes", () => {
    expect(() => classificationMetrics({ yTrue: [0], yPred: [], labels: ["a"] })).toThrow(
      /1 true labels but 0/,
    );
    expect(() => classificationMetrics({ yTrue: [0], yPred: [2], labels: ["a", "b"] })).toThrow(
      /out of range/,
    );
    expect(() => regressionMetrics([], [])).toThrow(/No rows/);
  });

  it("argmax and metricValue", () => {
    expect(argmax([0.1, 0.7, 0.2])).toBe(1);
    expect(argmax([5, 1, 2, 9, 3, 4], 3, 3)).toBe(0);
    expect(metricValue(regressionMetrics([1, 2], [1, 3]), "mae")).toBe(0.5);
    expect(metricValue(null, "accuracy")).toBeNull();
    expect(
      metricValue(classificationMetrics({ yTrue: [0], yPred: [0], labels: ["a"] }), "logLoss"),
    ).toBeNull();
  });
});
