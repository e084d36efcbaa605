import { InferenceInputError } from "../inference-error";
import { oipDatatypeOf, type HostTensor } from "../protocol";
import { encodeTensorBytes } from "../tensor-bytes";
import type {
  InferOutputTensor,
  InferParameter,
  InferTensorContents,
  ModelInferRequest,
} from "./definition";

/**
 * ModelInfer's tensors in and out. A request becomes the same neutral request object that the
 * HTTP endpoint parses from JSON (`{id, parameters, inputs: [{name, shape, datatype, data}],
 * outputs}`), so prepareInferRequest validates both alike and says the same things: typed
 * contents become `data` arrays, `raw_input_contents` become raw tensor bytes (a Uint8Array
 * `data`, decoded by lib/serving/tensor-bytes.ts).
 *
 * Answers use `raw_output_contents` when the request sent raw inputs (as KServe's servers do;
 * a client that sends raw bytes reads raw bytes), and typed `contents` otherwise, except when an
 * output is FP16, which has no typed field: then every output is raw, as the protocol allows
 * only one form per response.
 */

type ContentsField = keyof InferTensorContents;

/** Which typed field carries each datatype's values (FP16 has none: raw only). */
export const FIELD_OF: Readonly<Record<string, ContentsField>> = {
  BOOL: "bool_contents",
  INT8: "int_contents",
  INT16: "int_contents",
  INT32: "int_contents",
  INT64: "int64_contents",
  UINT8: "uint_contents",
  UINT16: "uint_contents",
  UINT32: "uint_contents",
  UINT64: "uint64_contents",
  FP32: "fp32_contents",
  FP64: "fp64_contents",
  BYTES: "bytes_contents",
};

const FIELDS: readonly ContentsField[] = [
  "bool_contents",
  "int_contents",
  "int64_contents",
  "uint_contents",
  "uint64_contents",
  "fp32_contents",
  "fp64_contents",
  "bytes_contents",
];

export type NeutralInput = {
  name: string | undefined;
  shape: number[];
  datatype: string | undefined;
  data: unknown[] | Uint8Array;
  parameters?: Record<string, unknown>;
};

/** The request object prepareInferRequest takes, as the JSON endpoint would have parsed it. */
export type NeutralInferRequest = {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: NeutralInput[];
  outputs?: Array<{ name: string | undefined; parameters?: Record<string, unknown> }>;
};

function fail(code: string, message: string, details?: Record<string, unknown>): never {
  throw new InferenceInputError(400, code, message, details);
}

/** `parameters` as the JSON form has them (`{key: value}`), or undefined when empty. */
export function plainParameters(
  map: Record<string, InferParameter> | undefined,
): Record<string, unknown> | undefined {
  if (!map) return undefined;
  let out: Record<string, unknown> | undefined;
  for (const key in map) {
    const p = map[key]!;
    const choice = p.parameter_choice;
    const value = choice === "int64_param" ? Number(p.int64_param) : choice ? p[choice] : undefined;
    (out ??= {})[key] = value;
  }
  return out;
}

/** The protocol's `parameters` map from a JSON-form one (booleans, integers, strings). */
export function protocolParameters(
  plain: Record<string, unknown> | undefined,
): Record<string, InferParameter> | undefined {
  if (!plain) return undefined;
  const out: Record<string, InferParameter> = {};
  for (const key in plain) {
    const v = plain[key];
    if (typeof v === "boolean") out[key] = { bool_param: v };
    else if (typeof v === "number" && Number.isInteger(v)) out[key] = { int64_param: v };
    else if (v !== undefined) out[key] = { string_param: String(v) };
  }
  return out;
}

/** Decimal int64 strings as raw little-endian tensor bytes: exact over the whole 64-bit range. */
function int64Bytes(values: ReadonlyArray<string | number>, unsigned: boolean): Uint8Array {
  const n = values.length;
  const out = unsigned ? new BigUint64Array(n) : new BigInt64Array(n);
  for (let i = 0; i < n; i++) out[i] = BigInt(values[i]!);
  return new Uint8Array(out.buffer);
}

function shapeOf(shape: ReadonlyArray<string | number> | undefined): number[] {
  // Dimensions arrive as decimal strings (int64); prepareInferRequest checks what they are.
  return shape ? shape.map(Number) : [];
}

function dataOf(
  input: NonNullable<ModelInferRequest["inputs"]>[number],
  label: string,
): unknown[] | Uint8Array {
  const contents = input.contents;
  const datatype = input.datatype ?? "";
  const field = FIELD_OF[datatype];
  if (datatype === "FP16" && contents && FIELDS.some((f) => contents[f]?.length)) {
    fail(
      "invalid_request",
      `${label}: FP16 has no typed contents field in the protocol; send its values in raw_input_contents.`,
      { input: input.name },
    );
  }
  if (!contents) return [];
  for (const f of FIELDS) {
    if (f !== field && contents[f]?.length) {
      fail(
        "wrong_contents",
        field
          ? `${label}: datatype ${datatype} takes its values in ${field}, but ${f} was given.`
          : `${label}: ${f} was given for datatype ${JSON.stringify(datatype)}, which has no typed contents field.`,
        { input: input.name, datatype, field: f },
      );
    }
  }
  if (!field) return [];
  const values = contents[field] ?? [];
  if (field === "int64_contents" || field === "uint64_contents") {
    // Counted here, in values: as bytes, a wrong count would be reported in bytes.
    const shape = shapeOf(input.shape);
    const n = shape.reduce((a, b) => a * b, 1);
    if (Number.isSafeInteger(n) && values.length !== n) {
      fail(
        "bad_data",
        `${label}: shape [${shape.join(",")}] needs ${n} values, got ${values.length}.`,
        {
          input: input.name,
          shape,
          expected: n,
          got: values.length,
        },
      );
    }
    return int64Bytes(values as Array<string | number>, field === "uint64_contents");
  }
  if (field === "bytes_contents") {
    // The protocol's BYTES elements; the models here take them as text (onnx string tensors).
    return (values as Uint8Array[]).map((b) =>
      Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8"),
    );
  }
  return values;
}

/** A ModelInferRequest as the neutral request object; refuses mixing typed and raw contents. */
export function neutralInferRequest(request: ModelInferRequest): NeutralInferRequest {
  const inputs = request.inputs ?? [];
  const raw = request.raw_input_contents ?? [];
  const usesRaw = raw.length > 0;
  if (usesRaw && raw.length !== inputs.length) {
    fail(
      "invalid_request",
      `raw_input_contents has ${raw.length} ${raw.length === 1 ? "entry" : "entries"} but the request has ${inputs.length} ${inputs.length === 1 ? "input" : "inputs"}; send one per input, in the order of "inputs".`,
      { raw: raw.length, inputs: inputs.length },
    );
  }
  const out: NeutralInput[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    const label = `Input "${input.name ?? ""}"`;
    let data: unknown[] | Uint8Array;
    if (usesRaw) {
      const contents = input.contents;
      if (contents && FIELDS.some((f) => contents[f]?.length)) {
        fail(
          "invalid_request",
          `${label}: has typed contents, but the request sends raw_input_contents; use one form for every input.`,
          { input: input.name },
        );
      }
      data = raw[i]!;
    } else {
      data = dataOf(input, label);
    }
    const parameters = plainParameters(input.parameters);
    out.push({
      name: input.name,
      shape: shapeOf(input.shape),
      datatype: input.datatype,
      data,
      ...(parameters ? { parameters } : {}),
    });
  }
  const parameters = plainParameters(request.parameters);
  const outputs = request.outputs?.length
    ? request.outputs.map((o) => {
        const p = plainParameters(o.parameters);
        return p ? { name: o.name, parameters: p } : { name: o.name };
      })
    : undefined;
  return {
    // proto3 strings have no "unset": an empty id is no id.
    ...(request.id ? { id: request.id } : {}),
    ...(parameters ? { parameters } : {}),
    inputs: out,
    ...(outputs ? { outputs } : {}),
  };
}

/** Whether a request sent raw inputs, so its answer goes back raw too. */
export function usesRawContents(request: ModelInferRequest): boolean {
  return (request.raw_input_contents?.length ?? 0) > 0;
}

function typedContents(t: HostTensor): InferTensorContents {
  const d = t.data;
  const n = d.length;
  switch (t.type) {
    case "float32":
    case "float64":
    case "int8":
    case "int16":
    case "int32":
    case "uint8":
    case "uint16":
    case "uint32": {
      // protobufjs takes plain arrays only.
      const src = d as Float32Array;
      const values = new Array<number>(n);
      for (let i = 0; i < n; i++) values[i] = src[i]!;
      const field =
        t.type === "float32"
          ? "fp32_contents"
          : t.type === "float64"
            ? "fp64_contents"
            : t.type.startsWith("uint")
              ? "uint_contents"
              : "int_contents";
      return { [field]: values };
    }
    case "int64":
    case "uint64": {
      // Decimal strings: exact past 2^53, which a number would not be.
      const src = d as BigInt64Array | BigUint64Array;
      const values = new Array<string>(n);
      for (let i = 0; i < n; i++) values[i] = src[i]!.toString();
      return t.type === "int64" ? { int64_contents: values } : { uint64_contents: values };
    }
    case "bool": {
      const src = d as Uint8Array;
      const values = new Array<boolean>(n);
      for (let i = 0; i < n; i++) values[i] = src[i] !== 0;
      return { bool_contents: values };
    }
    case "string":
      return { bytes_contents: (d as string[]).map((s) => Buffer.from(s, "utf8")) };
    case "float16":
      throw new Error("FP16 has no typed contents field; it is always answered raw");
  }
}

/**
 * The response's `outputs` (and `raw_output_contents` when `raw`, or when an output is FP16),
 * for the requested outputs in the order asked (all outputs when none were named).
 */
export function encodeInferOutputs(
  outputs: Record<string, HostTensor>,
  requested: string[] | null,
  raw: boolean,
): { outputs: InferOutputTensor[]; raw_output_contents?: Uint8Array[] } {
  const names = requested ?? Object.keys(outputs);
  const tensors: HostTensor[] = [];
  let asRaw = raw;
  for (const name of names) {
    const t = outputs[name];
    if (!t) throw new Error(`Output "${name}" was requested but the model did not produce it`);
    if (t.type === "float16") asRaw = true;
    tensors.push(t);
  }
  const out: InferOutputTensor[] = new Array(tensors.length);
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    out[i] = {
      name: names[i]!,
      datatype: oipDatatypeOf(t.type) ?? t.type,
      shape: t.dims,
      ...(asRaw ? {} : { contents: typedContents(t) }),
    };
  }
  return asRaw
    ? { outputs: out, raw_output_contents: tensors.map(encodeTensorBytes) }
    : { outputs: out };
}
