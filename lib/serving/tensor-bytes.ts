/**
 * Raw tensor bytes: the wire layout shared by the Open Inference Protocol's binary forms (the
 * HTTP binary tensor data extension and gRPC's `raw_input_contents` / `raw_output_contents`).
 *
 * Elements are little-endian, row-major, without padding, each in its type's native size; BOOL
 * is one byte (0 or 1); FP16 is the raw IEEE half bits; BYTES is, per element, a 4-byte
 * little-endian length followed by that many bytes (UTF-8 here, as tensors of strings hold text).
 *
 * Decoding gives the same typed arrays as the JSON path (see HostTensor), as a view of the bytes
 * when their offset is aligned for the element type, else as one copy: no per-element work
 * except for BOOL (checked) and BYTES (split). Encoding is a view of the typed array (no copy)
 * for every type but BYTES.
 */
import { InferenceInputError } from "./inference-error";
import type { HostTensor, OipDatatype, OrtType, TensorData } from "./protocol";

// Typed arrays use the host's byte order; every platform Node runs on in practice is
// little-endian, so the wire layout is the memory layout. Refuse loudly rather than corrupt.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type NumericOrtType = Exclude<OrtType, "string">;

type TypedArrayClass =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/** The typed array each numeric type decodes to (bool as 0/1 bytes, float16 as half bits). */
const ARRAY_CLASS: Record<NumericOrtType, TypedArrayClass> = {
  bool: Uint8Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  float16: Uint16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  uint64: BigUint64Array,
  int64: BigInt64Array,
  float64: Float64Array,
};

/** Bytes per element on the wire, or null for BYTES (variable). */
export function elementByteSize(type: OrtType): number | null {
  return type === "string" ? null : ARRAY_CLASS[type].BYTES_PER_ELEMENT;
}

/** What decodeTensorBytes needs to know about the tensor, for checks and for error messages. */
export interface RawTensorSpec {
  /** input name, for the person who sent it */
  input: string;
  type: OrtType;
  datatype: OipDatatype;
  /** already checked against the model */
  dims: readonly number[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function fail(message: string, details: Record<string, unknown>): never {
  throw new InferenceInputError(400, "bad_data", message, details);
}

function formatDims(dims: readonly number[]): string {
  return `[${dims.join(",")}]`;
}

function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < dims.length; i++) n *= dims[i]!;
  return n;
}

/**
 * The tensor that raw little-endian bytes stand for, typed as the JSON path types it. The result
 * may share memory with `bytes` (do not reuse that memory while the tensor lives). Throws an
 * InferenceInputError (400 `bad_data`) naming the input when the length does not match the
 * shape, a BOOL byte is not 0 or 1, or BYTES framing is broken.
 */
export function decodeTensorBytes(spec: RawTensorSpec, bytes: Uint8Array): TensorData {
  if (!HOST_LITTLE_ENDIAN) throw new Error("Raw tensor bytes need a little-endian host");
  const n = elementCount(spec.dims);
  if (spec.type === "string") return decodeStrings(spec, n, bytes);
  const Class = ARRAY_CLASS[spec.type];
  const size = Class.BYTES_PER_ELEMENT;
  const expected = n * size;
  if (bytes.byteLength !== expected) {
    fail(
      `Input "${spec.input}": shape ${formatDims(spec.dims)} of ${spec.datatype} needs ${expected} bytes (${n} × ${size}), got ${bytes.byteLength}.`,
      { input: spec.input, shape: spec.dims, expected, got: bytes.byteLength },
    );
  }
  if (spec.type === "bool") {
    for (let i = 0; i < n; i++) {
      const b = bytes[i]!;
      if (b > 1) {
        fail(
          `Input "${spec.input}": byte ${i} is ${b}; BOOL elements must be 0 (false) or 1 (true).`,
          { input: spec.input, index: i },
        );
      }
    }
  }
  // A Buffer's memory is never a SharedArrayBuffer; the typed-array union needs it said.
  const buffer = bytes.buffer as ArrayBuffer;
  if (bytes.byteOffset % size === 0) return new Class(buffer, bytes.byteOffset, n);
  // Unaligned (the binary part starts after a JSON header of any length): one copy.
  const out = new Class(n);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function decodeStrings(spec: RawTensorSpec, n: number, bytes: Uint8Array): string[] {
  const length = bytes.byteLength;
  // Every element takes at least its 4-byte length: refuse before allocating n slots.
  if (n * 4 > length) {
    fail(
      `Input "${spec.input}": shape ${formatDims(spec.dims)} of BYTES needs ${n} elements, each a 4-byte length and its bytes (at least ${n * 4} bytes), got ${length}.`,
      { input: spec.input, shape: spec.dims, elements: n, got: length },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  const out = new Array<string>(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (at + 4 > length) {
      fail(
        `Input "${spec.input}": BYTES element ${i} of ${n}: its 4-byte length prefix is cut off at byte ${at} of ${length}.`,
        { input: spec.input, index: i, offset: at },
      );
    }
    const size = view.getUint32(at, true);
    at += 4;
    if (at + size > length) {
      fail(
        `Input "${spec.input}": BYTES element ${i} of ${n} declares ${size} bytes at byte ${at}, but only ${length - at} remain.`,
        { input: spec.input, index: i, declared: size, remaining: length - at },
      );
    }
    try {
      out[i] = utf8.decode(bytes.subarray(at, at + size));
    } catch {
      fail(`Input "${spec.input}": BYTES element ${i} is not valid UTF-8 text.`, {
        input: spec.input,
        index: i,
      });
    }
    at += size;
  }
  if (at !== length) {
    fail(
      `Input "${spec.input}": ${length - at} bytes follow the last of the ${n} BYTES elements of shape ${formatDims(spec.dims)}.`,
      { input: spec.input, shape: spec.dims, trailing: length - at },
    );
  }
  return out;
}

/**
 * The tensor's raw little-endian bytes: a view of its typed array (no copy) for every type but
 * BYTES, which is framed (4-byte length + UTF-8 bytes per element) into a new buffer.
 */
export function encodeTensorBytes(t: HostTensor): Uint8Array {
  if (!HOST_LITTLE_ENDIAN) throw new Error("Raw tensor bytes need a little-endian host");
  const d = t.data;
  if (!Array.isArray(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  let total = 0;
  for (let i = 0; i < d.length; i++) total += 4 + Buffer.byteLength(d[i]!, "utf8");
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < d.length; i++) {
    const written = out.write(d[i]!, at + 4, "utf8");
    out.writeUInt32LE(written, at);
    at += 4 + written;
  }
  return out;
}
