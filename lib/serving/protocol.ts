/**
 * The Open Inference Protocol (KServe v2 / Triton REST) on the serving hot path: validate an
 * inference request against a model's ONNX signature, turn it into onnxruntime feeds, encode the
 * outputs, and concatenate / split tensors for dynamic batching. Also the "simple" JSON form
 * (`{"rows": [...]}`) for tabular models.
 *
 * Validation is written by hand rather than with zod: it runs on every request (~15k/s) and, for
 * tensor data, on every element; a schema library's per-element overhead (closures, issue
 * objects, copies) would dominate the cost of the model call itself. Values are checked and
 * written straight into a preallocated typed array in one pass per run of data.
 *
 * Every refusal is an InferenceInputError whose message names the input and says what was
 * expected, for the person who sent the request.
 */
import type { OnnxDim, OnnxSignature, OnnxValueSignature } from "../onnx/types";
import { InferenceInputError } from "./inference-error";
import { decodeTensorBytes } from "./tensor-bytes";

export type OipDatatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "FP32"
  | "FP64"
  | "BYTES";

/** onnxruntime tensor type strings */
export type OrtType =
  | "bool"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "float16"
  | "float32"
  | "float64"
  | "string";

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

/** bool tensors use Uint8Array (0/1), float16 uses Uint16Array (IEEE half bits), (u)int64 use BigInt64Array/BigUint64Array */
export interface HostTensor {
  type: OrtType;
  dims: number[];
  data: TensorData;
}

// In its own module so the raw tensor bytes codec can throw it without an import cycle.
export { InferenceInputError };

export interface PreparedRequest {
  /** client's id, echoed back */
  id: string | undefined;
  /** one per signature input, keyed by name */
  inputs: Record<string, HostTensor>;
  /** null = all outputs */
  requestedOutputs: string[] | null;
  /** size of dim 0 shared by every input when the model is batchable (see isBatchable), else null */
  batchSize: number | null;
  parameters: Record<string, unknown> | undefined;
}

/** Most dimensions a request may declare for one input. */
const MAX_RANK = 8;
/** Most rows the simple form takes in one request. */
const MAX_SIMPLE_ROWS = 100_000;

const OIP_BY_DTYPE = new Map<string, OipDatatype>([
  ["bool", "BOOL"],
  ["uint8", "UINT8"],
  ["uint16", "UINT16"],
  ["uint32", "UINT32"],
  ["uint64", "UINT64"],
  ["int8", "INT8"],
  ["int16", "INT16"],
  ["int32", "INT32"],
  ["int64", "INT64"],
  ["float16", "FP16"],
  ["float32", "FP32"],
  ["float64", "FP64"],
  ["string", "BYTES"],
]);

/** The OIP datatype for an onnxruntime/numpy dtype ("float32" → "FP32"), or null if OIP has none. */
export function oipDatatypeOf(dtype: string): OipDatatype | null {
  return OIP_BY_DTYPE.get(dtype) ?? null;
}

function isFixed(dim: OnnxDim | undefined): dim is number {
  return typeof dim === "number";
}

/**
 * True when requests can be batched together: every input and output is a tensor with a declared
 * shape of rank ≥ 1 whose first dimension is not a fixed size (symbolic or unknown).
 */
export function isBatchable(signature: OnnxSignature): boolean {
  return planFor(signature).batchable;
}

// ---------------------------------------------------------------------------------------------
// Per-signature plan, computed once per signature object (the served version keeps its object).

interface InputPlan {
  name: string;
  ort: OrtType;
  oip: OipDatatype;
  shape: OnnxDim[] | null;
  /** e.g. `FP32 [batch, 4]` */
  display: string;
}

interface Plan {
  /** Why the model cannot be served through OIP, or null. */
  unsupported: string | null;
  inputs: InputPlan[];
  inputByName: Map<string, InputPlan>;
  /** output name → whether it is a tensor */
  outputs: Map<string, boolean>;
  batchable: boolean;
  expectedInputs: string;
  availableOutputs: string;
}

const plans = new WeakMap<OnnxSignature, Plan>();

function planFor(signature: OnnxSignature): Plan {
  let plan = plans.get(signature);
  if (!plan) {
    plan = buildPlan(signature);
    plans.set(signature, plan);
  }
  return plan;
}

function formatModelShape(shape: OnnxDim[] | null): string {
  if (shape === null) return "(any shape)";
  return `[${shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

function describeValueSig(v: OnnxValueSignature): string {
  if (v.kind !== "tensor") return `"${v.name}" (${v.type})`;
  const oip = v.dtype ? oipDatatypeOf(v.dtype) : null;
  return `"${v.name}" ${oip ?? v.type} ${formatModelShape(v.shape)}`;
}

function batchDim(v: OnnxValueSignature): boolean {
  return v.kind === "tensor" && v.shape !== null && v.shape.length >= 1 && !isFixed(v.shape[0]);
}

function buildPlan(signature: OnnxSignature): Plan {
  const inputs: InputPlan[] = [];
  const problems: string[] = [];
  for (const v of signature.inputs) {
    const oip = v.kind === "tensor" && v.dtype ? oipDatatypeOf(v.dtype) : null;
    if (v.kind !== "tensor") {
      problems.push(`input "${v.name}" is a ${v.kind} (${v.type}), not a tensor`);
    } else if (!oip) {
      problems.push(
        `input "${v.name}" has element type ${v.type}, which the protocol cannot carry`,
      );
    } else {
      inputs.push({
        name: v.name,
        ort: v.dtype as OrtType,
        oip,
        shape: v.shape,
        display: `${oip} ${formatModelShape(v.shape)}`,
      });
    }
  }
  const outputs = new Map<string, boolean>();
  for (const v of signature.outputs) outputs.set(v.name, v.kind === "tensor");
  return {
    unsupported: problems.length
      ? `This model cannot be served: ${problems.join("; ")}. Only tensor inputs can be sent over the inference protocol.`
      : null,
    inputs,
    inputByName: new Map(inputs.map((p) => [p.name, p])),
    outputs,
    batchable:
      signature.inputs.length > 0 &&
      signature.inputs.every(batchDim) &&
      signature.outputs.every(batchDim),
    expectedInputs: signature.inputs.map(describeValueSig).join(", ") || "(none)",
    availableOutputs: signature.outputs.map((v) => `"${v.name}"`).join(", ") || "(none)",
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function fail(
  code: string,
  message: string,
  details?: Record<string, unknown>,
  status: 400 | 413 | 415 = 400,
): never {
  throw new InferenceInputError(status, code, message, details);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `a ${typeof v}`;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object" && v !== null) return "an object";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function product(dims: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < dims.length; i++) n *= dims[i]!;
  return n;
}

/** A zeroed typed array (or n-slot string array) of `type`: how tensors are laid out here. */
export function allocate(type: OrtType, n: number): TensorData {
  switch (type) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "float16":
    case "uint16":
      return new Uint16Array(n);
    case "bool":
    case "uint8":
      return new Uint8Array(n);
    case "int8":
      return new Int8Array(n);
    case "int16":
      return new Int16Array(n);
    case "int32":
      return new Int32Array(n);
    case "uint32":
      return new Uint32Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "uint64":
      return new BigUint64Array(n);
    case "string":
      return new Array<string>(n);
  }
}

// ---------------------------------------------------------------------------------------------
// Half precision

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;
/** Largest finite half-precision value. */
const FP16_MAX = 65504;

/**
 * IEEE 754 half-precision bits of a number, rounded to nearest (ties to even) straight from the
 * double (no float32 step, so no double rounding). Overflow gives ±Infinity (0x7c00), NaN 0x7e00.
 */
export function toHalfBits(value: number): number {
  if (value !== value) return 0x7e00;
  f64[0] = value;
  const hi = f64Words[HI]!;
  const lo = f64Words[LO]!;
  const sign = (hi >>> 16) & 0x8000;
  const exp = ((hi >>> 20) & 0x7ff) - 1023;
  if (exp >= 16) return sign | 0x7c00;
  if (exp >= -14) {
    // Normal: keep the top 10 of the 52 mantissa bits; bit 9 of `hi` is the rounding bit.
    const mantissa = (hi >>> 10) & 0x3ff;
    let half = sign | ((exp + 15) << 10) | mantissa;
    const sticky = (hi & 0x1ff) !== 0 || lo !== 0;
    if ((hi & 0x200) !== 0 && (sticky || (mantissa & 1) === 1)) half++; // a carry may reach Infinity
    return half;
  }
  // Subnormal (or zero): the value is m · 2^-24; scaling by a power of two is exact.
  const scaled = Math.abs(value) * 16777216;
  let m = Math.floor(scaled);
  const rest = scaled - m;
  if (rest > 0.5 || (rest === 0.5 && (m & 1) === 1)) m++; // m may become 1024: the smallest normal
  return sign | m;
}

const HALF_EXP2: number[] = Array.from({ length: 32 }, (_, e) => 2 ** (e - 25));

/** The number that IEEE 754 half-precision bits stand for. */
export function fromHalfBits(bits: number): number {
  const exp = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  let v: number;
  if (exp === 0)
    v = mantissa * 5.960464477539063e-8; // 2^-24
  else if (exp === 31) v = mantissa ? NaN : Infinity;
  else v = (1024 + mantissa) * HALF_EXP2[exp]!;
  return bits & 0x8000 ? -v : v;
}

// ---------------------------------------------------------------------------------------------
// Element conversion: one tight loop per type, writing into a preallocated array.

interface ValueContext {
  input: string;
  oip: OipDatatype;
  ort: OrtType;
  /** Where a flat element index is in the request, e.g. "value at index 5" (error path only). */
  where: (flatIndex: number) => string;
}

const atIndex = (i: number): string => `value at index ${i}`;

const INT_RANGE: Partial<Record<OrtType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Values at or beyond this magnitude round to Infinity in float32 (2^128 − 2^103, ties to even). */
const F32_LIMIT = 2 ** 128 - 2 ** 103;

function badValue(ctx: ValueContext, index: number, v: unknown): never {
  const at = `Input "${ctx.input}": ${ctx.where(index)}`;
  const details = { input: ctx.input, index, datatype: ctx.oip };
  const t = ctx.ort;
  if (t === "float32" || t === "float64" || t === "float16") {
    if (typeof v === "number") {
      if (!Number.isFinite(v)) {
        fail("non_finite", `${at} is ${v}; ${ctx.oip} data must be finite numbers.`, details);
      }
      const limit = t === "float16" ? "±65504" : "±3.4028235e38";
      fail(
        "non_finite",
        `${at} (${v}) is outside the ${ctx.oip} range (${limit}); it would become Infinity.`,
        details,
      );
    }
    if (v === null) {
      fail(
        "non_finite",
        `${at} is null (often how NaN or Infinity ends up in JSON); ${ctx.oip} data must be finite numbers.`,
        details,
      );
    }
    if (typeof v === "string" && /^[+-]?(nan|inf|infinity)$/i.test(v.trim())) {
      fail(
        "non_finite",
        `${at} is ${show(v)}; ${ctx.oip} data must be finite numbers (NaN and Infinity are not accepted).`,
        details,
      );
    }
    fail(
      "bad_data",
      `${at} is ${show(v)} (${kindOf(v)}); ${ctx.oip} data must be numbers.`,
      details,
    );
  }
  if (t === "bool") {
    fail(
      "bad_data",
      `${at} is ${show(v)} (${kindOf(v)}); BOOL data must be true or false.`,
      details,
    );
  }
  if (t === "string") {
    fail("bad_data", `${at} is ${show(v)} (${kindOf(v)}); BYTES data must be strings.`, details);
  }
  // integers
  if (typeof v === "number") {
    if (!Number.isFinite(v)) {
      fail("non_finite", `${at} is ${v}; ${ctx.oip} data must be integers.`, details);
    }
    if (!Number.isInteger(v)) {
      fail("bad_data", `${at} is ${v}; ${ctx.oip} data must be integers.`, details);
    }
    const [min, max] = INT_RANGE[t]!;
    const note =
      t === "int64" || t === "uint64"
        ? " (larger integers cannot be sent exactly as JSON numbers)"
        : "";
    fail(
      "bad_data",
      `${at} (${v}) is outside the ${ctx.oip} range [${min}, ${max}]${note}.`,
      details,
    );
  }
  const hint =
    typeof v === "string" && (t === "int64" || t === "uint64")
      ? " (send integers as JSON numbers, not strings)"
      : "";
  fail(
    "bad_data",
    `${at} is ${show(v)} (${kindOf(v)}); ${ctx.oip} data must be integers${hint}.`,
    details,
  );
}

type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

function fillInt(
  out: IntArray,
  at: number,
  src: readonly unknown[],
  min: number,
  max: number,
  ctx: ValueContext,
): void {
  for (let i = 0, n = src.length; i < n; i++) {
    const v = src[i];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      badValue(ctx, at + i, v);
    }
    out[at + i] = v;
  }
}

function fillBig(
  out: BigInt64Array | BigUint64Array,
  at: number,
  src: readonly unknown[],
  min: number,
  ctx: ValueContext,
): void {
  for (let i = 0, n = src.length; i < n; i++) {
    const v = src[i];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) badValue(ctx, at + i, v);
    out[at + i] = BigInt(v);
  }
}

/** Checks `src` (one run of leaf values) and writes it into `out` from index `at`. */
function writeRun(out: TensorData, at: number, src: readonly unknown[], ctx: ValueContext): void {
  const n = src.length;
  switch (ctx.ort) {
    case "float32": {
      const o = out as Float32Array;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        // `v - v === 0` is false for NaN and ±Infinity.
        if (typeof v !== "number" || v - v !== 0 || v >= F32_LIMIT || v <= -F32_LIMIT) {
          badValue(ctx, at + i, v);
        }
        o[at + i] = v;
      }
      return;
    }
    case "float64": {
      const o = out as Float64Array;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (typeof v !== "number" || v - v !== 0) badValue(ctx, at + i, v);
        o[at + i] = v;
      }
      return;
    }
    case "float16": {
      const o = out as Uint16Array;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (typeof v !== "number" || v - v !== 0 || v > FP16_MAX || v < -FP16_MAX) {
          badValue(ctx, at + i, v);
        }
        o[at + i] = toHalfBits(v);
      }
      return;
    }
    case "bool": {
      const o = out as Uint8Array;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (v === true) o[at + i] = 1;
        else if (v !== false) badValue(ctx, at + i, v);
      }
      return;
    }
    case "string": {
      const o = out as string[];
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (typeof v !== "string") badValue(ctx, at + i, v);
        o[at + i] = v;
      }
      return;
    }
    case "int64":
      return fillBig(out as BigInt64Array, at, src, -Number.MAX_SAFE_INTEGER, ctx);
    case "uint64":
      return fillBig(out as BigUint64Array, at, src, 0, ctx);
    default: {
      const [min, max] = INT_RANGE[ctx.ort]!;
      return fillInt(out as IntArray, at, src, min, max, ctx);
    }
  }
}

/** Validates the array skeleton of nested data against `shape` (leaves are checked when written). */
function checkNested(
  data: readonly unknown[],
  shape: readonly number[],
  depth: number,
  path: number[],
  name: string,
): void {
  const want = shape[depth]!;
  if (data.length !== want) {
    const where = path.length ? `data${path.map((i) => `[${i}]`).join("")}` : "data";
    fail(
      "bad_data",
      `Input "${name}": nested data does not match shape ${formatShape(shape)}: ${where} has ${data.length} elements, expected ${want}.`,
      { input: name, shape },
    );
  }
  if (depth === shape.length - 1) return;
  for (let i = 0; i < data.length; i++) {
    const el = data[i];
    if (!Array.isArray(el)) {
      const where = `data${[...path, i].map((j) => `[${j}]`).join("")}`;
      fail(
        "bad_data",
        `Input "${name}": nested data does not match shape ${formatShape(shape)}: ${where} is ${show(el)}, expected an array of ${shape[depth + 1]} elements. Send data either flat (row-major) or nested exactly like the shape.`,
        { input: name, shape },
      );
    }
    path.push(i);
    checkNested(el, shape, depth + 1, path, name);
    path.pop();
  }
}

function fillNested(
  out: TensorData,
  at: number,
  data: readonly unknown[],
  depth: number,
  rank: number,
  ctx: ValueContext,
): number {
  if (depth === rank - 1) {
    writeRun(out, at, data, ctx);
    return at + data.length;
  }
  for (let i = 0; i < data.length; i++) {
    at = fillNested(out, at, data[i] as unknown[], depth + 1, rank, ctx);
  }
  return at;
}

function convertData(p: InputPlan, shape: number[], data: unknown[] | Uint8Array): TensorData {
  if (!Array.isArray(data)) {
    return decodeTensorBytes({ input: p.name, type: p.ort, datatype: p.oip, dims: shape }, data);
  }
  const n = product(shape);
  const ctx: ValueContext = { input: p.name, oip: p.oip, ort: p.ort, where: atIndex };
  if (shape.length >= 2 && data.length > 0 && Array.isArray(data[0])) {
    checkNested(data, shape, 0, [], p.name);
    const out = allocate(p.ort, n);
    fillNested(out, 0, data, 0, shape.length, ctx);
    return out;
  }
  if (data.length !== n) {
    fail(
      "bad_data",
      `Input "${p.name}": shape ${formatShape(shape)} needs ${n} values, got ${data.length}.`,
      { input: p.name, shape, expected: n, got: data.length },
    );
  }
  if (p.ort === "string") {
    // Strings need no conversion: check them and keep the request's own array.
    writeRun(data as string[], 0, data, ctx);
    return data as string[];
  }
  const out = allocate(p.ort, n);
  writeRun(out, 0, data, ctx);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shapes

interface SymbolSeen {
  size: number;
  input: string;
  dim: number;
}

function checkShape(
  p: InputPlan,
  shape: readonly number[],
  symbols: Map<string, SymbolSeen>,
): void {
  const sig = p.shape;
  if (sig === null) return;
  if (shape.length !== sig.length) {
    fail(
      "bad_shape",
      `Input "${p.name}": shape ${formatShape(shape)} has ${shape.length} dimension${shape.length === 1 ? "" : "s"}, but the model's ${formatModelShape(sig)} has ${sig.length}.`,
      { input: p.name, shape, expected: sig },
    );
  }
  for (let d = 0; d < sig.length; d++) {
    const want = sig[d];
    const got = shape[d]!;
    if (typeof want === "number") {
      if (got !== want) {
        fail(
          "bad_shape",
          `Input "${p.name}": shape ${formatShape(shape)} does not fit the model's ${formatModelShape(sig)} (dimension ${d} must be ${want}).`,
          { input: p.name, shape, expected: sig, dimension: d },
        );
      }
    } else if (typeof want === "string") {
      const seen = symbols.get(want);
      if (!seen) symbols.set(want, { size: got, input: p.name, dim: d });
      else if (seen.size !== got) {
        const other =
          seen.input === p.name
            ? `its dimension ${seen.dim}`
            : `input "${seen.input}" (dimension ${seen.dim})`;
        fail(
          "bad_shape",
          `Input "${p.name}": dimension ${d} ("${want}") is ${got}, but ${other} has "${want}" = ${seen.size}; dimensions the model names alike must have the same size.`,
          { input: p.name, otherInput: seen.input, dimension: want, sizes: [seen.size, got] },
        );
      }
    }
  }
}

function batchSizeOf(
  plan: Plan,
  shapes: ReadonlyArray<{ p: InputPlan; shape: readonly number[] }>,
): number | null {
  if (!plan.batchable) return null;
  let first: { name: string; size: number } | null = null;
  for (const { p, shape } of shapes) {
    const size = shape[0]!;
    if (first === null) first = { name: p.name, size };
    else if (first.size !== size) {
      fail(
        "bad_shape",
        `Input "${p.name}": batch size (dimension 0) is ${size}, but input "${first.name}" has ${first.size}; all inputs must have the same batch size.`,
        { input: p.name, otherInput: first.name, sizes: [first.size, size] },
      );
    }
  }
  if (first === null) return null;
  if (first.size === 0) {
    fail(
      "bad_shape",
      `Input "${first.name}": batch size (dimension 0) is 0; send at least one row.`,
      { input: first.name },
    );
  }
  return first.size;
}

// ---------------------------------------------------------------------------------------------
// Requested outputs

function parseOutputs(value: unknown, plan: Plan, allowStrings: boolean): string[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length === 0) {
    fail(
      "invalid_request",
      `"outputs" must be a non-empty array of ${allowStrings ? "output names" : '{"name": ...} objects'}, or left out to get every output (${plan.availableOutputs}).`,
    );
  }
  const names: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    const o: unknown = value[i];
    let name: unknown;
    if (allowStrings && typeof o === "string") name = o;
    else if (isPlainObject(o)) {
      for (const k in o) {
        if (k !== "name" && k !== "parameters") {
          fail(
            "invalid_request",
            `outputs[${i}]: unknown field "${k}" (allowed: name, parameters).`,
            { output: o.name, field: k },
          );
        }
      }
      if (o.parameters !== undefined) {
        if (!isPlainObject(o.parameters)) {
          fail("invalid_request", `outputs[${i}]: "parameters" must be an object.`);
        }
        // binary_data is the HTTP layer's (binary-body.ts): it changes the encoding, not the output.
        if (o.parameters.classification !== undefined) {
          fail(
            "unsupported_parameter",
            `Output "${String(o.name)}": the classification extension is not supported; request the output itself.`,
            { output: o.name },
          );
        }
      }
      name = o.name;
    }
    if (typeof name !== "string" || name === "") {
      fail(
        "invalid_request",
        `outputs[${i}] must be ${allowStrings ? "an output name or " : ""}an object with a "name" string.`,
      );
    }
    const tensor = plan.outputs.get(name);
    if (tensor === undefined) {
      fail(
        "unknown_output",
        `Output "${name}" is not an output of this model; it has ${plan.availableOutputs}.`,
        { output: name },
      );
    }
    if (!tensor) {
      fail(
        "unsupported_output",
        `Output "${name}" is not a tensor, so it cannot be returned over the inference protocol.`,
        { output: name },
      );
    }
    if (seen.has(name)) {
      fail("invalid_request", `Output "${name}" is requested twice.`, { output: name });
    }
    seen.add(name);
    names.push(name);
  }
  return names;
}

function parseCommon(body: Record<string, unknown>): {
  id: string | undefined;
  parameters: Record<string, unknown> | undefined;
} {
  const { id, parameters } = body;
  if (id !== undefined && typeof id !== "string") {
    fail("invalid_request", `"id" must be a string, got ${kindOf(id)}.`);
  }
  if (parameters !== undefined && !isPlainObject(parameters)) {
    fail("invalid_request", `"parameters" must be an object, got ${kindOf(parameters)}.`);
  }
  return { id, parameters };
}

// ---------------------------------------------------------------------------------------------
// The tensor form (OIP /infer)

interface RawInput {
  name: string;
  shape: number[];
  datatype: string;
  /** JSON values, or raw little-endian tensor bytes (see tensor-bytes.ts) */
  data: unknown[] | Uint8Array;
}

function parseRawInput(o: unknown, index: number): RawInput {
  if (!isPlainObject(o)) {
    fail("invalid_request", `inputs[${index}] must be an object, got ${kindOf(o)}.`);
  }
  const { name, shape, datatype, data, parameters } = o;
  if (typeof name !== "string" || name === "") {
    fail("invalid_request", `inputs[${index}]: "name" must be a non-empty string.`);
  }
  const label = `Input "${name}"`;
  for (const k in o) {
    if (k !== "name" && k !== "shape" && k !== "datatype" && k !== "data" && k !== "parameters") {
      fail(
        "invalid_request",
        `${label}: unknown field "${k}" (allowed: name, shape, datatype, data, parameters).`,
        { input: name, field: k },
      );
    }
  }
  if (parameters !== undefined) {
    if (!isPlainObject(parameters)) {
      fail("invalid_request", `${label}: "parameters" must be an object.`, { input: name });
    }
    if (parameters.binary_data_size !== undefined && !(data instanceof Uint8Array)) {
      fail(
        "invalid_request",
        `${label}: "binary_data_size" says its data follows the JSON as binary, but this request has no binary part; send the Inference-Header-Content-Length header with the JSON's length in bytes, or the values as JSON in "data".`,
        { input: name },
      );
    }
  }
  if (!Array.isArray(shape)) {
    fail("invalid_request", `${label}: "shape" must be an array of integers.`, { input: name });
  }
  if (shape.length > MAX_RANK) {
    fail(
      "bad_shape",
      `${label}: shape ${show(shape)} has ${shape.length} dimensions; at most ${MAX_RANK} are allowed.`,
      { input: name },
    );
  }
  for (let d = 0; d < shape.length; d++) {
    const v: unknown = shape[d];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      fail(
        "bad_shape",
        `${label}: dimension ${d} of the shape is ${show(v)}; dimensions must be non-negative integers.`,
        { input: name, dimension: d },
      );
    }
  }
  if (typeof datatype !== "string") {
    fail("invalid_request", `${label}: "datatype" must be a string such as "FP32".`, {
      input: name,
    });
  }
  // A Uint8Array is raw tensor bytes, put there by a binary transport (never JSON.parse).
  if (!Array.isArray(data) && !(data instanceof Uint8Array)) {
    fail("invalid_request", `${label}: "data" must be an array, got ${kindOf(data)}.`, {
      input: name,
    });
  }
  return { name, shape: (shape as number[]).slice(), datatype, data };
}

/** Validates an OIP inference request body against the model and builds its feeds. */
export function prepareInferRequest(body: unknown, signature: OnnxSignature): PreparedRequest {
  const plan = planFor(signature);
  if (plan.unsupported) fail("unsupported_model", plan.unsupported);
  if (!isPlainObject(body)) {
    fail("invalid_request", `The request body must be a JSON object, got ${kindOf(body)}.`);
  }
  for (const k in body) {
    if (k !== "id" && k !== "parameters" && k !== "inputs" && k !== "outputs") {
      fail(
        "invalid_request",
        `Unknown field "${k}" in the request body (allowed: id, parameters, inputs, outputs).`,
        { field: k },
      );
    }
  }
  const { id, parameters } = parseCommon(body);
  const rawInputs = body.inputs;
  if (!Array.isArray(rawInputs) || rawInputs.length === 0) {
    fail(
      "invalid_request",
      `"inputs" must be a non-empty array; the model expects ${plan.expectedInputs}.`,
    );
  }

  const given = new Map<string, RawInput>();
  for (let i = 0; i < rawInputs.length; i++) {
    const raw = parseRawInput(rawInputs[i], i);
    if (given.has(raw.name)) {
      fail("invalid_request", `Input "${raw.name}" appears more than once in "inputs".`, {
        input: raw.name,
      });
    }
    given.set(raw.name, raw);
  }
  const unknown = [...given.keys()].filter((n) => !plan.inputByName.has(n));
  if (unknown.length) {
    const names = unknown.map((n) => `"${n}"`).join(", ");
    fail(
      "unknown_input",
      `${unknown.length === 1 ? "Input" : "Inputs"} ${names} ${unknown.length === 1 ? "is not an input" : "are not inputs"} of this model; it expects ${plan.expectedInputs}.`,
      { inputs: unknown },
    );
  }
  const missing = plan.inputs.filter((p) => !given.has(p.name)).map((p) => p.name);
  if (missing.length) {
    const names = missing.map((n) => `"${n}"`).join(", ");
    fail(
      "missing_input",
      `${missing.length === 1 ? "Input" : "Inputs"} ${names} ${missing.length === 1 ? "is" : "are"} missing; the model expects ${plan.expectedInputs}.`,
      { inputs: missing },
    );
  }

  // Datatypes and shapes of every input first: cheap, and they fail before any data is touched.
  const symbols = new Map<string, SymbolSeen>();
  const checked: Array<{ p: InputPlan; shape: number[]; data: unknown[] | Uint8Array }> = [];
  for (const p of plan.inputs) {
    const raw = given.get(p.name)!;
    if (raw.datatype !== p.oip) {
      fail(
        "wrong_datatype",
        `Input "${p.name}": datatype ${raw.datatype} does not match the model, which expects ${p.oip}.`,
        { input: p.name, expected: p.oip, got: raw.datatype },
      );
    }
    checkShape(p, raw.shape, symbols);
    checked.push({ p, shape: raw.shape, data: raw.data });
  }
  const batchSize = batchSizeOf(plan, checked);
  const requestedOutputs = parseOutputs(body.outputs, plan, false);

  const inputs: Record<string, HostTensor> = {};
  for (const { p, shape, data } of checked) {
    inputs[p.name] = { type: p.ort, dims: shape, data: convertData(p, shape, data) };
  }
  return { id, inputs, requestedOutputs, batchSize, parameters };
}

// ---------------------------------------------------------------------------------------------
// The simple form: {"rows": [[...], ...]} or {"rows": [{feature: value, ...}, ...]}

type FeatureNames = { names: string[] } | { problem: string };

const featureNameCache = new WeakMap<OnnxSignature, FeatureNames>();

function featureNamesOf(signature: OnnxSignature, features: number): FeatureNames {
  let cached = featureNameCache.get(signature);
  if (cached) return cached;
  const raw = signature.metadata.feature_names;
  if (raw === undefined) {
    cached = { problem: "the model does not name its features (no feature_names metadata)" };
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = null;
    }
    if (
      !Array.isArray(parsed) ||
      parsed.length !== features ||
      !parsed.every((n) => typeof n === "string") ||
      new Set(parsed).size !== parsed.length
    ) {
      cached = {
        problem: `the model's feature_names metadata is not a list of ${features} distinct names`,
      };
    } else {
      cached = { names: parsed as string[] };
    }
  }
  featureNameCache.set(signature, cached);
  return cached;
}

function simpleInputOf(plan: Plan, signature: OnnxSignature): InputPlan {
  const p = plan.inputs[0];
  const ok =
    signature.inputs.length === 1 &&
    p !== undefined &&
    p.shape !== null &&
    p.shape.length === 2 &&
    isFixed(p.shape[1]) &&
    p.ort !== "bool" &&
    p.ort !== "string";
  if (!ok) {
    fail(
      "unsupported_model",
      `The simple form ({"rows": [...]}) needs a model with exactly one numeric input of shape [batch, F]; this model expects ${plan.expectedInputs}. Send tensors to the /infer endpoint (Open Inference Protocol) instead.`,
    );
  }
  return p;
}

/** Validates a simple-form request (`{"rows": [...]}`) and builds the model's one input. */
export function prepareSimpleRequest(body: unknown, signature: OnnxSignature): PreparedRequest {
  const plan = planFor(signature);
  if (plan.unsupported) fail("unsupported_model", plan.unsupported);
  const p = simpleInputOf(plan, signature);
  const features = p.shape![1] as number;
  if (!isPlainObject(body)) {
    fail("invalid_request", `The request body must be a JSON object, got ${kindOf(body)}.`);
  }
  for (const k in body) {
    if (k !== "id" && k !== "parameters" && k !== "rows" && k !== "outputs") {
      fail(
        "invalid_request",
        `Unknown field "${k}" in the request body (allowed: rows, outputs, id, parameters).`,
        { field: k },
      );
    }
  }
  const { id, parameters } = parseCommon(body);
  const rows = body.rows;
  if (!Array.isArray(rows) || rows.length === 0) {
    fail(
      "invalid_request",
      `"rows" must be a non-empty array of rows, each ${features} values (or an object keyed by feature name).`,
      { input: p.name },
    );
  }
  if (rows.length > MAX_SIMPLE_ROWS) {
    fail(
      "too_many_rows",
      `"rows" has ${rows.length} rows; at most ${MAX_SIMPLE_ROWS} are accepted in one request.`,
      { input: p.name, rows: rows.length, max: MAX_SIMPLE_ROWS },
      413,
    );
  }
  const count = rows.length;
  const dims = [count, features];
  const fixedRows = p.shape![0];
  if (isFixed(fixedRows) && fixedRows !== count) {
    fail(
      "bad_shape",
      `Input "${p.name}": the model's input is ${formatModelShape(p.shape)}, so it takes exactly ${fixedRows} row${fixedRows === 1 ? "" : "s"} per request; got ${count}.`,
      { input: p.name, expected: fixedRows, got: count },
    );
  }
  const requestedOutputs = parseOutputs(body.outputs, plan, true);

  const out = allocate(p.ort, count * features);
  let names: string[] | null = null;
  let scratch: unknown[] | null = null;
  let rowIndex = 0;
  const ctx: ValueContext = {
    input: p.name,
    oip: p.oip,
    ort: p.ort,
    where: (i) => {
      const j = i - rowIndex * features;
      return names && !Array.isArray(rows[rowIndex])
        ? `rows[${rowIndex}]["${names[j]}"]`
        : `rows[${rowIndex}][${j}]`;
    },
  };
  for (let r = 0; r < count; r++) {
    rowIndex = r;
    const row: unknown = rows[r];
    if (Array.isArray(row)) {
      if (row.length !== features) {
        fail(
          "bad_data",
          `Input "${p.name}": rows[${r}] has ${row.length} values, expected ${features} (the model's input is ${formatModelShape(p.shape)}).`,
          { input: p.name, row: r, expected: features, got: row.length },
        );
      }
      writeRun(out, r * features, row, ctx);
    } else if (isPlainObject(row)) {
      if (names === null) {
        const fn = featureNamesOf(signature, features);
        if ("problem" in fn) {
          fail(
            "invalid_request",
            `Input "${p.name}": rows[${r}] is an object, but ${fn.problem}; send each row as an array of ${features} values in the model's feature order.`,
            { input: p.name, row: r },
          );
        }
        names = fn.names;
        scratch = new Array<unknown>(features);
      }
      const values = scratch!;
      let missing: string[] | null = null;
      for (let j = 0; j < features; j++) {
        const name = names[j]!;
        if (!Object.hasOwn(row, name)) (missing ??= []).push(name);
        else values[j] = row[name];
      }
      let keys = 0;
      for (const k in row) if (Object.hasOwn(row, k)) keys++;
      if (missing || keys !== features) {
        const known = new Set(names);
        const extra = Object.keys(row).filter((k) => !known.has(k));
        const parts: string[] = [];
        if (missing) parts.push(`missing ${missing.map((n) => `"${n}"`).join(", ")}`);
        if (extra.length) parts.push(`unknown ${extra.map((n) => `"${n}"`).join(", ")}`);
        fail(
          "bad_data",
          `Input "${p.name}": rows[${r}] has ${parts.join(" and ")}; the model's features are ${names.map((n) => `"${n}"`).join(", ")}.`,
          { input: p.name, row: r, missing: missing ?? [], unknown: extra },
        );
      }
      writeRun(out, r * features, values, ctx);
    } else {
      fail(
        "bad_data",
        `Input "${p.name}": rows[${r}] is ${show(row)}; each row must be an array of ${features} values or an object keyed by feature name.`,
        { input: p.name, row: r },
      );
    }
  }
  return {
    id,
    inputs: { [p.name]: { type: p.ort, dims, data: out } },
    requestedOutputs,
    batchSize: plan.batchable ? count : null,
    parameters,
  };
}

// ---------------------------------------------------------------------------------------------
// Responses

/** The tensor's elements as plain JSON values (bigint → number, bool → boolean, half → number). */
function toJsValues(t: HostTensor): Array<number | boolean | string> {
  const d = t.data;
  const n = d.length;
  switch (t.type) {
    case "string":
      return (d as string[]).slice();
    case "bool": {
      const src = d as Uint8Array;
      const out = new Array<boolean>(n);
      for (let i = 0; i < n; i++) out[i] = src[i] !== 0;
      return out;
    }
    case "float16": {
      const src = d as Uint16Array;
      const out = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = fromHalfBits(src[i]!);
      return out;
    }
    case "int64":
    case "uint64": {
      const src = d as BigInt64Array | BigUint64Array;
      const out = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]!);
      return out;
    }
    default: {
      const src = d as Float32Array;
      const out = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = src[i]!;
      return out;
    }
  }
}

function outputNames(outputs: Record<string, HostTensor>, requested: string[] | null): string[] {
  return requested ?? Object.keys(outputs);
}

function outputTensor(outputs: Record<string, HostTensor>, name: string): HostTensor {
  const t = outputs[name];
  if (!t) throw new Error(`Output "${name}" was requested but the model did not produce it`);
  return t;
}

/** OIP response `outputs`: flat row-major data, shape = dims. */
export function encodeOutputs(
  outputs: Record<string, HostTensor>,
  requested: string[] | null,
): Array<{
  name: string;
  shape: number[];
  datatype: OipDatatype;
  data: Array<number | boolean | string>;
}> {
  return outputNames(outputs, requested).map((name) => {
    const t = outputTensor(outputs, name);
    return { name, shape: t.dims, datatype: OIP_BY_DTYPE.get(t.type)!, data: toJsValues(t) };
  });
}

/**
 * The OIP response body as JSON text, equal to `JSON.stringify({model_name, model_version, id,
 * parameters?, outputs: encodeOutputs(...)})` but written straight from the typed arrays:
 * building arrays of numbers for JSON.stringify cost about 2 µs per response, this about 0.2.
 */
export function inferResponseText(
  model: string,
  version: string,
  id: string,
  parameters: Record<string, unknown> | undefined,
  outputs: Record<string, HostTensor>,
  requested: string[] | null,
): string {
  let text =
    '{"model_name":' +
    JSON.stringify(model) +
    ',"model_version":' +
    JSON.stringify(version) +
    ',"id":' +
    JSON.stringify(id);
  if (parameters) text += ',"parameters":' + JSON.stringify(parameters);
  text += ',"outputs":[';
  const names = outputNames(outputs, requested);
  for (let o = 0; o < names.length; o++) {
    const name = names[o]!;
    const t = outputTensor(outputs, name);
    if (o > 0) text += ",";
    text +=
      '{"name":' +
      JSON.stringify(name) +
      ',"shape":[' +
      t.dims.join(",") +
      '],"datatype":"' +
      OIP_BY_DTYPE.get(t.type)! +
      '","data":[' +
      jsonValues(t) +
      "]}";
  }
  return text + "]}";
}

/** The tensor's elements as JSON text, comma-separated (what JSON.stringify(toJsValues(t)) holds). */
function jsonValues(t: HostTensor): string {
  const d = t.data;
  const n = d.length;
  let text = "";
  switch (t.type) {
    case "string":
      for (let i = 0; i < n; i++) text += (i > 0 ? "," : "") + JSON.stringify((d as string[])[i]);
      return text;
    case "bool":
      for (let i = 0; i < n; i++) text += (i > 0 ? "," : "") + ((d as Uint8Array)[i] !== 0);
      return text;
    case "float16":
      for (let i = 0; i < n; i++)
        text += (i > 0 ? "," : "") + jsonNumber(fromHalfBits((d as Uint16Array)[i]!));
      return text;
    case "int64":
    case "uint64":
      for (let i = 0; i < n; i++)
        text += (i > 0 ? "," : "") + Number((d as BigInt64Array | BigUint64Array)[i]!);
      return text;
    default: {
      const src = d as Float32Array;
      for (let i = 0; i < n; i++) text += (i > 0 ? "," : "") + jsonNumber(src[i]!);
      return text;
    }
  }
}

/** JSON has no NaN or Infinity: JSON.stringify writes them as null. */
function jsonNumber(v: number): string | number {
  return Number.isFinite(v) ? v : "null";
}

function nest(
  flat: readonly unknown[],
  start: number,
  dims: readonly number[],
  depth: number,
): unknown {
  if (depth === dims.length) return flat[start];
  const size = dims[depth]!;
  let stride = 1;
  for (let d = depth + 1; d < dims.length; d++) stride *= dims[d]!;
  if (depth === dims.length - 1) return flat.slice(start, start + size);
  const out = new Array<unknown>(size);
  for (let i = 0; i < size; i++) out[i] = nest(flat, start + i * stride, dims, depth + 1);
  return out;
}

/**
 * Simple-form response: one object per row, `{ [output]: value }`. An output of shape [N] gives a
 * scalar per row, [N, k] an array of k, higher ranks nested arrays; an output without the batch
 * dimension (dim 0 ≠ rows) is given whole to every row.
 */
export function encodeSimpleOutputs(
  outputs: Record<string, HostTensor>,
  requested: string[] | null,
  rows: number,
): Array<Record<string, unknown>> {
  const result: Array<Record<string, unknown>> = [];
  for (let r = 0; r < rows; r++) result.push({});
  for (const name of outputNames(outputs, requested)) {
    const t = outputTensor(outputs, name);
    const flat = toJsValues(t);
    if (t.dims.length >= 1 && t.dims[0] === rows) {
      const stride = rows === 0 ? 0 : flat.length / rows;
      for (let r = 0; r < rows; r++) {
        result[r]![name] = t.dims.length === 1 ? flat[r] : nest(flat, r * stride, t.dims, 1);
      }
    } else {
      const whole = nest(flat, 0, t.dims, 0);
      for (let r = 0; r < rows; r++) result[r]![name] = whole;
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Batching

interface Settable {
  set(source: ArrayLike<unknown>, offset: number): void;
}

/**
 * Concatenates requests' tensors along dim 0. Names, types and trailing dims are assumed equal
 * (validated against the signature earlier); a mismatch is a programming error and throws.
 */
export function concatBatch(parts: Array<Record<string, HostTensor>>): Record<string, HostTensor> {
  if (parts.length === 0) return {};
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const result: Record<string, HostTensor> = {};
  for (const name of Object.keys(first)) {
    const t0 = first[name]!;
    if (t0.dims.length === 0) throw new Error(`concatBatch: "${name}" has no batch dimension`);
    const rowSize = product(t0.dims.slice(1));
    let rows = 0;
    for (const part of parts) {
      const t = part[name];
      if (!t || t.type !== t0.type || t.dims.length !== t0.dims.length) {
        throw new Error(`concatBatch: "${name}" differs in presence, type or rank between parts`);
      }
      for (let d = 1; d < t.dims.length; d++) {
        if (t.dims[d] !== t0.dims[d]) {
          throw new Error(`concatBatch: "${name}" differs in dimension ${d} between parts`);
        }
      }
      rows += t.dims[0]!;
    }
    const data = allocate(t0.type, rows * rowSize);
    let at = 0;
    for (const part of parts) {
      const src = part[name]!.data;
      if (Array.isArray(data)) {
        const s = src as string[];
        for (let i = 0; i < s.length; i++) data[at + i] = s[i]!;
      } else {
        // Same concrete typed-array class on both sides (same type), so set() is valid.
        (data as unknown as Settable).set(src, at);
      }
      at += src.length;
    }
    result[name] = { type: t0.type, dims: [rows, ...t0.dims.slice(1)], data };
  }
  return result;
}

/**
 * One request's share of a batch's outputs: tensors whose dim 0 is `total` give rows
 * [offset, offset + count) (typed arrays as views, no copy); others are passed whole.
 */
export function sliceBatch(
  outputs: Record<string, HostTensor>,
  offset: number,
  count: number,
  total: number,
): Record<string, HostTensor> {
  const result: Record<string, HostTensor> = {};
  for (const name of Object.keys(outputs)) {
    const t = outputs[name]!;
    if (t.dims.length === 0 || t.dims[0] !== total || (offset === 0 && count === total)) {
      result[name] = t;
      continue;
    }
    const rowSize = total === 0 ? 0 : t.data.length / total;
    const start = offset * rowSize;
    const end = (offset + count) * rowSize;
    const data = Array.isArray(t.data) ? t.data.slice(start, end) : t.data.subarray(start, end);
    result[name] = { type: t.type, dims: [count, ...t.dims.slice(1)], data };
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Model metadata

type MetadataTensor = { name: string; datatype: OipDatatype | string; shape: number[] };

function metadataOf(v: OnnxValueSignature): MetadataTensor {
  if (v.kind !== "tensor") return { name: v.name, datatype: v.type, shape: [] };
  return {
    name: v.name,
    datatype: (v.dtype ? oipDatatypeOf(v.dtype) : null) ?? v.type,
    // No declared shape (any rank) has no OIP spelling; [-1] says "dynamic" at least.
    shape: v.shape === null ? [-1] : v.shape.map((d) => (typeof d === "number" ? d : -1)),
  };
}

/**
 * OIP model metadata (`GET /v2/models/{name}`): dynamic dims as -1; non-tensor values carry
 * their ONNX type string (e.g. "seq(map(int64,tensor(float)))") as datatype and shape [].
 */
export function signatureMetadata(signature: OnnxSignature): {
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
} {
  return { inputs: signature.inputs.map(metadataOf), outputs: signature.outputs.map(metadataOf) };
}
