import { describe, expect, it } from "vitest";
import {
  exampleFor,
  exampleInferRequest,
  examplePredictRequest,
  exampleRequest,
  prettyJson,
  samplePredictRequest,
  simpleInput,
  trySignatureOf,
  type TrySignature,
} from "./try-example";

const iris = (names: string[]): TrySignature => ({
  inputs: [{ name: "features", kind: "tensor", dtype: "float32", shape: ["batch", names.length] }],
  featureNames: JSON.stringify(names),
});
const v2 = iris(["sepal_length", "sepal_width", "petal_length", "petal_width"]);
const v1 = iris(["sepal_length", "sepal_width"]);

describe("example requests", () => {
  it("gives the demo's v2 a realistic iris row", () => {
    expect(exampleInferRequest(v2)).toEqual({
      inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }],
    });
    expect(examplePredictRequest(v2)).toEqual({
      rows: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }],
    });
  });

  it("follows the signature of v1 (two features)", () => {
    expect(exampleInferRequest(v1).inputs[0]).toMatchObject({ shape: [1, 2], data: [5.1, 3.5] });
    expect(examplePredictRequest(v1)).toEqual({ rows: [{ sepal_length: 5.1, sepal_width: 3.5 }] });
  });

  it("sets symbolic and unknown dimensions to 1 and fills by dtype", () => {
    const sig: TrySignature = {
      inputs: [
        { name: "image", kind: "tensor", dtype: "float16", shape: ["n", 3, null, 2] },
        { name: "ids", kind: "tensor", dtype: "int64", shape: [2] },
        { name: "flag", kind: "tensor", dtype: "bool", shape: [] },
        { name: "text", kind: "tensor", dtype: "string", shape: null },
      ],
    };
    expect(exampleInferRequest(sig).inputs).toEqual([
      { name: "image", shape: [1, 3, 1, 2], datatype: "FP16", data: Array(6).fill(0.5) },
      { name: "ids", shape: [2], datatype: "INT64", data: [0, 0] },
      { name: "flag", shape: [], datatype: "BOOL", data: [false] },
      { name: "text", shape: [1], datatype: "BYTES", data: ["example"] },
    ]);
    expect(simpleInput(sig).ok).toBe(false);
  });

  it("uses positional rows when features are unnamed or the names do not fit", () => {
    const unnamed: TrySignature = { inputs: [{ ...v2.inputs[0]!, shape: ["batch", 3] }] };
    expect(examplePredictRequest(unnamed)).toEqual({ rows: [[0.5, 0.5, 0.5]] });
    const misnamed = { ...v2, inputs: [{ ...v2.inputs[0]!, shape: ["batch", 3] }] };
    expect(examplePredictRequest(misnamed)).toEqual({ rows: [[0.5, 0.5, 0.5]] });
    expect(exampleInferRequest(misnamed).inputs[0]!.data).toEqual([0.5, 0.5, 0.5]);
  });

  it("cuts a stored signature down to inputs and feature names", () => {
    expect(
      trySignatureOf({
        inputs: [{ name: "x", kind: "tensor", dtype: "float32", shape: [1], docString: "d" }],
        outputs: [],
        metadata: { feature_names: '["a"]', other: "big" },
      }),
    ).toEqual({
      inputs: [{ name: "x", kind: "tensor", dtype: "float32", shape: [1] }],
      featureNames: '["a"]',
    });
    expect(trySignatureOf(null)).toBeNull();
  });
});

describe("prettyJson", () => {
  it("keeps arrays of plain values on one line", () => {
    expect(prettyJson({ a: [1, 2], b: [{ c: "x" }], d: {}, e: [] })).toBe(
      '{\n  "a": [1, 2],\n  "b": [\n    {\n      "c": "x"\n    }\n  ],\n  "d": {},\n  "e": []\n}',
    );
    expect(JSON.parse(exampleRequest(v2, "infer"))).toEqual(exampleInferRequest(v2));
  });
});

describe("exampleFor", () => {
  const sample = {
    inputs: [{ name: "features", shape: [2, 4], datatype: "FP32", data: [1, 2, 3, 4, 5, 6, 7, 8] }],
  };

  it("offers the stored sample request, in both forms", () => {
    const infer = exampleFor(
      { signature: v2, sampleRequest: sample, warmUpWarning: null },
      "infer",
    );
    expect(infer).toEqual({ body: prettyJson(sample), source: "sample", note: null });
    const predict = exampleFor(
      { signature: v2, sampleRequest: sample, warmUpWarning: "ignored: a sample exists" },
      "predict",
    );
    expect(predict.source).toBe("sample");
    expect(JSON.parse(predict.body)).toEqual({
      rows: [
        { sepal_length: 1, sepal_width: 2, petal_length: 3, petal_width: 4 },
        { sepal_length: 5, sepal_width: 6, petal_length: 7, petal_width: 8 },
      ],
    });
  });

  it("falls back to the signature's example, unless the synthetic warm-up failed", () => {
    expect(
      exampleFor({ signature: v2, sampleRequest: null, warmUpWarning: null }, "infer"),
    ).toEqual({ body: exampleRequest(v2, "infer"), source: "synthetic", note: null });
    const none = exampleFor(
      {
        signature: v2,
        sampleRequest: null,
        warmUpWarning: "The warm-up with a synthetic request failed: Pad reflect needs 2.",
      },
      "infer",
    );
    expect(none).toMatchObject({ body: "", source: "none" });
    expect(none.note).toBe(
      "No example: the warm-up with a synthetic request failed: Pad reflect needs 2. An example " +
        "built from the signature would fail the same way: write a request this version " +
        "answers, or store a sample request on its version page.",
    );
  });

  it("has no rows for a sample the simple form cannot take", () => {
    const tensors: TrySignature = {
      inputs: [{ name: "x", kind: "tensor", dtype: "float32", shape: [1, "n"] }],
    };
    const wav = { inputs: [{ name: "x", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] };
    expect(samplePredictRequest(wav, tensors)).toBeNull();
    // The predict form then falls back to the signature's (which the panel says needs tensors).
    expect(
      exampleFor({ signature: tensors, sampleRequest: wav, warmUpWarning: null }, "predict"),
    ).toMatchObject({ source: "synthetic" });
  });
});
