/**
 * What ModelDeck records about an ONNX file: its signature and provenance. Stored in Postgres as
 * JSON with each model version, so everything here is plain JSON (no undefined, bigint or Map)
 * and client-safe (no Node APIs).
 */
import type { OnnxDtype, OnnxElementType } from "./dtypes";

export type { OnnxDtype, OnnxElementType } from "./dtypes";

/**
 * One dimension of a shape: a fixed size, the name of a symbolic dimension (ONNX `dim_param`,
 * e.g. "batch"), or null when the model leaves the dimension unknown (neither is set; a negative
 * `dim_value`, which some exporters write for "unknown", is also reported as null).
 */
export type OnnxDim = number | string | null;

/** The kind of value a graph input or output carries. */
export type OnnxValueKind =
  "tensor" | "sparse_tensor" | "sequence" | "map" | "optional" | "unknown";

/** One graph input or output. */
export interface OnnxValueSignature {
  /** The name a caller feeds or reads; unique among the graph's inputs and outputs. */
  name: string;
  /** "tensor" for ordinary tensors; classical-ML converters also emit sequences and maps (ZipMap). */
  kind: OnnxValueKind;
  /** Element type as ONNX names it ("FLOAT", "INT64", "STRING"…); null unless a (sparse) tensor. */
  elementType: OnnxElementType | null;
  /** The same element type as onnxruntime/numpy name it ("float32", "int64"…); null likewise. */
  dtype: OnnxDtype | null;
  /** Dimensions, outermost first; [] is a scalar; null when no shape is declared (any rank). */
  shape: OnnxDim[] | null;
  /** The whole type in ONNX notation: "tensor(float)", "seq(map(int64,tensor(float)))"… */
  type: string;
  /** The model's own description of this value ("" when it has none). */
  docString: string;
}

/** An operator set the model imports. */
export interface OnnxOpsetImport {
  /** "" is the default ONNX domain (ai.onnx); others e.g. "ai.onnx.ml", "com.microsoft". */
  domain: string;
  /** The operator-set version, e.g. 17. */
  version: number;
}

/** The signature and provenance of an ONNX model, as read from its ModelProto. */
export interface OnnxSignature {
  /** Layout version of this object, so stored signatures can be migrated if it changes. */
  schemaVersion: 1;
  /** Graph inputs a caller must (or may) feed: initializers listed as inputs are left out. */
  inputs: OnnxValueSignature[];
  /** Graph outputs, in the model's order. */
  outputs: OnnxValueSignature[];
  /** ONNX IR version of the file format (ModelProto.ir_version), e.g. 8. */
  irVersion: number;
  /** Operator sets imported (ModelProto.opset_import), in the model's order. */
  opsets: OnnxOpsetImport[];
  /** Tool that wrote the model, e.g. "pytorch", "skl2onnx", "modeldeck" ("" if not stated). */
  producerName: string;
  /** Version of that tool ("" if not stated). */
  producerVersion: string;
  /** Reverse-DNS namespace the author chose for the model ("" if not stated). */
  domain: string;
  /** ModelProto.model_version: an integer the author may set (0 if not set). */
  modelVersion: number;
  /** ModelProto.doc_string (truncated to 64 KiB). */
  docString: string;
  /** Name of the main graph. */
  graphName: string;
  /** The main graph's doc_string (truncated to 64 KiB). */
  graphDocString: string;
  /** Nodes in the main graph. */
  nodeCount: number;
  /** Nodes inside subgraphs (If/Loop/Scan bodies), at any depth. */
  subgraphNodeCount: number;
  /**
   * How often each operator is used, over the main graph and all subgraphs. Operators of the
   * default domain are keyed by op type ("MatMul"), others by "domain:OpType"
   * ("ai.onnx.ml:LinearClassifier", "com.microsoft:FusedConv").
   */
  opTypes: Record<string, number>;
  /** Initializers (weights) in the main graph and subgraphs, sparse ones included. */
  initializerCount: number;
  /**
   * Elements stored in the model: initializers plus tensors embedded in nodes (Constant values;
   * some exporters keep all weights there). Sparse tensors count their stored values.
   */
  parameterCount: number;
  /** Bytes those elements occupy at their element type (UTF-8 length for strings). */
  parameterBytes: number;
  /** Model-local functions (ModelProto.functions). */
  functionCount: number;
  /** ModelProto.metadata_props as key → value (values truncated to 64 KiB; last key wins). */
  metadata: Record<string, string>;
}

/** One difference between two values of the same name. */
export interface OnnxValueChange {
  name: string;
  /** What changed, e.g. ["dtype"] or ["shape"]. */
  changes: Array<"kind" | "dtype" | "shape">;
  before: OnnxValueSignature;
  after: OnnxValueSignature;
}

/** The signature difference between two model versions, `a` (before) → `b` (after). */
export interface OnnxSignatureDiff {
  /** True when no input or output was added, removed or changed (opsets and weights may differ). */
  sameInterface: boolean;
  inputs: {
    added: OnnxValueSignature[];
    removed: OnnxValueSignature[];
    changed: OnnxValueChange[];
  };
  outputs: {
    added: OnnxValueSignature[];
    removed: OnnxValueSignature[];
    changed: OnnxValueChange[];
  };
  /** Operator sets whose version differs; null on one side means not imported there. */
  opsets: Array<{ domain: string; before: number | null; after: number | null }>;
  /** Other fields that differ (irVersion, producerName, parameterCount…), for the compare view. */
  fields: Array<{ field: string; before: unknown; after: unknown }>;
}
