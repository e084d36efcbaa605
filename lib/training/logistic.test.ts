import { describe, expect, it } from "vitest";
import {
  accuracy,
  predictClasses,
  predictProbabilities,
  trainLogisticRegression,
} from "./logistic";
import { seededRandom } from "./random";

/** Three Gaussian-ish blobs in 2-D, far apart: linearly separable. */
function blobs(perClass: number, seed = 1, scale = [1, 1]) {
  const random = seededRandom(seed);
  const centres = [
    [0, 0],
    [6, 0],
    [0, 6],
  ];
  const x: number[][] = [];
  const y: number[] = [];
  centres.forEach(([cx, cy], label) => {
    for (let i = 0; i < perClass; i++) {
      x.push([(cx! + random() - 0.5) * scale[0]!, (cy! + random() - 0.5) * scale[1]!]);
      y.push(label);
    }
  });
  return { x, y };
}

describe("trainLogisticRegression", () => {
  it("separates separable classes and reports its training accuracy", () => {
    const { x, y } = blobs(30);
    const model = trainLogisticRegression(x, y, { epochs: 100 });
    expect(model.trainAccuracy).toBe(1);
    expect(accuracy(model, x, y)).toBe(1);
    expect(model.classCount).toBe(3);
    expect(model.featureCount).toBe(2);
    expect(model.weights).toHaveLength(2);
    expect(model.weights[0]).toHaveLength(3);
    expect(model.trainLoss).toBeLessThan(0.1);
    const p = predictProbabilities(model, [6, 0]);
    expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(
      predictClasses(model, [
        [0, 0],
        [6, 0],
        [0, 6],
      ]),
    ).toEqual([0, 1, 2]);
  });

  it("is deterministic for a seed", () => {
    const { x, y } = blobs(20);
    const a = trainLogisticRegression(x, y, { seed: 3, epochs: 20 });
    expect(trainLogisticRegression(x, y, { seed: 3, epochs: 20 })).toEqual(a);
    expect(trainLogisticRegression(x, y, { seed: 4, epochs: 20 }).weights).not.toEqual(a.weights);
  });

  it("folds the standardisation into raw-feature weights (so feature scale does not matter)", () => {
    const plain = blobs(20, 5);
    const scaled = blobs(20, 5, [1000, 0.001]);
    const a = trainLogisticRegression(plain.x, plain.y, { epochs: 30, l2: 0 });
    const b = trainLogisticRegression(scaled.x, scaled.y, { epochs: 30, l2: 0 });
    // Same standardised problem → same probabilities for corresponding raw inputs.
    for (let i = 0; i < plain.x.length; i++) {
      const pa = predictProbabilities(a, plain.x[i]!);
      const pb = predictProbabilities(b, scaled.x[i]!);
      pa.forEach((v, k) => expect(pb[k]).toBeCloseTo(v, 6));
    }
    expect(b.mean[0]).toBeCloseTo(a.mean[0]! * 1000, 6);
    expect(b.std[1]).toBeCloseTo(a.std[1]! * 0.001, 12);
  });

  it("copes with a constant column", () => {
    const { x, y } = blobs(10);
    const withConstant = x.map((row) => [...row, 42]);
    const model = trainLogisticRegression(withConstant, y, { epochs: 50 });
    expect(model.std[2]).toBe(1);
    expect(model.weights.flat().every(Number.isFinite)).toBe(true);
    expect(model.trainAccuracy).toBe(1);
  });

  it("refuses bad input with a reason", () => {
    expect(() => trainLogisticRegression([], [])).toThrow("No training rows");
    expect(() => trainLogisticRegression([[1]], [0, 1])).toThrow("1 rows but 2 labels");
    expect(() => trainLogisticRegression([[1], [1, 2]], [0, 1])).toThrow(
      "Row 1 has 2 features, not 1",
    );
    expect(() => trainLogisticRegression([[1], [NaN]], [0, 1])).toThrow("Row 1 has a missing");
    expect(() => trainLogisticRegression([[1], [2]], [0, 0])).toThrow("Need at least two classes");
    expect(() => trainLogisticRegression([[1], [2]], [0, 1.5])).toThrow(/Label 1.5 of row 1/);
    expect(() => trainLogisticRegression([[1], [2]], [0, 3], { classes: 2 })).toThrow(/Label 3/);
  });
});
