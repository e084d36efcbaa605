import { describe, expect, it } from "vitest";
import { buildLogisticRegressionModel, encodeModel, type ModelSpec } from "./build";
import { OnnxValidationError } from "./errors";
import { onnxType } from "./onnx-schema";
import { ONNX_FIELDS, parseOnnxBytes } from "./parse";
import { seededRandom } from "../training/random";
import type { OnnxValueSignature } from "./types";

/** Encodes a ModelProto given as a plain object in onnx.proto's field names. */
function rawModel(model: Record<string, unknown>): Buffer {
  const Model = onnxType("ModelProto");
  return Buffer.from(Model.encode(Model.fromObject(model)).finish());
}

const tensorType = (elem: number, dims?: Array<Record<string, unknown>>) => ({
  tensor_type: dims ? { elem_type: elem, shape: { dim: dims } } : { elem_type: elem },
});

const LR = buildLogisticRegressionModel({
  weights: [
    [1, -1, 0],
    [0, 2, -2],
  ],
  bias: [0.1, 0.2, 0.3],
  featureNames: ["a", "b"],
  classLabels: ["x", "y", "z"],
  modelVersion: 3,
});

async function reason(bytes: Uint8Array): Promise<OnnxValidationError> {
  try {
    await parseOnnxBytes(bytes);
  } catch (error) {
    if (error instanceof OnnxValidationError) return error;
    throw error;
  }
  throw new Error("expected an OnnxValidationError");
}

describe("parse: field numbers", () => {
  it("match the official schema for every field the streaming parser reads", () => {
    for (const [message, fields] of Object.entries(ONNX_FIELDS)) {
      const type = onnxType(message);
      for (const [name, id] of Object.entries(fields)) {
        expect(type.fields[name]?.id, `${message}.${name}`).toBe(id);
      }
    }
  });
});

describe("parse: signature", () => {
  it("reads the logistic-regression model the writer produces", async () => {
    const { signature, externalData } = await parseOnnxBytes(LR);
    expect(externalData).toEqual([]);
    expect(signature).toEqual({
      schemaVersion: 1,
      inputs: [
        {
          name: "features",
          kind: "tensor",
          elementType: "FLOAT",
          dtype: "float32",
          shape: ["batch", 2],
          type: "tensor(float)",
          docString: "",
        },
      ],
      outputs: [
        {
          name: "label",
          kind: "tensor",
          elementType: "INT64",
          dtype: "int64",
          shape: ["batch"],
          type: "tensor(int64)",
          docString: "",
        },
        {
          name: "probabilities",
          kind: "tensor",
          elementType: "FLOAT",
          dtype: "float32",
          shape: ["batch", 3],
          type: "tensor(float)",
          docString: "",
        },
      ],
      irVersion: 8,
      opsets: [{ domain: "", version: 17 }],
      producerName: "modeldeck",
      producerVersion: "0.1.0",
      domain: "",
      modelVersion: 3,
      docString: "Multinomial logistic regression",
      graphName: "logistic_regression",
      graphDocString: "",
      nodeCount: 4,
      subgraphNodeCount: 0,
      opTypes: { Add: 1, ArgMax: 1, MatMul: 1, Softmax: 1 },
      initializerCount: 2,
      parameterCount: 9,
      parameterBytes: 36,
      functionCount: 0,
      metadata: { feature_names: '["a","b"]', class_labels: '["x","y","z"]' },
    });
    // Stored as JSON in Postgres: nothing may be lost on the way.
    expect(JSON.parse(JSON.stringify(signature))).toEqual(signature);
  });

  it("gives the same result through a window of 64 bytes as through the default one", async () => {
    const spec: ModelSpec = {
      graph: {
        name: "g".repeat(300),
        docString: "d".repeat(1000),
        nodes: [{ op: "MatMul", inputs: ["x", "W"], outputs: ["y"], name: "n".repeat(200) }],
        inputs: [{ name: "x", type: "float32", shape: ["batch", 50] }],
        outputs: [{ name: "y", type: "float32", shape: ["batch", 40] }],
        initializers: [
          { name: "W", type: "float32", dims: [50, 40], data: new Array(2000).fill(0.5) },
        ],
      },
      metadata: { long: "v".repeat(500) },
    };
    const bytes = encodeModel(spec);
    const small = await parseOnnxBytes(bytes, { windowBytes: 64 });
    expect(small).toEqual(await parseOnnxBytes(bytes));
    expect(small.signature.graphName).toBe("g".repeat(300));
    expect(small.signature.parameterBytes).toBe(8000);
  });

  it("leaves out inputs that are initializers (IR < 4 models list weights as inputs)", async () => {
    const bytes = encodeModel({
      irVersion: 3,
      opsets: [{ domain: "", version: 9 }],
      graph: {
        name: "g",
        nodes: [{ op: "Add", inputs: ["x", "bias"], outputs: ["y"] }],
        inputs: [
          { name: "x", type: "float32", shape: [1] },
          { name: "bias", type: "float32", shape: [1] },
        ],
        outputs: [{ name: "y", type: "float32", shape: [1] }],
        initializers: [{ name: "bias", type: "float32", dims: [1], data: [1] }],
      },
    });
    const { signature } = await parseOnnxBytes(bytes);
    expect(signature.inputs.map((v) => v.name)).toEqual(["x"]);
  });

  it("describes shapes: symbolic, unknown, negative, scalar, no shape, and non-tensor types", async () => {
    const bytes = rawModel({
      ir_version: 8,
      opset_import: [{ domain: "", version: 17 }],
      graph: {
        name: "types",
        input: [
          { name: "sym", type: tensorType(1, [{ dim_param: "batch" }, { dim_value: 3 }]) },
          { name: "unknown", type: tensorType(7, [{}, { dim_value: -1 }, { dim_param: "" }]) },
          { name: "scalar", type: tensorType(7, []) },
          { name: "anyrank", type: tensorType(8) },
          { name: "half", type: tensorType(10, [{ dim_value: 0 }]) },
          { name: "future", type: tensorType(99, [{ dim_value: 1 }]) },
          { name: "untyped" },
        ],
        output: [
          {
            name: "zipmap",
            doc_string: "class → probability",
            type: {
              sequence_type: {
                elem_type: { map_type: { key_type: 7, value_type: tensorType(1) } },
              },
            },
          },
          { name: "maybe", type: { optional_type: { elem_type: tensorType(6, []) } } },
          {
            name: "sparse",
            type: { sparse_tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 9 }] } } },
          },
        ],
      },
    });
    const { signature } = await parseOnnxBytes(bytes);
    const pick = ({ name, kind, elementType, dtype, shape, type }: OnnxValueSignature) => ({
      name,
      kind,
      elementType,
      dtype,
      shape,
      type,
    });
    expect(signature.inputs.map(pick)).toEqual([
      {
        name: "sym",
        kind: "tensor",
        elementType: "FLOAT",
        dtype: "float32",
        shape: ["batch", 3],
        type: "tensor(float)",
      },
      {
        name: "unknown",
        kind: "tensor",
        elementType: "INT64",
        dtype: "int64",
        shape: [null, null, null],
        type: "tensor(int64)",
      },
      {
        name: "scalar",
        kind: "tensor",
        elementType: "INT64",
        dtype: "int64",
        shape: [],
        type: "tensor(int64)",
      },
      {
        name: "anyrank",
        kind: "tensor",
        elementType: "STRING",
        dtype: "string",
        shape: null,
        type: "tensor(string)",
      },
      {
        name: "half",
        kind: "tensor",
        elementType: "FLOAT16",
        dtype: "float16",
        shape: [0],
        type: "tensor(float16)",
      },
      {
        name: "future",
        kind: "tensor",
        elementType: null,
        dtype: null,
        shape: [1],
        type: "tensor(type 99)",
      },
      {
        name: "untyped",
        kind: "unknown",
        elementType: null,
        dtype: null,
        shape: null,
        type: "unknown",
      },
    ]);
    expect(signature.outputs.map(pick)).toEqual([
      {
        name: "zipmap",
        kind: "sequence",
        elementType: null,
        dtype: null,
        shape: null,
        type: "seq(map(int64,tensor(float)))",
      },
      {
        name: "maybe",
        kind: "optional",
        elementType: null,
        dtype: null,
        shape: null,
        type: "optional(tensor(int32))",
      },
      {
        name: "sparse",
        kind: "sparse_tensor",
        elementType: "FLOAT",
        dtype: "float32",
        shape: [9],
        type: "sparse_tensor(float)",
      },
    ]);
    expect(signature.outputs[0]!.docString).toBe("class → probability");
  });

  it("counts nodes and weights inside subgraphs and Constant nodes, and ops by domain", async () => {
    const branch = (value: number) => ({
      name: `branch${value}`,
      nodes: [
        { op: "Add", inputs: ["x", `w${value}`], outputs: [`out${value}`] },
        { op: "Identity", inputs: [`out${value}`], outputs: [`y${value}`] },
      ],
      inputs: [],
      outputs: [{ name: `y${value}`, type: "float32" as const, shape: [2] }],
      initializers: [
        { name: `w${value}`, type: "float32" as const, dims: [2], data: [value, value] },
      ],
    });
    const bytes = encodeModel({
      opsets: [
        { domain: "", version: 17 },
        { domain: "com.microsoft", version: 1 },
      ],
      graph: {
        name: "main",
        inputs: [
          { name: "cond", type: "bool", shape: [] },
          { name: "x", type: "float32", shape: [2] },
        ],
        outputs: [{ name: "z", type: "float32", shape: [2] }],
        nodes: [
          {
            op: "Constant",
            inputs: [],
            outputs: ["c"],
            attributes: { value: { t: { name: "", type: "int64", dims: [3], data: [1, 2, 3] } } },
          },
          {
            op: "If",
            inputs: ["cond"],
            outputs: ["y"],
            attributes: { then_branch: { g: branch(1) }, else_branch: { g: branch(2) } },
          },
          { op: "FusedGemm", domain: "com.microsoft", inputs: ["y"], outputs: ["z"] },
        ],
      },
    });
    const { signature } = await parseOnnxBytes(bytes);
    expect(signature.nodeCount).toBe(3);
    expect(signature.subgraphNodeCount).toBe(4);
    expect(signature.opTypes).toEqual({
      Add: 2,
      Constant: 1,
      Identity: 2,
      If: 1,
      "com.microsoft:FusedGemm": 1,
    });
    expect(signature.initializerCount).toBe(2);
    expect(signature.parameterCount).toBe(2 + 2 + 3);
    expect(signature.parameterBytes).toBe(8 + 8 + 24);
    expect(signature.opsets).toEqual([
      { domain: "", version: 17 },
      { domain: "com.microsoft", version: 1 },
    ]);
  });

  it("keeps metadata keys literally, last one winning, and cuts very long texts", async () => {
    const bytes = rawModel({
      ir_version: 8,
      opset_import: [{ version: 17 }],
      doc_string: "x".repeat(70_000),
      graph: { name: "g" },
      metadata_props: [
        { key: "__proto__", value: "polluted?" },
        { key: "k", value: "first" },
        { key: "k", value: "second" },
        { key: "big", value: "y".repeat(100_000) },
      ],
    });
    const { signature } = await parseOnnxBytes(bytes);
    expect(Object.getPrototypeOf(signature.metadata)).toBe(Object.prototype);
    expect(Object.keys(signature.metadata)).toEqual(["__proto__", "k", "big"]);
    expect(signature.metadata.k).toBe("second");
    expect(JSON.parse(JSON.stringify(signature.metadata))["__proto__"]).toBe("polluted?");
    expect(signature.metadata.big).toHaveLength(64 * 1024 + 1);
    expect(signature.metadata.big!.endsWith("…")).toBe(true);
    expect(signature.docString).toHaveLength(64 * 1024 + 1);
  });

  it("merges repeated graph fields, as every protobuf reader does", async () => {
    const base = rawModel({
      ir_version: 8,
      opset_import: [{ version: 17 }],
      graph: { name: "g", node: [{ op_type: "Relu", input: ["x"], output: ["y"] }] },
    });
    const more = rawModel({
      graph: { initializer: [{ name: "w", data_type: 1, dims: [4], raw_data: Buffer.alloc(16) }] },
    });
    const { signature } = await parseOnnxBytes(Buffer.concat([base, more]));
    expect(signature.nodeCount).toBe(1);
    expect(signature.initializerCount).toBe(1);
    expect(signature.parameterBytes).toBe(16);
  });

  it("reads packed tensor dims (proto3 writers) as well as repeated ones", async () => {
    // TensorProto { dims: [2, 3] packed; data_type: FLOAT; name: "w" }
    const tensor = Buffer.from([0x0a, 0x02, 0x02, 0x03, 0x10, 0x01, 0x42, 0x01, 0x77]);
    const graph = Buffer.concat([Buffer.from([0x2a, tensor.length]), tensor]);
    const model = Buffer.concat([
      rawModel({ ir_version: 8, opset_import: [{ version: 17 }] }),
      Buffer.from([0x3a, graph.length]),
      graph,
    ]);
    const { signature } = await parseOnnxBytes(model);
    expect(signature.parameterCount).toBe(6);
    expect(signature.parameterBytes).toBe(24);
  });

  it("reports tensors kept in external files, wherever they are", async () => {
    const bytes = encodeModel({
      graph: {
        name: "g",
        nodes: [
          {
            op: "Constant",
            inputs: [],
            outputs: ["c"],
            attributes: {
              value: {
                t: { name: "c", type: "float32", dims: [2], external: { location: "c.bin" } },
              },
            },
          },
          { op: "Add", inputs: ["c", "w"], outputs: ["y"] },
        ],
        inputs: [],
        outputs: [{ name: "y", type: "float32", shape: [2] }],
        initializers: [
          {
            name: "w",
            type: "float32",
            dims: [2],
            external: { location: "weights.bin", offset: 0, length: 8 },
          },
        ],
      },
    });
    const { externalData } = await parseOnnxBytes(bytes);
    expect(externalData).toEqual([
      { tensor: "c", location: "c.bin" },
      { tensor: "w", location: "weights.bin" },
    ]);
  });
});

describe("parse: files that are not (whole) ONNX models", () => {
  it("empty", async () => {
    const e = await reason(new Uint8Array());
    expect(e.reason).toBe("empty");
    expect(e.message).toBe("The file is empty.");
  });

  it("random bytes", async () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = seededRandom(seed);
      const bytes = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
      const e = await reason(bytes);
      expect(e.reason, `seed ${seed}: ${e.message}`).toBe("not_protobuf");
      expect(e.message).toMatch(
        /^This is not an ONNX model: it does not parse as a protocol-buffer ModelProto/,
      );
    }
  });

  it("a ZIP archive", async () => {
    const zip = Buffer.concat([
      Buffer.from("PK\x03\x04\x14\x00\x00\x00\x08\x00", "latin1"),
      Buffer.alloc(200, 7),
    ]);
    const e = await reason(zip);
    expect(e.reason).toBe("not_protobuf");
    expect(e.message).toBe(
      "This is not an ONNX model: it does not parse as a protocol-buffer ModelProto (looks like a ZIP archive (PyTorch .pt and Keras .keras files are ZIP archives)).",
    );
  });

  it("text files", async () => {
    const cases: Array<[string, string]> = [
      ["hello, this is not a model\n", "a text file"],
      ['{"model": "resnet"}\n', "a JSON text file"],
      ["<html><body>404</body></html>", "an HTML or XML text file"],
      ["ir_version: 8\ngraph {\n}\n", "ONNX's text format, not the binary .onnx format"],
    ];
    for (const [text, kind] of cases) {
      const e = await reason(Buffer.from(text));
      expect(["not_protobuf", "not_onnx"]).toContain(e.reason);
      expect(e.message, text).toContain(`looks like ${kind}`);
    }
  });

  it("a protocol buffer that is not a model", async () => {
    // A TensorProto (ONNX test data .pb): dims 1, data_type 1, name "t" → field 2 is a number.
    const tensor = onnxType("TensorProto");
    const bytes = tensor.encode(tensor.fromObject({ dims: [1], data_type: 1, name: "t" })).finish();
    const e = await reason(bytes);
    expect(e.reason).toBe("not_onnx");
    expect(e.message).toBe(
      "This is not an ONNX model: it is a protocol buffer, but not an ONNX ModelProto (field 2 (producer_name) should hold text or a message).",
    );
    // Well-formed protobuf, ModelProto fields, but no graph.
    const noGraph = await reason(rawModel({ producer_name: "x", opset_import: [{ version: 1 }] }));
    expect(noGraph.reason).toBe("not_onnx");
    expect(noGraph.message).toContain("it has no graph");
  });

  it("truncated anywhere: every cut of a real model", async () => {
    // A cut between the trailing metadata entries leaves a valid model that merely lacks some
    // metadata: protobuf has no end marker, so nothing can tell those apart.
    const variant = (featureNames?: string[]) =>
      buildLogisticRegressionModel({
        weights: [
          [1, -1, 0],
          [0, 2, -2],
        ],
        bias: [0.1, 0.2, 0.3],
        featureNames,
        modelVersion: 3,
      });
    const validPrefixes = [variant(), variant(["a", "b"])];
    for (const prefix of validPrefixes) {
      expect(LR.subarray(0, prefix.length)).toEqual(prefix);
      await expect(parseOnnxBytes(prefix)).resolves.toBeTruthy();
    }
    const skip = new Set(validPrefixes.map((p) => p.length));
    for (let cut = 2; cut < LR.length; cut++) {
      if (skip.has(cut)) continue;
      const e = await reason(LR.subarray(0, cut));
      expect(e.reason, `cut at ${cut}: ${e.message}`).toBe("truncated");
      expect(e.message).toMatch(/^The model is truncated: the file ends /);
    }
  });

  it("says where a truncated model stops", async () => {
    const spec: ModelSpec = {
      graph: {
        name: "g",
        nodes: [{ op: "MatMul", inputs: ["x", "fc.weight"], outputs: ["y"] }],
        inputs: [{ name: "x", type: "float32", shape: [1, 256] }],
        outputs: [{ name: "y", type: "float32", shape: [1, 256] }],
        initializers: [
          { name: "fc.weight", type: "float32", dims: [256, 256], data: new Array(65536).fill(1) },
        ],
      },
    };
    const bytes = encodeModel(spec);
    const e = await reason(bytes.subarray(0, 100_000));
    expect(e.message).toBe(
      `The model is truncated: the file ends in the middle of graph › initializer 0 "fc.weight". It has 100,000 bytes; the model needs at least ${(bytes.length - 6).toLocaleString("en-US")}. Upload the complete file.`,
    );
    expect(e.details.path).toBe('graph › initializer 0 "fc.weight"');
  });

  it("corrupt: a length in the middle of the graph that cannot be right", async () => {
    const bytes = Buffer.from(LR);
    // The first node's header inside the graph: make its length overrun the graph.
    const graphAt = bytes.indexOf(Buffer.from("\x0a\x08features", "latin1")) - 2;
    expect(bytes[graphAt]).toBe(0x0a); // GraphProto.node tag
    bytes[graphAt + 1] = 0x7f;
    const e = await reason(bytes);
    expect(e.reason).toBe("corrupt");
    expect(e.message).toBe(
      'The model file is corrupt: a field runs past the end of its message at byte 133 (in graph › node 0 (MatMul "matmul")).',
    );
  });
});
