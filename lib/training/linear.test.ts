import { describe, expect, it } from "vitest";
import { choleskySolve, predictValue, trainLinearRegression } from "./linear";
import { seededRandom } from "./random";

describe("trainLinearRegression", () => {
  it("recovers the line the data was generated from exactly (no noise, l2 = 0)", () => {
    const random = seededRandom(7);
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 50; i++) {
      const row = [random() * 10, random() * 1000 - 500, random()];
      x.push(row);
      y.push(2 * row[0]! - 0.003 * row[1]! + 7.5 * row[2]! + 5);
    }
    const model = trainLinearRegression(x, y, { l2: 0 });
    expect(model.weights[0]).toBeCloseTo(2, 9);
    expect(model.weights[1]).toBeCloseTo(-0.003, 9);
    expect(model.weights[2]).toBeCloseTo(7.5, 9);
    expect(model.bias).toBeCloseTo(5, 9);
    expect(model.trainRmse).toBeLessThan(1e-9);
    expect(model.trainMae).toBeLessThan(1e-9);
    expect(model.trainR2).toBeCloseTo(1, 12);
    expect(predictValue(model, [1, 0, 0])).toBeCloseTo(7, 9);
  });

  it("matches a case solved by hand: x = 0, 2 and y = 0, 2 with l2 = 1", () => {
    // μ = 1, σ = 1, z = (−1, 1), y − ȳ = (−1, 1): ZᵀZ/n = 1, Zᵀ(y − ȳ)/n = 1,
    // β = 1 / (1 + l2) = 0.5; w = β/σ = 0.5, b = ȳ − μ·w = 1 − 0.5 = 0.5.
    const model = trainLinearRegression([[0], [2]], [0, 2], { l2: 1 });
    // (Equal up to float rounding: 14 decimal places.)
    expect(model.weights).toHaveLength(1);
    expect(model.weights[0]).toBeCloseTo(0.5, 14);
    expect(model.bias).toBeCloseTo(0.5, 14);
    expect(model.mean).toEqual([1]);
    expect(model.std).toEqual([1]);
    // Residuals −0.5 and +0.5: RMSE = MAE = 0.5; SS_res = 0.5, SS_tot = 2 → R² = 0.75.
    expect(model.trainRmse).toBeCloseTo(0.5, 14);
    expect(model.trainMae).toBeCloseTo(0.5, 14);
    expect(model.trainR2).toBeCloseTo(0.75, 14);
    // Without the penalty the same points lie on y = x.
    const exact = trainLinearRegression([[0], [2]], [0, 2], { l2: 0 });
    expect(exact.weights[0]).toBeCloseTo(1, 12);
    expect(exact.bias).toBeCloseTo(0, 12);
  });

  it("shrinks the weights as l2 grows and gives a constant column weight 0", () => {
    const x = [
      [1, 3],
      [2, 3],
      [3, 3],
      [4, 3],
    ];
    const y = [3, 5, 7, 9]; // y = 2x + 1
    const weak = trainLinearRegression(x, y, { l2: 0 });
    const strong = trainLinearRegression(x, y, { l2: 10 });
    expect(weak.weights[0]).toBeCloseTo(2, 12);
    expect(weak.weights[1]).toBe(0);
    expect(weak.bias).toBeCloseTo(1, 12);
    expect(Math.abs(strong.weights[0]!)).toBeLessThan(Math.abs(weak.weights[0]!));
    expect(strong.weights[1]).toBe(0);
    // The intercept is not penalised: predictions stay centred on the mean target.
    const mean = x.reduce((s, row) => s + predictValue(strong, row), 0) / x.length;
    expect(mean).toBeCloseTo(6, 12);
  });

  it("is deterministic and independent of the scale of a feature", () => {
    const x = [
      [1, 10],
      [2, 30],
      [3, 20],
      [4, 50],
      [5, 40],
    ];
    const y = [1, 4, 2, 8, 5];
    const a = trainLinearRegression(x, y, { l2: 0.1 });
    expect(trainLinearRegression(x, y, { l2: 0.1 })).toEqual(a);
    const scaled = trainLinearRegression(
      x.map(([p, q]) => [p! * 1000, q! / 1000]),
      y,
      { l2: 0.1 },
    );
    x.forEach((row) =>
      expect(predictValue(scaled, [row[0]! * 1000, row[1]! / 1000])).toBeCloseTo(
        predictValue(a, row),
        9,
      ),
    );
  });

  it("refuses bad input and exactly collinear features without a penalty", () => {
    expect(() => trainLinearRegression([], [])).toThrow(/No training rows/);
    expect(() => trainLinearRegression([[1], [2]], [1])).toThrow(/2 rows but 1 targets/);
    expect(() => trainLinearRegression([[1, 2], [3]], [1, 2])).toThrow(/Row 1 has 1 features/);
    expect(() => trainLinearRegression([[NaN]], [1])).toThrow(/missing or infinite/);
    expect(() => trainLinearRegression([[1]], [Infinity])).toThrow(/not a finite number/);
    expect(() => trainLinearRegression([[1]], [1], { l2: -1 })).toThrow(/l2 must be/);
    const collinear = [
      [1, 2],
      [2, 4],
      [3, 6],
    ];
    expect(() => trainLinearRegression(collinear, [1, 2, 3], { l2: 0 })).toThrow(/collinear/);
    expect(trainLinearRegression(collinear, [1, 2, 3], { l2: 0.01 }).trainR2).toBeGreaterThan(0.99);
  });
});

describe("choleskySolve", () => {
  it("solves a 2×2 system worked by hand", () => {
    // [4 2; 2 3]·x = [2; 1]  →  det 8, x = [ (3·2 − 2·1)/8, (4·1 − 2·2)/8 ] = [0.5, 0].
    expect(
      choleskySolve(
        [
          [4, 2],
          [2, 3],
        ],
        [2, 1],
      ),
    ).toEqual([0.5, 0].map((v) => expect.closeTo(v, 14)));
  });
});
