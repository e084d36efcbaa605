import { describe, expect, it } from "vitest";
import { compareSignatures } from "./compare";
import type { OnnxSignature, OnnxValueSignature } from "./types";

const tensor = (
  name: string,
  dtype: "float32" | "int64",
  shape: OnnxValueSignature["shape"],
): OnnxValueSignature => ({
  name,
  kind: "tensor",
  elementType: dtype === "float32" ? "FLOAT" : "INT64",
  dtype,
  shape,
  type: dtype === "float32" ? "tensor(float)" : "tensor(int64)",
  docString: "",
});

const base: OnnxSignature = {
  schemaVersion: 1,
  inputs: [tensor("features", "float32", ["batch", 2])],
  outputs: [tensor("label", "int64", ["batch"]), tensor("probabilities", "float32", ["batch", 3])],
  irVersion: 8,
  opsets: [{ domain: "", version: 17 }],
  producerName: "modeldeck",
  producerVersion: "0.1.0",
  domain: "",
  modelVersion: 1,
  docString: "",
  graphName: "g",
  graphDocString: "",
  nodeCount: 4,
  subgraphNodeCount: 0,
  opTypes: { Add: 1, ArgMax: 1, MatMul: 1, Softmax: 1 },
  initializerCount: 2,
  parameterCount: 9,
  parameterBytes: 36,
  functionCount: 0,
  metadata: { a: "1", b: "2" },
};

describe("compareSignatures", () => {
  it("finds nothing between equal signatures, whatever the order of metadata keys", () => {
    const diff = compareSignatures(base, { ...base, metadata: { b: "2", a: "1" } });
    expect(diff).toEqual({
      sameInterface: true,
      inputs: { added: [], removed: [], changed: [] },
      outputs: { added: [], removed: [], changed: [] },
      opsets: [],
      fields: [],
    });
  });

  it("reports added, removed and changed values, opsets and other fields", () => {
    const after: OnnxSignature = {
      ...base,
      inputs: [tensor("features", "float32", ["batch", 4]), tensor("sr", "int64", [])],
      outputs: [tensor("label", "float32", ["batch"])],
      opsets: [
        { domain: "ai.onnx", version: 18 },
        { domain: "ai.onnx.ml", version: 3 },
      ],
      modelVersion: 2,
      parameterCount: 15,
    };
    const diff = compareSignatures(base, after);
    expect(diff.sameInterface).toBe(false);
    expect(diff.inputs.added.map((v) => v.name)).toEqual(["sr"]);
    expect(diff.inputs.removed).toEqual([]);
    expect(diff.inputs.changed.map(({ name, changes }) => ({ name, changes }))).toEqual([
      { name: "features", changes: ["shape"] },
    ]);
    expect(diff.outputs.removed.map((v) => v.name)).toEqual(["probabilities"]);
    expect(diff.outputs.changed.map(({ name, changes }) => ({ name, changes }))).toEqual([
      { name: "label", changes: ["dtype"] },
    ]);
    // "" and "ai.onnx" are the same domain.
    expect(diff.opsets).toEqual([
      { domain: "", before: 17, after: 18 },
      { domain: "ai.onnx.ml", before: null, after: 3 },
    ]);
    expect(diff.fields).toEqual([
      { field: "modelVersion", before: 1, after: 2 },
      { field: "parameterCount", before: 9, after: 15 },
    ]);
  });
});
