/**
 * Why a file was refused as an ONNX model. Upload routes map every reason to 422 and show
 * `message`, which is written for the person who uploaded the file.
 */
export type OnnxValidationReason =
  /** The file has no bytes. */
  | "empty"
  /** The bytes are not a protocol buffer at all (random data, ZIP, text, another format). */
  | "not_protobuf"
  /** A protocol buffer, but not an ONNX ModelProto (no graph, fields of the wrong type). */
  | "not_onnx"
  /** An ONNX model whose file ends early. */
  | "truncated"
  /** An ONNX model damaged in the middle (a length or value that cannot be right). */
  | "corrupt"
  /** Weights are stored in separate files, which an upload of one file cannot carry. */
  | "external_data"
  /** The file is well-formed but onnxruntime refuses it (unknown operator, bad graph…). */
  | "load_failed"
  /** onnxruntime did not finish loading it within the time limit. */
  | "load_timeout"
  /** It loads, but the sample request given with it fails to run. */
  | "sample_failed";

export class OnnxValidationError extends Error {
  constructor(
    readonly reason: OnnxValidationReason,
    message: string,
    /** Where it went wrong, for logs: byte offset, path inside the model, runtime message. */
    readonly details: { offset?: number; path?: string; runtimeMessage?: string } = {},
  ) {
    super(message);
    this.name = "OnnxValidationError";
  }
}

export function isOnnxValidationError(error: unknown): error is OnnxValidationError {
  return error instanceof OnnxValidationError;
}
