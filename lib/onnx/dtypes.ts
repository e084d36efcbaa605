/**
 * ONNX element types (TensorProto.DataType): code, ONNX name, the friendly name most tools use
 * (onnxruntime's tensor types, numpy's dtypes) and the storage size. Client-safe: no Node APIs.
 */

export const ONNX_ELEMENT_TYPES = [
  "UNDEFINED",
  "FLOAT",
  "UINT8",
  "INT8",
  "UINT16",
  "INT16",
  "INT32",
  "INT64",
  "STRING",
  "BOOL",
  "FLOAT16",
  "DOUBLE",
  "UINT32",
  "UINT64",
  "COMPLEX64",
  "COMPLEX128",
  "BFLOAT16",
  "FLOAT8E4M3FN",
  "FLOAT8E4M3FNUZ",
  "FLOAT8E5M2",
  "FLOAT8E5M2FNUZ",
  "UINT4",
  "INT4",
  "FLOAT4E2M1",
  "FLOAT8E8M0",
  "UINT2",
  "INT2",
] as const;

/** An element type as ONNX names it: "FLOAT", "INT64", "STRING", … (index = TensorProto.DataType). */
export type OnnxElementType = (typeof ONNX_ELEMENT_TYPES)[number];

/** Friendly names, index-aligned with ONNX_ELEMENT_TYPES. */
export const ONNX_DTYPES = [
  "undefined",
  "float32",
  "uint8",
  "int8",
  "uint16",
  "int16",
  "int32",
  "int64",
  "string",
  "bool",
  "float16",
  "float64",
  "uint32",
  "uint64",
  "complex64",
  "complex128",
  "bfloat16",
  "float8e4m3fn",
  "float8e4m3fnuz",
  "float8e5m2",
  "float8e5m2fnuz",
  "uint4",
  "int4",
  "float4e2m1",
  "float8e8m0",
  "uint2",
  "int2",
] as const;

/** An element type as onnxruntime and numpy name it: "float32", "int64", "string", … */
export type OnnxDtype = (typeof ONNX_DTYPES)[number];

/** Storage bits per element; strings have no fixed size (0). Index-aligned with the names. */
const BITS: readonly number[] = [
  0, 32, 8, 8, 16, 16, 32, 64, 0, 8, 16, 64, 32, 64, 64, 128, 16, 8, 8, 8, 8, 4, 4, 4, 8, 2, 2,
];

/** The element type for a TensorProto.DataType code, or null for a code this table predates. */
export function elementTypeOf(code: number): OnnxElementType | null {
  return ONNX_ELEMENT_TYPES[code] ?? null;
}

export function dtypeOf(code: number): OnnxDtype | null {
  return ONNX_DTYPES[code] ?? null;
}

/** TensorProto.DataType code for an ONNX name or a friendly name ("FLOAT" or "float32"). */
export function elementTypeCode(type: OnnxElementType | OnnxDtype): number {
  let code = (ONNX_ELEMENT_TYPES as readonly string[]).indexOf(type);
  if (code < 0) code = (ONNX_DTYPES as readonly string[]).indexOf(type);
  if (code <= 0) throw new Error(`Unknown ONNX element type "${type}"`);
  return code;
}

/** Bytes that `count` elements of this type occupy (sub-byte types are packed); null for strings. */
export function storageBytes(code: number, count: number): number | null {
  const bits = BITS[code];
  if (!bits) return null;
  return Math.ceil((count * bits) / 8);
}
