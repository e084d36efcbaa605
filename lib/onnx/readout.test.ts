import { describe, expect, it } from "vitest";
import { predictionReadoutOf, readPredictions } from "./readout";
import type { OnnxSignature } from "./types";

const tensor = (name: string, dtype: string, shape: (number | string)[]) =>
  ({ name, kind: "tensor", dtype, shape, type: `tensor(${dtype})` }) as never;
const sig = (outputs: unknown[], metadata: Record<string, string> = {}): OnnxSignature =>
  ({ inputs: [tensor("x", "float32", ["N", 4])], outputs, metadata }) as never;

describe("prediction readout", () => {
  it("reads a label output, mapping indices to class names when the model has them", () => {
    const r = predictionReadoutOf(
      sig([tensor("label", "int64", ["N"]), tensor("probabilities", "float32", ["N", 3])], {
        class_labels: '["setosa","versicolor","virginica"]',
      }),
      "classification",
    );
    expect(r).toMatchObject({ ok: true, readout: { labelOutput: { name: "label" } } });
    if (!r.ok) return;
    expect(readPredictions(r.readout, { label: { data: [2n, 0n] } }, 2)).toEqual([
      "virginica",
      "setosa",
    ]);
  });

  it("takes the argmax of scores when there is no label output", () => {
    const r = predictionReadoutOf(sig([tensor("logits", "float32", ["N", 3])]), "classification");
    if (!r.ok) throw new Error(r.problem);
    const data = Float32Array.from([0.1, 0.7, 0.2, 3, 1, 2]);
    expect(readPredictions(r.readout, { logits: { data } }, 2)).toEqual([1, 0]);
  });

  it("reads regression values, and says why when no output fits", () => {
    const r = predictionReadoutOf(sig([tensor("variable", "float32", ["N", 1])]), "regression");
    if (!r.ok) throw new Error(r.problem);
    expect(readPredictions(r.readout, { variable: { data: [1.5, -2] } }, 2)).toEqual([1.5, -2]);
    expect(readPredictions(r.readout, {}, 2)).toBeNull();
    const bad = predictionReadoutOf(sig([tensor("s", "string", ["N"])]), "regression");
    expect(bad).toMatchObject({ ok: false, problem: expect.stringContaining("float [batch]") });
  });
});
