import { describe, expect, it } from "vitest";
import type { EvaluationPlan } from "../datasets/fit";
import { csvCell, featureCell, headerLine, outputColumns } from "./csv";

const plan = (over: Partial<EvaluationPlan>): EvaluationPlan => ({
  task: "classification",
  feeds: [],
  featureColumns: ["a", "b"],
  labelColumn: "y",
  maxBatch: null,
  labelOutput: null,
  scoresOutput: { name: "probabilities", probabilities: true },
  valueOutput: null,
  classNames: ["setosa", "versicolor"],
  labelEncoding: "name",
  notes: [],
  ...over,
});

describe("batch CSV", () => {
  it("classifiers: row, features, prediction and one probability column per class", () => {
    expect(headerLine(plan({}), 2)).toBe("row,a,b,prediction,p_setosa,p_versicolor\n");
  });
  it("scores that are not probabilities, and classes without names", () => {
    const p = plan({ scoresOutput: { name: "logits", probabilities: false }, classNames: null });
    expect(outputColumns(p, 3)).toEqual(["prediction", "score_0", "score_1", "score_2"]);
  });
  it("regressors: one prediction column", () => {
    expect(outputColumns(plan({ task: "regression", scoresOutput: null }), 0)).toEqual([
      "prediction",
    ]);
  });
  it("quotes cells that need it; float32 features to 7 significant digits", () => {
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell(Number.NaN)).toBe("");
    expect(featureCell(Math.fround(5.1), true)).toBe("5.1");
    expect(featureCell(0.1 + 0.2, false)).toBe(String(0.1 + 0.2));
  });
});
