import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { buildLinearRegressionModel, buildLogisticRegressionModel } from "./build";
import { parseOnnxBytes } from "./parse";

async function run(bytes: Buffer, input: string, rows: number[][]) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const data = Float32Array.from(rows.flat());
    const out = await session.run({
      [input]: new ort.Tensor("float32", data, [rows.length, rows[0]!.length]),
    });
    return { session: { inputs: session.inputNames, outputs: session.outputNames }, out };
  } finally {
    await session.release();
  }
}

describe("buildLinearRegressionModel", () => {
  // y = 2·a − 3·b + 0.5·c + 1, values exact in float32.
  const weights = [2, -3, 0.5];
  const bias = 1;
  const rows = [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 2],
    [1.5, -2, 4],
  ];
  const expected = [1, 3, -2, 2, 12];

  it("predicts x·w + b in onnxruntime as prediction float32 [batch, 1]", async () => {
    const bytes = buildLinearRegressionModel({ weights, bias, featureNames: ["a", "b", "c"] });
    const { session, out } = await run(bytes, "features", rows);
    expect(session).toEqual({ inputs: ["features"], outputs: ["prediction"] });
    const y = out.prediction!;
    expect(y.type).toBe("float32");
    expect(y.dims).toEqual([5, 1]);
    expect(Array.from(y.data as Float32Array)).toEqual(expected);
    const { signature } = await parseOnnxBytes(bytes);
    expect(signature.metadata?.feature_names).toBe('["a","b","c"]');
    expect(signature.inputs?.[0]).toMatchObject({ name: "features", shape: ["batch", 3] });
    expect(signature.outputs?.[0]).toMatchObject({
      name: "prediction",
      dtype: "float32",
      shape: ["batch", 1],
    });
  });

  it("names its input and output as asked and can return [batch]", async () => {
    const bytes = buildLinearRegressionModel({
      weights,
      bias,
      inputName: "x",
      outputName: "y",
      outputRank: 1,
    });
    const { session, out } = await run(bytes, "x", rows);
    expect(session).toEqual({ inputs: ["x"], outputs: ["y"] });
    expect(out.y!.dims).toEqual([5]);
    expect(Array.from(out.y!.data as Float32Array)).toEqual(expected);
  });

  it("refuses empty, non-finite or mismatched weights", () => {
    expect(() => buildLinearRegressionModel({ weights: [], bias: 0 })).toThrow(/one feature/);
    expect(() => buildLinearRegressionModel({ weights: [NaN], bias: 0 })).toThrow(/finite/);
    expect(() =>
      buildLinearRegressionModel({ weights: [1], bias: 0, featureNames: ["a", "b"] }),
    ).toThrow(/2 feature names for 1 weights/);
  });
});

describe("buildLogisticRegressionModel inputName", () => {
  it("names the input as asked", async () => {
    const bytes = buildLogisticRegressionModel({
      weights: [
        [1, 0],
        [0, 1],
      ],
      bias: [0, 0],
      inputName: "x",
    });
    const { session, out } = await run(bytes, "x", [
      [2, 1],
      [0, 3],
    ]);
    expect(session.inputs).toEqual(["x"]);
    expect(Array.from(out.label!.data as BigInt64Array)).toEqual([0n, 1n]);
  });
});
