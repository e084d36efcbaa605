/**
 * Reads an ONNX ModelProto's signature and provenance by streaming the file (proto-reader.ts):
 * it descends into the model, its graphs, nodes and tensors' headers, and jumps over tensor
 * payloads, so a 2 GiB model costs a 64 KiB window plus the signature itself.
 *
 * Field numbers follow onnx.proto (onnx-schema.ts holds the schema; a unit test checks the two
 * agree). Where the bytes stop making sense, the error says why in words a person understands:
 * empty, not a protocol buffer at all, a protocol buffer that is not a model, cut short, or
 * damaged.
 */
import { dtypeOf, elementTypeOf, storageBytes } from "./dtypes";
import { OnnxValidationError } from "./errors";
import {
  bufferSource,
  LEN,
  openFileSource,
  ProtoCursor,
  VARINT,
  WireError,
  type ByteSource,
  type FieldHeader,
} from "./proto-reader";
import { describeFileKind } from "./sniff";
import type {
  OnnxDim,
  OnnxOpsetImport,
  OnnxSignature,
  OnnxValueKind,
  OnnxValueSignature,
} from "./types";

/** The signature, plus what must be checked before the model may be accepted. */
export interface ParsedOnnxModel {
  signature: OnnxSignature;
  /** Tensors whose data lives in other files; non-empty means a single file cannot carry it. */
  externalData: Array<{ tensor: string; location: string }>;
}

/** onnx.proto field numbers of everything the parser reads. */
export const ONNX_FIELDS = {
  ModelProto: {
    ir_version: 1,
    producer_name: 2,
    producer_version: 3,
    domain: 4,
    model_version: 5,
    doc_string: 6,
    graph: 7,
    opset_import: 8,
    metadata_props: 14,
    training_info: 20,
    functions: 25,
  },
  GraphProto: {
    node: 1,
    name: 2,
    initializer: 5,
    doc_string: 10,
    input: 11,
    output: 12,
    sparse_initializer: 15,
  },
  NodeProto: { name: 3, op_type: 4, attribute: 5, domain: 7 },
  AttributeProto: {
    name: 1,
    t: 5,
    g: 6,
    tensors: 10,
    graphs: 11,
    sparse_tensor: 22,
    sparse_tensors: 23,
  },
  TensorProto: {
    dims: 1,
    data_type: 2,
    string_data: 6,
    name: 8,
    external_data: 13,
    data_location: 14,
  },
  SparseTensorProto: { values: 1, indices: 2 },
  ValueInfoProto: { name: 1, type: 2, doc_string: 3 },
  TypeProto: {
    tensor_type: 1,
    sequence_type: 4,
    map_type: 5,
    sparse_tensor_type: 8,
    optional_type: 9,
  },
  "TypeProto.Tensor": { elem_type: 1, shape: 2 },
  "TypeProto.SparseTensor": { elem_type: 1, shape: 2 },
  "TypeProto.Sequence": { elem_type: 1 },
  "TypeProto.Map": { key_type: 1, value_type: 2 },
  "TypeProto.Optional": { elem_type: 1 },
  TensorShapeProto: { dim: 1 },
  "TensorShapeProto.Dimension": { dim_value: 1, dim_param: 2 },
  OperatorSetIdProto: { domain: 1, version: 2 },
  StringStringEntryProto: { key: 1, value: 2 },
  TrainingInfoProto: { initialization: 1, algorithm: 2 },
  FunctionProto: { attribute_proto: 11, node: 7 },
} as const;

const M = ONNX_FIELDS.ModelProto;
const G = ONNX_FIELDS.GraphProto;
const N = ONNX_FIELDS.NodeProto;
const A = ONNX_FIELDS.AttributeProto;
const T = ONNX_FIELDS.TensorProto;

/** Doc strings and metadata values longer than this are cut (the signature is stored as JSON). */
const TEXT_CAP = 64 * 1024;
/** Names are needed whole; a name longer than this is not a real model's. */
const NAME_CAP = 64 * 1024;
/** Node names and op types only label error messages and count operators. */
const LABEL_CAP = 256;
/** Subgraphs (If/Loop/Scan bodies) and nested types deeper than this are refused. */
const MAX_DEPTH = 64;
/** Bytes sniffed to describe a file that is not a model. */
const SNIFF_BYTES = 4096;
/** ir_version values that make a file look like an ONNX model (1 = 2017 … 13 in 2025). */
const PLAUSIBLE_IR = { min: 1, max: 100 };

const TENSOR_KINDS = new Set<OnnxValueKind>(["tensor", "sparse_tensor"]);
const UNKNOWN_TYPE: TypeInfo = { kind: "unknown", elem: null, shape: null, type: "unknown" };

/** A protocol buffer that cannot be a ModelProto (a field of the wrong type, too deep…). */
class SchemaError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

interface TypeInfo {
  kind: OnnxValueKind;
  elem: number | null;
  shape: OnnxDim[] | null;
  type: string;
}

interface TensorInfo {
  name: string;
  elements: number;
  bytes: number;
}

/** How a graph is read: counted into the signature (main graph, subgraphs) or only checked. */
interface Scope {
  depth: number;
  main: boolean;
  count: boolean;
}

export interface ParseOptions {
  /** Bytes the reader keeps in memory at once (default 64 KiB); tests use tiny windows. */
  windowBytes?: number;
}

/** Reads the signature of the ONNX file at `filePath` (no onnxruntime involved). */
export async function parseOnnxFile(
  filePath: string,
  opts: ParseOptions = {},
): Promise<ParsedOnnxModel> {
  const source = openFileSource(filePath);
  try {
    return parseOnnx(source, opts);
  } finally {
    source.close();
  }
}

export async function parseOnnxBytes(
  bytes: Uint8Array,
  opts: ParseOptions = {},
): Promise<ParsedOnnxModel> {
  return parseOnnx(bufferSource(bytes), opts);
}

export function parseOnnx(source: ByteSource, opts: ParseOptions = {}): ParsedOnnxModel {
  if (source.size === 0) throw new OnnxValidationError("empty", "The file is empty.");
  return new ModelParser(source, opts.windowBytes).run();
}

/** One step of the path to where the parser is, e.g. node 3 (Conv "conv1"); built lazily. */
interface PathEntry {
  what: string;
  index?: number;
  name?: string;
  /** Nodes: their op type. */
  op?: string;
}

function describeEntry(e: PathEntry): string {
  const head = e.index === undefined ? e.what : `${e.what} ${e.index}`;
  const name = e.name ? `"${e.name}"` : "";
  if (e.op !== undefined)
    return e.op || name ? `${head} (${[e.op, name].filter(Boolean).join(" ")})` : head;
  return name ? `${head} ${name}` : head;
}

/**
 * Written as explicit loops over fields, without a closure per message: graphs with hundreds of
 * thousands of nodes are read in well under a second.
 */
class ModelParser {
  private readonly cur: ProtoCursor;
  /** Where the parser is, for error messages. */
  private readonly path: PathEntry[] = [];
  /** The largest end offset any field declared: how long the file should at least have been. */
  private declaredEnd = 0;
  private lastTopField = 0;

  private irVersion: number | null = null;
  private opsets: OnnxOpsetImport[] = [];
  private producerName = "";
  private producerVersion = "";
  private domain = "";
  private modelVersion = 0;
  private docString = "";
  private hasGraph = false;
  private graphName = "";
  private graphDocString = "";
  private inputs: OnnxValueSignature[] = [];
  private outputs: OnnxValueSignature[] = [];
  private readonly initializerNames = new Set<string>();
  private nodeCount = 0;
  private subgraphNodeCount = 0;
  private readonly opTypes = new Map<string, number>();
  private initializerCount = 0;
  private parameterCount = 0;
  private parameterBytes = 0;
  private functionCount = 0;
  private readonly metadata = new Map<string, string>();
  private readonly externalData: ParsedOnnxModel["externalData"] = [];

  constructor(
    private readonly source: ByteSource,
    windowBytes?: number,
  ) {
    this.cur = new ProtoCursor(source, windowBytes);
  }

  run(): ParsedOnnxModel {
    try {
      this.model();
    } catch (error) {
      if (error instanceof WireError || error instanceof SchemaError) {
        throw this.explain(error);
      }
      throw error;
    }
    return this.finish();
  }

  // ----- ModelProto -------------------------------------------------------------------------

  private model(): void {
    const end = this.cur.size;
    for (let h; (h = this.next(end));) {
      this.lastTopField = h.field;
      switch (h.field) {
        case M.ir_version:
          this.irVersion = this.int(h, "ir_version");
          break;
        case M.producer_name:
          this.producerName = this.text(h, LABEL_CAP, "producer_name");
          break;
        case M.producer_version:
          this.producerVersion = this.text(h, LABEL_CAP, "producer_version");
          break;
        case M.domain:
          this.domain = this.text(h, LABEL_CAP, "domain");
          break;
        case M.model_version:
          this.modelVersion = this.int(h, "model_version");
          break;
        case M.doc_string:
          this.docString = this.text(h, TEXT_CAP, "doc_string");
          break;
        case M.graph:
          this.hasGraph = true;
          this.graph(this.open(h, { what: "graph" }), { depth: 0, main: true, count: true });
          this.close();
          break;
        case M.opset_import:
          this.opset(this.open(h, { what: "opset_import", index: this.opsets.length }));
          this.close();
          break;
        case M.metadata_props: {
          const e = this.open(h, { what: "metadata_props", index: this.metadata.size });
          const [key, value] = this.entry(e, TEXT_CAP);
          this.metadata.set(key, value);
          this.close();
          break;
        }
        case M.training_info:
          this.trainingInfo(this.open(h, { what: "training_info" }));
          this.close();
          break;
        case M.functions:
          this.functionBody(this.open(h, { what: "function", index: this.functionCount++ }));
          this.close();
          break;
        default:
          this.cur.skipPayload(h);
      }
    }
  }

  private opset(end: number): void {
    const F = ONNX_FIELDS.OperatorSetIdProto;
    let domain = "";
    let version = 0;
    for (let h; (h = this.next(end));) {
      if (h.field === F.domain) domain = this.text(h, LABEL_CAP, "domain");
      else if (h.field === F.version) version = this.int(h, "version");
      else this.cur.skipPayload(h);
    }
    this.opsets.push({ domain, version });
  }

  /** A StringStringEntryProto as [key, value]. */
  private entry(end: number, valueCap: number): [string, string] {
    const F = ONNX_FIELDS.StringStringEntryProto;
    let key = "";
    let value = "";
    for (let h; (h = this.next(end));) {
      if (h.field === F.key) key = this.text(h, NAME_CAP, "key");
      else if (h.field === F.value) value = this.text(h, valueCap, "value");
      else this.cur.skipPayload(h);
    }
    return [key, value];
  }

  private trainingInfo(end: number): void {
    const F = ONNX_FIELDS.TrainingInfoProto;
    // Not part of inference: only checked for external data.
    for (let h; (h = this.next(end));) {
      if (h.field === F.initialization || h.field === F.algorithm) {
        this.graph(this.open(h, { what: "graph" }), { depth: 1, main: false, count: false });
        this.close();
      } else this.cur.skipPayload(h);
    }
  }

  private functionBody(end: number): void {
    const F = ONNX_FIELDS.FunctionProto;
    const scope: Scope = { depth: 1, main: false, count: false };
    let nodes = 0;
    for (let h; (h = this.next(end));) {
      if (h.field === F.node) {
        this.node(this.open(h, { what: "node", index: nodes++, op: "" }), scope);
        this.close();
      } else if (h.field === F.attribute_proto) {
        this.attribute(this.open(h, { what: "attribute" }), scope);
        this.close();
      } else this.cur.skipPayload(h);
    }
  }

  // ----- GraphProto, NodeProto, AttributeProto ----------------------------------------------

  private graph(end: number, scope: Scope): void {
    if (scope.depth > MAX_DEPTH) {
      throw new SchemaError(this.cur.pos, `subgraphs are nested more than ${MAX_DEPTH} deep`);
    }
    let nodes = 0;
    let initializers = 0;
    for (let h; (h = this.next(end));) {
      switch (h.field) {
        case G.node:
          this.node(this.open(h, { what: "node", index: nodes++, op: "" }), scope);
          this.close();
          break;
        case G.initializer: {
          const e = this.open(h, { what: "initializer", index: initializers++ });
          const t = this.tensor(e);
          if (scope.count) this.countInitializer(t, scope);
          this.close();
          break;
        }
        case G.sparse_initializer: {
          const e = this.open(h, { what: "sparse_initializer", index: initializers++ });
          const t = this.sparseTensor(e);
          if (scope.count) this.countInitializer(t, scope);
          this.close();
          break;
        }
        case G.name:
          if (scope.main) this.graphName = this.text(h, NAME_CAP, "name");
          else this.cur.skipPayload(h);
          break;
        case G.doc_string:
          if (scope.main) this.graphDocString = this.text(h, TEXT_CAP, "doc_string");
          else this.cur.skipPayload(h);
          break;
        case G.input:
        case G.output: {
          if (!scope.main) {
            this.cur.skipPayload(h);
            break;
          }
          const list = h.field === G.input ? this.inputs : this.outputs;
          const what = h.field === G.input ? "input" : "output";
          list.push(this.valueInfo(this.open(h, { what, index: list.length })));
          this.close();
          break;
        }
        default:
          this.cur.skipPayload(h);
      }
    }
  }

  private countInitializer(t: TensorInfo, scope: Scope): void {
    this.initializerCount++;
    this.parameterCount += t.elements;
    this.parameterBytes += t.bytes;
    if (scope.main) this.initializerNames.add(t.name);
  }

  private countConstant(t: TensorInfo, scope: Scope): void {
    if (!scope.count) return;
    this.parameterCount += t.elements;
    this.parameterBytes += t.bytes;
  }

  private node(end: number, scope: Scope): void {
    const here = this.path[this.path.length - 1]!;
    let domain = "";
    for (let h; (h = this.next(end));) {
      switch (h.field) {
        case N.name:
          here.name = this.text(h, LABEL_CAP, "name");
          break;
        case N.op_type:
          here.op = this.text(h, LABEL_CAP, "op_type");
          break;
        case N.domain:
          domain = this.text(h, LABEL_CAP, "domain");
          break;
        case N.attribute:
          this.attribute(this.open(h, { what: "attribute" }), scope);
          this.close();
          break;
        default:
          this.cur.skipPayload(h);
      }
    }
    if (!scope.count) return;
    if (scope.main) this.nodeCount++;
    else this.subgraphNodeCount++;
    const op = here.op ?? "";
    const key = domain === "" || domain === "ai.onnx" ? op : `${domain}:${op}`;
    this.opTypes.set(key, (this.opTypes.get(key) ?? 0) + 1);
  }

  private attribute(end: number, scope: Scope): void {
    const here = this.path[this.path.length - 1]!;
    const sub: Scope = { depth: scope.depth + 1, main: false, count: scope.count };
    for (let h; (h = this.next(end));) {
      switch (h.field) {
        case A.name:
          here.name = this.text(h, LABEL_CAP, "name");
          break;
        case A.g:
        case A.graphs:
          this.graph(this.open(h, { what: "graph" }), sub);
          this.close();
          break;
        // Tensors in attributes (Constant nodes' values) are weights too, but not initializers.
        case A.t:
        case A.tensors:
          this.countConstant(this.tensor(this.open(h, { what: "tensor" })), scope);
          this.close();
          break;
        case A.sparse_tensor:
        case A.sparse_tensors:
          this.countConstant(this.sparseTensor(this.open(h, { what: "sparse_tensor" })), scope);
          this.close();
          break;
        default:
          this.cur.skipPayload(h);
      }
    }
  }

  // ----- TensorProto ------------------------------------------------------------------------

  private tensor(end: number): TensorInfo {
    const here = this.path[this.path.length - 1]!;
    let elements = 1;
    let dataType = 0;
    let stringBytes = 0;
    let external = false;
    let location = "";
    for (let h; (h = this.next(end));) {
      switch (h.field) {
        case T.dims:
          if (h.wire === LEN) {
            // Packed (proto3 writers); proto2 writers repeat the field.
            const stop = this.cur.pos + h.length;
            while (this.cur.pos < stop) elements *= Math.max(this.cur.varint(), 0);
            if (this.cur.pos !== stop) throw new WireError("malformed", h.start, "bad dims");
          } else elements *= Math.max(this.int(h, "dims"), 0);
          break;
        case T.data_type:
          dataType = this.int(h, "data_type");
          break;
        case T.name:
          here.name = this.text(h, NAME_CAP, "name");
          break;
        case T.string_data:
          stringBytes += h.length;
          this.cur.skip(h.length);
          break;
        case T.data_location:
          external = this.int(h, "data_location") === 1 || external;
          break;
        case T.external_data: {
          external = true;
          const [key, value] = this.entry(this.open(h, { what: "external_data" }), NAME_CAP);
          if (key === "location") location = value;
          this.close();
          break;
        }
        default:
          // raw_data and the typed *_data arrays: the payload that must never be read.
          this.cur.skipPayload(h);
      }
    }
    const name = here.name ?? "";
    if (external) this.externalData.push({ tensor: name, location });
    return { name, elements, bytes: storageBytes(dataType, elements) ?? stringBytes };
  }

  private sparseTensor(end: number): TensorInfo {
    const F = ONNX_FIELDS.SparseTensorProto;
    let values: TensorInfo = { name: "", elements: 0, bytes: 0 };
    let indexBytes = 0;
    for (let h; (h = this.next(end));) {
      if (h.field === F.values) {
        values = this.tensor(this.open(h, { what: "values" }));
        this.close();
      } else if (h.field === F.indices) {
        indexBytes = this.tensor(this.open(h, { what: "indices" })).bytes;
        this.close();
      } else this.cur.skipPayload(h);
    }
    return { ...values, bytes: values.bytes + indexBytes };
  }

  // ----- ValueInfoProto and TypeProto -------------------------------------------------------

  private valueInfo(end: number): OnnxValueSignature {
    const F = ONNX_FIELDS.ValueInfoProto;
    const here = this.path[this.path.length - 1]!;
    let docString = "";
    let type = UNKNOWN_TYPE;
    for (let h; (h = this.next(end));) {
      if (h.field === F.name) here.name = this.text(h, NAME_CAP, "name");
      else if (h.field === F.type) type = this.typeProto(this.sub(h, "type"), 0);
      else if (h.field === F.doc_string) docString = this.text(h, TEXT_CAP, "doc_string");
      else this.cur.skipPayload(h);
    }
    const tensor = TENSOR_KINDS.has(type.kind);
    return {
      name: here.name ?? "",
      kind: type.kind,
      elementType: tensor && type.elem !== null ? elementTypeOf(type.elem) : null,
      dtype: tensor && type.elem !== null ? dtypeOf(type.elem) : null,
      shape: tensor ? type.shape : null,
      type: type.type,
      docString,
    };
  }

  private typeProto(end: number, depth: number): TypeInfo {
    if (depth > MAX_DEPTH) {
      throw new SchemaError(this.cur.pos, `types are nested more than ${MAX_DEPTH} deep`);
    }
    const F = ONNX_FIELDS.TypeProto;
    let info = UNKNOWN_TYPE;
    for (let h; (h = this.next(end));) {
      switch (h.field) {
        case F.tensor_type:
          info = this.tensorType(this.sub(h, "tensor_type"), "tensor");
          break;
        case F.sparse_tensor_type:
          info = this.tensorType(this.sub(h, "sparse_tensor_type"), "sparse_tensor");
          break;
        case F.sequence_type: {
          const inner = this.wrappedType(this.sub(h, "sequence_type"), depth);
          info = { kind: "sequence", elem: null, shape: null, type: `seq(${inner.type})` };
          break;
        }
        case F.optional_type: {
          const inner = this.wrappedType(this.sub(h, "optional_type"), depth);
          info = { kind: "optional", elem: null, shape: null, type: `optional(${inner.type})` };
          break;
        }
        case F.map_type:
          info = {
            kind: "map",
            elem: null,
            shape: null,
            type: this.mapType(this.sub(h, "map_type"), depth),
          };
          break;
        default:
          this.cur.skipPayload(h);
      }
    }
    return info;
  }

  private tensorType(end: number, kind: "tensor" | "sparse_tensor"): TypeInfo {
    const F = ONNX_FIELDS["TypeProto.Tensor"];
    let elem = 0;
    let shape: OnnxDim[] | null = null;
    for (let h; (h = this.next(end));) {
      if (h.field === F.elem_type) elem = this.int(h, "elem_type");
      else if (h.field === F.shape) shape = this.shape(this.sub(h, "shape"));
      else this.cur.skipPayload(h);
    }
    return { kind, elem, shape, type: `${kind}(${elementName(elem)})` };
  }

  /** Sequence and Optional: one nested TypeProto in field 1. */
  private wrappedType(end: number, depth: number): TypeInfo {
    let inner = UNKNOWN_TYPE;
    for (let h; (h = this.next(end));) {
      if (h.field === ONNX_FIELDS["TypeProto.Sequence"].elem_type) {
        inner = this.typeProto(this.sub(h, "elem_type"), depth + 1);
      } else this.cur.skipPayload(h);
    }
    return inner;
  }

  private mapType(end: number, depth: number): string {
    const F = ONNX_FIELDS["TypeProto.Map"];
    let key = 0;
    let value = "unknown";
    for (let h; (h = this.next(end));) {
      if (h.field === F.key_type) key = this.int(h, "key_type");
      else if (h.field === F.value_type) {
        value = this.typeProto(this.sub(h, "value_type"), depth + 1).type;
      } else this.cur.skipPayload(h);
    }
    return `map(${elementName(key)},${value})`;
  }

  private shape(end: number): OnnxDim[] {
    const F = ONNX_FIELDS["TensorShapeProto.Dimension"];
    const dims: OnnxDim[] = [];
    for (let h; (h = this.next(end));) {
      if (h.field !== ONNX_FIELDS.TensorShapeProto.dim) {
        this.cur.skipPayload(h);
        continue;
      }
      const dimEnd = this.sub(h, "dim");
      let dim: OnnxDim = null;
      for (let d; (d = this.next(dimEnd));) {
        if (d.field === F.dim_value) {
          const v = this.int(d, "dim_value");
          dim = v >= 0 ? v : null;
        } else if (d.field === F.dim_param) {
          dim = this.text(d, NAME_CAP, "dim_param") || null;
        } else this.cur.skipPayload(d);
      }
      dims.push(dim);
    }
    return dims;
  }

  // ----- plumbing -----------------------------------------------------------------------------

  /** The next field of the message that ends at `end`, or null at its end. */
  private next(end: number): FieldHeader | null {
    if (this.cur.pos >= end) {
      // A varint can run over the end of its message; a well-formed one ends exactly there.
      if (this.cur.pos > end) {
        throw new WireError("malformed", this.cur.pos, "a field runs past the end of its message");
      }
      return null;
    }
    const h = this.cur.header(end);
    if (h.wire === LEN && this.cur.pos + h.length > this.declaredEnd) {
      this.declaredEnd = this.cur.pos + h.length;
    }
    return h;
  }

  /**
   * Enters a length-delimited sub-message, naming it in the path for errors; returns its end.
   * close() leaves it; after an error the path still says where it happened.
   */
  private open(h: FieldHeader, entry: PathEntry): number {
    this.expect(h, LEN, entry.what);
    this.path.push(entry);
    return this.cur.pos + h.length;
  }

  private close(): void {
    this.path.pop();
  }

  /** The end of a small nested message that needs no place in the path. */
  private sub(h: FieldHeader, what: string): number {
    this.expect(h, LEN, what);
    return this.cur.pos + h.length;
  }

  private int(h: FieldHeader, what: string): number {
    this.expect(h, VARINT, what);
    return this.cur.varint();
  }

  private text(h: FieldHeader, cap: number, what: string): string {
    this.expect(h, LEN, what);
    return this.cur.string(h.length, cap);
  }

  private expect(h: FieldHeader, wire: number, what: string): void {
    if (h.wire === wire) return;
    const want = wire === LEN ? "text or a message" : "a number";
    throw new SchemaError(h.start, `field ${h.field} (${what}) should hold ${want}`);
  }

  // ----- results and errors ---------------------------------------------------------------------

  /** A plausible ir_version came first: a file that then ends early was cut short. */
  private looksLikeOnnx(): boolean {
    return (
      this.irVersion !== null &&
      this.irVersion >= PLAUSIBLE_IR.min &&
      this.irVersion <= PLAUSIBLE_IR.max
    );
  }

  /**
   * More than a plausible first number (other messages start with a small varint too, e.g. a
   * TensorProto's dims): ONNX fields of the right types followed it.
   */
  private surelyOnnx(): boolean {
    return (
      this.looksLikeOnnx() && (this.hasGraph || this.opsets.length > 0 || this.producerName !== "")
    );
  }

  /** Whether the whole file is well-formed protobuf at the top level, whatever its fields. */
  private wellFormedProtobuf(): boolean {
    const cur = new ProtoCursor(this.source);
    try {
      while (cur.pos < cur.size) cur.skipPayload(cur.header(cur.size));
      return cur.pos === cur.size;
    } catch (error) {
      if (error instanceof WireError) return false;
      throw error;
    }
  }

  private finish(): ParsedOnnxModel {
    // Writers emit fields in number order (ir_version … graph = 7, opset_import = 8): a file
    // that stops cleanly before those was most likely cut at a field boundary.
    if (!this.hasGraph) {
      if (this.looksLikeOnnx() && this.lastTopField < M.graph) {
        throw new OnnxValidationError(
          "truncated",
          `The model is truncated: the file ends before the graph (the model's computation). ${this.sizeNote()}`,
          { offset: this.cur.size },
        );
      }
      return this.notOnnx("it has no graph");
    }
    if (this.irVersion === null) return this.notOnnx("it has no ir_version");
    if (this.opsets.length === 0 && this.irVersion >= 3 && this.lastTopField <= M.graph) {
      throw new OnnxValidationError(
        "truncated",
        `The model is truncated: the file ends after the graph, before the list of operator sets it uses. ${this.sizeNote()}`,
        { offset: this.cur.size },
      );
    }
    const inputs = this.inputs.filter((v) => !this.initializerNames.has(v.name));
    return {
      signature: {
        schemaVersion: 1,
        inputs,
        outputs: this.outputs,
        irVersion: this.irVersion,
        opsets: this.opsets,
        producerName: this.producerName,
        producerVersion: this.producerVersion,
        domain: this.domain,
        modelVersion: this.modelVersion,
        docString: this.docString,
        graphName: this.graphName,
        graphDocString: this.graphDocString,
        nodeCount: this.nodeCount,
        subgraphNodeCount: this.subgraphNodeCount,
        // fromEntries: keys such as "__proto__" become plain properties.
        opTypes: Object.fromEntries([...this.opTypes].sort(([a], [b]) => (a < b ? -1 : 1))),
        initializerCount: this.initializerCount,
        parameterCount: this.parameterCount,
        parameterBytes: this.parameterBytes,
        functionCount: this.functionCount,
        metadata: Object.fromEntries(this.metadata),
      },
      externalData: this.externalData,
    };
  }

  private notOnnx(why: string): never {
    const kind = describeFileKind(this.head());
    throw new OnnxValidationError(
      "not_onnx",
      `This is not an ONNX model: it is a protocol buffer, but not an ONNX ModelProto (${why})${kind ? `; it looks like ${kind}` : ""}.`,
    );
  }

  private sizeNote(): string {
    return `Upload the complete file (this one has ${fmt(this.cur.size)} bytes).`;
  }

  private explain(error: WireError | SchemaError): OnnxValidationError {
    const where = this.path.map(describeEntry).join(" › ") || "the model's header";
    const details = { offset: error.offset, path: where };
    if (error instanceof WireError && error.kind === "eof" && this.looksLikeOnnx()) {
      const needed =
        this.declaredEnd > this.cur.size
          ? ` It has ${fmt(this.cur.size)} bytes; the model needs at least ${fmt(this.declaredEnd)}.`
          : "";
      return new OnnxValidationError(
        "truncated",
        `The model is truncated: the file ends in the middle of ${where}.${needed} Upload the complete file.`,
        details,
      );
    }
    if (this.surelyOnnx()) {
      return new OnnxValidationError(
        "corrupt",
        `The model file is corrupt: ${error.message} at byte ${fmt(error.offset)} (in ${where}).`,
        details,
      );
    }
    const kind = describeFileKind(this.head());
    const looks = kind ? ` (looks like ${kind})` : "";
    if (error instanceof SchemaError && this.wellFormedProtobuf()) {
      return new OnnxValidationError(
        "not_onnx",
        `This is not an ONNX model: it is a protocol buffer, but not an ONNX ModelProto (${error.message})${looks}.`,
        details,
      );
    }
    return new OnnxValidationError(
      "not_protobuf",
      `This is not an ONNX model: it does not parse as a protocol-buffer ModelProto${looks}.`,
      details,
    );
  }

  private head(): Uint8Array {
    const buf = new Uint8Array(Math.min(SNIFF_BYTES, this.cur.size));
    const n = this.source.read(buf, 0, buf.length, 0);
    return buf.subarray(0, n);
  }
}

/** ONNX's lower-case type names as used in "tensor(float)"; a bare code if unknown. */
function elementName(code: number): string {
  return elementTypeOf(code)?.toLowerCase() ?? `type ${code}`;
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}
