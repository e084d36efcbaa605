import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildLogisticRegressionModel,
  buildMlpModel,
  encodeModel,
  writeModelFile,
  type ModelSpec,
} from "./build";
import { onnxType } from "./onnx-schema";
import { parseOnnxBytes } from "./parse";

type Decoded = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const decode = (bytes: Uint8Array): Decoded =>
  onnxType("ModelProto").toObject(onnxType("ModelProto").decode(bytes), {
    longs: Number,
    bytes: Buffer,
    defaults: false,
  });

const tmp = await mkdtemp(path.join(os.tmpdir(), "modeldeck-build-"));
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe("encodeModel", () => {
  it("writes onnx.proto fields: header, typed raw data, attributes, metadata", () => {
    const spec: ModelSpec = {
      irVersion: 9,
      opsets: [
        { domain: "", version: 19 },
        { domain: "ai.onnx.ml", version: 3 },
      ],
      producerVersion: "9.9",
      domain: "org.example",
      modelVersion: 4,
      metadata: { k: "v" },
      graph: {
        name: "g",
        nodes: [
          {
            op: "Custom",
            domain: "ai.onnx.ml",
            name: "n",
            inputs: ["x"],
            outputs: ["y"],
            attributes: {
              i: { i: -3 },
              f: { f: 0.5 },
              s: { s: "text" },
              ints: { ints: [1, 2] },
              floats: { floats: [1.5] },
              strings: { strings: ["a", "b"] },
            },
          },
        ],
        inputs: [{ name: "x", type: "INT64", shape: [], docString: "scalar" }],
        outputs: [{ name: "y", type: "float32", shape: null }],
        initializers: [
          { name: "f32", type: "float32", dims: [2], data: [1.5, -2] },
          { name: "i64", type: "int64", dims: [2], data: [-1n, 2n ** 40n] },
          { name: "u8", type: "uint8", dims: [3], data: [0, 128, 255] },
          { name: "b", type: "bool", dims: [2], data: [1, 0] },
          { name: "s", type: "string", dims: [2], data: ["héllo", ""] },
        ],
      },
    };
    const m = decode(encodeModel(spec));
    expect(m).toMatchObject({
      ir_version: 9,
      producer_name: "modeldeck",
      producer_version: "9.9",
      domain: "org.example",
      model_version: 4,
      opset_import: [
        { domain: "", version: 19 },
        { domain: "ai.onnx.ml", version: 3 },
      ],
      metadata_props: [{ key: "k", value: "v" }],
    });
    const g = m.graph;
    expect(g.input[0]).toEqual({
      name: "x",
      doc_string: "scalar",
      type: { tensor_type: { elem_type: 7, shape: {} } },
    });
    expect(g.output[0].type.tensor_type).toEqual({ elem_type: 1 });
    const attrs = Object.fromEntries(g.node[0].attribute.map((a: Decoded) => [a.name, a]));
    expect(attrs.i).toMatchObject({ type: 2, i: -3 });
    expect(attrs.f).toMatchObject({ type: 1, f: 0.5 });
    expect(attrs.s.s.toString()).toBe("text");
    expect(attrs.ints).toMatchObject({ type: 7, ints: [1, 2] });
    expect(attrs.floats).toMatchObject({ type: 6, floats: [1.5] });
    expect(attrs.strings.strings.map(String)).toEqual(["a", "b"]);
    const init = Object.fromEntries(g.initializer.map((t: Decoded) => [t.name, t]));
    expect(init.f32.raw_data).toEqual(Buffer.from([0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0]));
    expect(init.i64.raw_data.readBigInt64LE(0)).toBe(-1n);
    expect(init.i64.raw_data.readBigInt64LE(8)).toBe(2n ** 40n);
    expect([...init.u8.raw_data]).toEqual([0, 128, 255]);
    expect([...init.b.raw_data]).toEqual([1, 0]);
    expect(init.s.string_data.map(String)).toEqual(["héllo", ""]);
    expect(init.s.raw_data).toBeUndefined();
  });

  it("writes external-data references instead of data", () => {
    const m = decode(
      encodeModel({
        graph: {
          name: "g",
          nodes: [],
          inputs: [],
          outputs: [],
          initializers: [
            { name: "w", type: "float32", dims: [4], external: { location: "w.bin", offset: 0 } },
          ],
        },
      }),
    );
    expect(m.graph.initializer[0]).toMatchObject({
      data_location: 1,
      external_data: [
        { key: "location", value: "w.bin" },
        { key: "offset", value: "0" },
      ],
    });
  });

  it("refuses data that does not fill the dims, and types it cannot store", () => {
    const model = (data: number[], type: "float32" | "float16" = "float32"): ModelSpec => ({
      graph: {
        name: "g",
        nodes: [],
        inputs: [],
        outputs: [],
        initializers: [{ name: "w", type, dims: [2, 2], data }],
      },
    });
    expect(() => encodeModel(model([1, 2, 3]))).toThrow('Tensor "w" has 3 values; its dims need 4');
    expect(() => encodeModel(model([1, 2, 3, 4], "float16"))).toThrow(/cannot store/);
  });
});

describe("buildLogisticRegressionModel", () => {
  it("builds MatMul → Add → Softmax / ArgMax with the weights as float32", () => {
    const bytes = buildLogisticRegressionModel({
      weights: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      bias: [0.5, -0.5],
    });
    const g = decode(bytes).graph;
    expect(g.node.map((n: Decoded) => n.op_type)).toEqual(["MatMul", "Add", "Softmax", "ArgMax"]);
    const w = g.initializer.find((t: Decoded) => t.name === "W");
    expect(w.dims).toEqual([3, 2]);
    expect([0, 1, 2, 3, 4, 5].map((i) => w.raw_data.readFloatLE(i * 4))).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
  });

  it("refuses inconsistent weights", () => {
    expect(() => buildLogisticRegressionModel({ weights: [[1]], bias: [0] })).toThrow(
      /two classes/,
    );
    expect(() => buildLogisticRegressionModel({ weights: [[1, 2], [3]], bias: [0, 0] })).toThrow(
      /one value per class/,
    );
  });
});

describe("writeModelFile", () => {
  it("streams large initializers after the model as a second graph field", async () => {
    const file = path.join(tmp, "streamed.onnx");
    const fills: number[] = [];
    await writeModelFile(
      file,
      {
        graph: {
          name: "g",
          nodes: [{ op: "MatMul", inputs: ["x", "W"], outputs: ["y"] }],
          inputs: [{ name: "x", type: "float32", shape: ["batch", 3] }],
          outputs: [{ name: "y", type: "float32", shape: ["batch", 5] }],
        },
      },
      [
        {
          name: "W",
          type: "float32",
          dims: [3, 5],
          fill: (chunk, offset) => {
            fills.push(offset);
            for (let i = 0; i < chunk.length; i += 4) chunk.writeFloatLE((offset + i) / 4, i);
          },
        },
      ],
    );
    const bytes = await readFile(file);
    const { signature } = await parseOnnxBytes(bytes);
    expect(signature.initializerCount).toBe(1);
    expect(signature.parameterBytes).toBe(60);
    expect(signature.nodeCount).toBe(1);
    expect(fills).toEqual([0]);
    // The payload is the last 60 bytes: 0, 1, 2, … 14.
    expect(bytes.readFloatLE(bytes.length - 4)).toBe(14);
  });
});

describe("buildMlpModel", () => {
  it("builds MatMul → Add → Relu per hidden layer and a MatMul → Add logits layer", () => {
    const g = decode(buildMlpModel({ layers: [3, 5, 4, 2] })).graph;
    expect(g.node.map((n: Decoded) => n.op_type)).toEqual([
      "MatMul",
      "Add",
      "Relu",
      "MatMul",
      "Add",
      "Relu",
      "MatMul",
      "Add",
    ]);
    expect(g.initializer.map((t: Decoded) => [t.name, t.dims])).toEqual([
      ["W0", [3, 5]],
      ["b0", [5]],
      ["W1", [5, 4]],
      ["b1", [4]],
      ["W2", [4, 2]],
      ["b2", [2]],
    ]);
    expect(g.input[0].name).toBe("features");
    expect(g.output[0].name).toBe("logits");
    // Uniform in ±1/sqrt(fan_in).
    const w1 = g.initializer.find((t: Decoded) => t.name === "W1");
    const values = Array.from({ length: 20 }, (_, i) => w1.raw_data.readFloatLE(i * 4));
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(5));
    expect(new Set(values).size).toBe(20);
  });

  it("is deterministic for a seed and differs between seeds", () => {
    const a = buildMlpModel({ layers: [4, 8, 3], seed: 7 });
    expect(buildMlpModel({ layers: [4, 8, 3], seed: 7 }).equals(a)).toBe(true);
    expect(buildMlpModel({ layers: [4, 8, 3], seed: 8 }).equals(a)).toBe(false);
  });

  it("runs in onnxruntime: [batch, 64] in, finite [batch, 10] logits out", async () => {
    const session = await ort.InferenceSession.create(
      buildMlpModel({ layers: [64, 512, 512, 10], inputName: "x", outputName: "y" }),
    );
    try {
      expect(session.inputNames).toEqual(["x"]);
      expect(session.outputNames).toEqual(["y"]);
      const input = Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i));
      const out = await session.run({ x: new ort.Tensor("float32", input, [2, 64]) });
      const y = out.y!;
      expect(y.dims).toEqual([2, 10]);
      const data = Array.from(y.data as Float32Array);
      expect(data.every(Number.isFinite)).toBe(true);
      // Not a degenerate network: the two rows and the ten logits differ.
      expect(data.slice(0, 10)).not.toEqual(data.slice(10));
      expect(new Set(data).size).toBeGreaterThan(10);
    } finally {
      await session.release();
    }
  });

  it("refuses fewer than two layers and non-integer widths", () => {
    expect(() => buildMlpModel({ layers: [4] })).toThrow(/at least an input and an output/);
    expect(() => buildMlpModel({ layers: [4, 0] })).toThrow(/positive integer/);
    expect(() => buildMlpModel({ layers: [4, 2.5] })).toThrow(/positive integer/);
  });
});
