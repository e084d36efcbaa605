/**
 * A small ONNX writer: enough to produce real models for the demo, for retrained versions and
 * for test fixtures. It encodes with protobufjs from the trimmed official schema
 * (onnx-schema.ts), so what it writes is what onnxruntime reads.
 */
import { open } from "node:fs/promises";
import { seededRandom } from "../training/random";
import { elementTypeCode, type OnnxDtype, type OnnxElementType } from "./dtypes";
import { onnxType } from "./onnx-schema";
import type { OnnxDim, OnnxOpsetImport } from "./types";

export type ElementTypeName = OnnxElementType | OnnxDtype;

export interface TensorSpec {
  name: string;
  type: ElementTypeName;
  dims: number[];
  /** Values in row-major order; numbers or bigints (64-bit ints), or strings for STRING. */
  data?: ArrayLike<number> | ArrayLike<bigint> | readonly string[];
  /** Data stored in another file instead: writes data_location = EXTERNAL and external_data. */
  external?: { location: string; offset?: number; length?: number };
}

/** A graph input or output. `shape` null leaves the rank unknown. */
export interface ValueSpec {
  name: string;
  type: ElementTypeName;
  shape: OnnxDim[] | null;
  docString?: string;
}

/** One attribute, named by the AttributeProto field it fills. */
export type AttributeValue =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: number[] }
  | { floats: number[] }
  | { strings: string[] }
  | { t: TensorSpec }
  | { g: GraphSpec };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: TensorSpec[];
  docString?: string;
}

export interface ModelSpec {
  graph: GraphSpec;
  /** Default: the ONNX domain at opset 17. */
  opsets?: OnnxOpsetImport[];
  /** Default 8, the IR version that goes with opset 17 (ONNX 1.12). */
  irVersion?: number;
  /** Default "modeldeck". */
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  metadata?: Record<string, string>;
}

export const DEFAULT_OPSET = 17;
export const PRODUCER_NAME = "modeldeck";
export const PRODUCER_VERSION = "0.1.0";

/** AttributeProto.AttributeType codes. */
const ATTR_TYPE = { f: 1, i: 2, s: 3, t: 4, g: 5, floats: 6, ints: 7, strings: 8 } as const;

/** Encodes a model as the bytes of an .onnx file. */
export function encodeModel(spec: ModelSpec): Buffer {
  const Model = onnxType("ModelProto");
  const message = Model.fromObject(modelObject(spec));
  return Buffer.from(Model.encode(message).finish());
}

/** A tensor whose payload is produced in chunks while writing (for very large test models). */
export interface StreamedTensorSpec {
  name: string;
  type: ElementTypeName;
  dims: number[];
  /** Fills `chunk` with the payload bytes that start at `byteOffset` (little-endian). */
  fill: (chunk: Buffer, byteOffset: number) => void;
}

/**
 * Writes a model file. Tensors in `streamed` become main-graph initializers whose payload is
 * written in chunks, so a multi-gigabyte model can be produced without holding it in memory.
 * They are appended as a second `graph` field holding only those initializers: protobuf merges
 * repeated occurrences of a message field, so every reader sees one graph.
 */
export async function writeModelFile(
  filePath: string,
  spec: ModelSpec,
  streamed: StreamedTensorSpec[] = [],
): Promise<void> {
  const file = await open(filePath, "w");
  try {
    await file.write(encodeModel(spec));
    for (const t of streamed) await writeStreamedInitializer(file, t);
  } finally {
    await file.close();
  }
}

async function writeStreamedInitializer(
  file: Awaited<ReturnType<typeof open>>,
  t: StreamedTensorSpec,
): Promise<void> {
  const code = elementTypeCode(t.type);
  const bytes = byteLength(code, t.dims);
  const Tensor = onnxType("TensorProto");
  const head = Tensor.encode(
    Tensor.fromObject({ name: t.name, data_type: code, dims: t.dims }),
  ).finish();
  const rawHead = [(9 << 3) | 2, ...varint(bytes)]; // TensorProto.raw_data
  const tensorLen = head.length + rawHead.length + bytes;
  const initHead = [(5 << 3) | 2, ...varint(tensorLen)]; // GraphProto.initializer
  const graphLen = initHead.length + tensorLen;
  const graphHead = [(7 << 3) | 2, ...varint(graphLen)]; // ModelProto.graph
  await file.write(Buffer.from([...graphHead, ...initHead, ...head, ...rawHead]));
  const chunk = Buffer.alloc(Math.min(bytes, 16 * 1024 * 1024));
  for (let offset = 0; offset < bytes; offset += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, bytes - offset));
    t.fill(part, offset);
    await file.write(part);
  }
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function byteLength(code: number, dims: number[]): number {
  const size = FIXED_SIZE[code];
  if (!size) throw new Error(`The ONNX writer cannot store element type ${code} as raw data`);
  return dims.reduce((n, d) => n * d, 1) * size;
}

// ----- plain objects in onnx.proto's shape, for protobufjs's fromObject ---------------------------

/** Leaves out unset optional fields, so the file holds no empty strings or zeros. */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ""));
}

function modelObject(spec: ModelSpec): Record<string, unknown> {
  return compact({
    ir_version: spec.irVersion ?? 8,
    opset_import: (spec.opsets ?? [{ domain: "", version: DEFAULT_OPSET }]).map((o) => ({
      domain: o.domain,
      version: o.version,
    })),
    producer_name: spec.producerName ?? PRODUCER_NAME,
    producer_version: spec.producerVersion ?? PRODUCER_VERSION,
    domain: spec.domain,
    model_version: spec.modelVersion,
    doc_string: spec.docString,
    graph: graphObject(spec.graph),
    metadata_props: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

function graphObject(g: GraphSpec): Record<string, unknown> {
  return compact({
    name: g.name,
    doc_string: g.docString,
    node: g.nodes.map(nodeObject),
    input: g.inputs.map(valueObject),
    output: g.outputs.map(valueObject),
    initializer: (g.initializers ?? []).map(tensorObject),
  });
}

function nodeObject(n: NodeSpec, index: number): Record<string, unknown> {
  return compact({
    name: n.name ?? `${n.op}_${index}`,
    op_type: n.op,
    domain: n.domain,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attributes ?? {}).map(([name, v]) => attributeObject(name, v)),
  });
}

function attributeObject(name: string, v: AttributeValue): Record<string, unknown> {
  if ("i" in v) return { name, type: ATTR_TYPE.i, i: v.i };
  if ("f" in v) return { name, type: ATTR_TYPE.f, f: v.f };
  if ("s" in v) return { name, type: ATTR_TYPE.s, s: Buffer.from(v.s, "utf8") };
  if ("ints" in v) return { name, type: ATTR_TYPE.ints, ints: v.ints };
  if ("floats" in v) return { name, type: ATTR_TYPE.floats, floats: v.floats };
  if ("strings" in v) {
    return { name, type: ATTR_TYPE.strings, strings: v.strings.map((s) => Buffer.from(s)) };
  }
  if ("t" in v) return { name, type: ATTR_TYPE.t, t: tensorObject(v.t) };
  return { name, type: ATTR_TYPE.g, g: graphObject(v.g) };
}

function valueObject(v: ValueSpec): Record<string, unknown> {
  const tensor: Record<string, unknown> = { elem_type: elementTypeCode(v.type) };
  if (v.shape) {
    tensor.shape = {
      dim: v.shape.map((d) =>
        typeof d === "number" ? { dim_value: d } : typeof d === "string" ? { dim_param: d } : {},
      ),
    };
  }
  return compact({ name: v.name, doc_string: v.docString, type: { tensor_type: tensor } });
}

function tensorObject(t: TensorSpec): Record<string, unknown> {
  const code = elementTypeCode(t.type);
  const out: Record<string, unknown> = { name: t.name, data_type: code, dims: t.dims };
  if (t.external) {
    out.data_location = 1;
    out.external_data = Object.entries(t.external).map(([key, value]) => ({
      key,
      value: String(value),
    }));
    return out;
  }
  const count = t.dims.reduce((n, d) => n * d, 1);
  const data = t.data ?? [];
  if (data.length !== count) {
    throw new Error(`Tensor "${t.name}" has ${data.length} values; its dims need ${count}`);
  }
  if (code === STRING) {
    out.string_data = Array.from(data as readonly string[], (s) => Buffer.from(s, "utf8"));
  } else out.raw_data = rawData(code, data as ArrayLike<number | bigint>, t.name);
  return out;
}

const STRING = 8;
/** Bytes per element for the types rawData() can write. */
const FIXED_SIZE: Record<number, number> = {
  1: 4, // FLOAT
  2: 1, // UINT8
  3: 1, // INT8
  4: 2, // UINT16
  5: 2, // INT16
  6: 4, // INT32
  7: 8, // INT64
  9: 1, // BOOL
  11: 8, // DOUBLE
  12: 4, // UINT32
  13: 8, // UINT64
};

/** raw_data: fixed-width little-endian values, as onnx.proto requires. */
function rawData(code: number, values: ArrayLike<number | bigint>, name: string): Buffer {
  const size = FIXED_SIZE[code];
  if (!size) throw new Error(`Tensor "${name}": the ONNX writer cannot store type ${code}`);
  const buf = Buffer.alloc(values.length * size);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const at = i * size;
    switch (code) {
      case 1:
        buf.writeFloatLE(Number(v), at);
        break;
      case 11:
        buf.writeDoubleLE(Number(v), at);
        break;
      case 2:
      case 9:
        buf.writeUInt8(Number(v), at);
        break;
      case 3:
        buf.writeInt8(Number(v), at);
        break;
      case 4:
        buf.writeUInt16LE(Number(v), at);
        break;
      case 5:
        buf.writeInt16LE(Number(v), at);
        break;
      case 6:
        buf.writeInt32LE(Number(v), at);
        break;
      case 12:
        buf.writeUInt32LE(Number(v), at);
        break;
      case 7:
        buf.writeBigInt64LE(BigInt(v), at);
        break;
      case 13:
        buf.writeBigUInt64LE(BigInt(v), at);
        break;
    }
  }
  return buf;
}

// ----- the demo's classifier ----------------------------------------------------------------------

export interface LogisticRegressionModel {
  /** weights[f][c]: feature f's weight for class c, on raw (unstandardised) features. */
  weights: number[][];
  /** bias[c]. */
  bias: number[];
  /** Column names of the features, in input order (stored in metadata "feature_names"). */
  featureNames?: string[];
  /** Class names by label index (stored in metadata "class_labels"). */
  classLabels?: string[];
  /** Name of the [batch, F] input (default "features"). */
  inputName?: string;
  graphName?: string;
  docString?: string;
  modelVersion?: number;
  metadata?: Record<string, string>;
}

/**
 * A multinomial logistic-regression classifier as ONNX (opset 17):
 *   features float32 [batch, F] → MatMul W [F, C] → Add b [C] → logits
 *   label = ArgMax(logits) int64 [batch]; probabilities = Softmax(logits) float32 [batch, C]
 */
export function buildLogisticRegressionModel(m: LogisticRegressionModel): Buffer {
  const features = m.weights.length;
  const classes = m.bias.length;
  if (features === 0 || classes < 2) throw new Error("Need at least one feature and two classes");
  if (m.weights.some((row) => row.length !== classes)) {
    throw new Error("Every weight row needs one value per class");
  }
  const metadata: Record<string, string> = { ...m.metadata };
  if (m.featureNames) metadata.feature_names = JSON.stringify(m.featureNames);
  if (m.classLabels) metadata.class_labels = JSON.stringify(m.classLabels);
  const input = m.inputName ?? "features";
  return encodeModel({
    docString: m.docString ?? "Multinomial logistic regression",
    modelVersion: m.modelVersion,
    metadata,
    graph: {
      name: m.graphName ?? "logistic_regression",
      inputs: [{ name: input, type: "float32", shape: ["batch", features] }],
      outputs: [
        { name: "label", type: "int64", shape: ["batch"] },
        { name: "probabilities", type: "float32", shape: ["batch", classes] },
      ],
      initializers: [
        { name: "W", type: "float32", dims: [features, classes], data: m.weights.flat() },
        { name: "b", type: "float32", dims: [classes], data: m.bias },
      ],
      nodes: [
        { op: "MatMul", name: "matmul", inputs: [input, "W"], outputs: ["scores"] },
        { op: "Add", name: "add_bias", inputs: ["scores", "b"], outputs: ["logits"] },
        {
          op: "Softmax",
          name: "softmax",
          inputs: ["logits"],
          outputs: ["probabilities"],
          attributes: { axis: { i: 1 } },
        },
        {
          op: "ArgMax",
          name: "argmax",
          inputs: ["logits"],
          outputs: ["label"],
          attributes: { axis: { i: 1 }, keepdims: { i: 0 } },
        },
      ],
    },
  });
}

// ----- linear regression -------------------------------------------------------------------------

export interface LinearRegressionModel {
  /** weights[f]: feature f's weight, on raw (unstandardised) features. */
  weights: number[];
  bias: number;
  /** Column names of the features, in input order (stored in metadata "feature_names"). */
  featureNames?: string[];
  /** Name of the [batch, F] input (default "features"). */
  inputName?: string;
  /** Name of the output (default "prediction"). */
  outputName?: string;
  /** 2 (default): prediction float32 [batch, 1]; 1: prediction float32 [batch]. */
  outputRank?: 1 | 2;
  graphName?: string;
  docString?: string;
  modelVersion?: number;
  metadata?: Record<string, string>;
}

/**
 * A linear regressor as ONNX (opset 17):
 *   features float32 [batch, F] → MatMul W → Add b → prediction float32 [batch, 1]
 * (W [F, 1], b [1]); with `outputRank` 1, W is [F] and the prediction [batch].
 */
export function buildLinearRegressionModel(m: LinearRegressionModel): Buffer {
  const features = m.weights.length;
  if (features === 0) throw new Error("Need at least one feature");
  if (![...m.weights, m.bias].every(Number.isFinite)) {
    throw new Error("Weights and bias must be finite numbers");
  }
  if (m.featureNames && m.featureNames.length !== features) {
    throw new Error(`${m.featureNames.length} feature names for ${features} weights`);
  }
  const rank = m.outputRank ?? 2;
  const input = m.inputName ?? "features";
  const output = m.outputName ?? "prediction";
  const metadata: Record<string, string> = { ...m.metadata };
  if (m.featureNames) metadata.feature_names = JSON.stringify(m.featureNames);
  return encodeModel({
    docString: m.docString ?? "Linear regression",
    modelVersion: m.modelVersion,
    metadata,
    graph: {
      name: m.graphName ?? "linear_regression",
      inputs: [{ name: input, type: "float32", shape: ["batch", features] }],
      outputs: [{ name: output, type: "float32", shape: rank === 2 ? ["batch", 1] : ["batch"] }],
      initializers: [
        {
          name: "W",
          type: "float32",
          dims: rank === 2 ? [features, 1] : [features],
          data: m.weights,
        },
        { name: "b", type: "float32", dims: [1], data: [m.bias] },
      ],
      nodes: [
        { op: "MatMul", name: "matmul", inputs: [input, "W"], outputs: ["xw"] },
        { op: "Add", name: "add_bias", inputs: ["xw", "b"], outputs: [output] },
      ],
    },
  });
}

// ----- a synthetic multilayer perceptron (benchmarks, fixtures) -----------------------------------

export interface MlpModelOptions {
  /** Layer widths from input to output, e.g. [64, 512, 512, 10]: 64 features, two hidden layers. */
  layers: number[];
  /** Seed of the weights (default 1): the same options always give the same bytes. */
  seed?: number;
  /** Default "features". */
  inputName?: string;
  /** Default "logits". */
  outputName?: string;
}

/**
 * A multilayer perceptron with pseudo-random weights as ONNX (opset 17), for benchmarks and
 * tests that need a model with real arithmetic in it:
 *   features float32 [batch, layers[0]]
 *   → (MatMul W_i → Add b_i → Relu) for every hidden layer
 *   → MatMul → Add → logits float32 [batch, layers[last]]
 * Weights and biases are uniform in ±1/sqrt(fan_in) (the usual default initialisation), drawn
 * from seededRandom, so the activations stay in range however deep the stack is.
 */
export function buildMlpModel(opts: MlpModelOptions): Buffer {
  const { layers } = opts;
  if (layers.length < 2) throw new Error("An MLP needs at least an input and an output width");
  if (layers.some((w) => !Number.isInteger(w) || w < 1)) {
    throw new Error("Every layer width must be a positive integer");
  }
  const inputName = opts.inputName ?? "features";
  const outputName = opts.outputName ?? "logits";
  const random = seededRandom(opts.seed ?? 1);
  const uniform = (count: number, scale: number) => {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = (random() * 2 - 1) * scale;
    return values;
  };
  const initializers: TensorSpec[] = [];
  const nodes: NodeSpec[] = [];
  let current = inputName;
  for (let i = 0; i + 1 < layers.length; i++) {
    const fanIn = layers[i]!;
    const fanOut = layers[i + 1]!;
    const last = i + 2 === layers.length;
    const scale = 1 / Math.sqrt(fanIn);
    initializers.push(
      {
        name: `W${i}`,
        type: "float32",
        dims: [fanIn, fanOut],
        data: uniform(fanIn * fanOut, scale),
      },
      { name: `b${i}`, type: "float32", dims: [fanOut], data: uniform(fanOut, scale) },
    );
    const product = `matmul${i}`;
    const sum = last ? outputName : `dense${i}`;
    nodes.push(
      { op: "MatMul", name: `matmul_${i}`, inputs: [current, `W${i}`], outputs: [product] },
      { op: "Add", name: `add_bias_${i}`, inputs: [product, `b${i}`], outputs: [sum] },
    );
    current = sum;
    if (!last) {
      const activated = `relu${i}`;
      nodes.push({ op: "Relu", name: `relu_${i}`, inputs: [sum], outputs: [activated] });
      current = activated;
    }
  }
  return encodeModel({
    docString: `MLP ${layers.join("→")} (ReLU), seeded random weights (seed ${opts.seed ?? 1})`,
    graph: {
      name: "mlp",
      inputs: [{ name: inputName, type: "float32", shape: ["batch", layers[0]!] }],
      outputs: [{ name: outputName, type: "float32", shape: ["batch", layers.at(-1)!] }],
      initializers,
      nodes,
    },
  });
}
