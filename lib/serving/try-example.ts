/**
 * Example inference requests for the "Try it" panel and a version's page: the version's stored
 * sample request when it has one (a request it is known to answer), else one built from its
 * signature (one tensor per input for the Open Inference Protocol form, one row for the simple
 * form), unless that synthetic request already failed at warm-up. Pure and client-safe (the
 * panel rebuilds them in the browser when the target changes).
 */
import type { OnnxDim } from "../onnx/types";
import { oipDatatypeOf } from "./protocol";
import type { SampleRequest } from "./sample-request";

/** The part of a signature an example needs (what the page sends to the browser). */
export type TrySignature = {
  inputs: Array<{ name: string; kind: string; dtype: string | null; shape: OnnxDim[] | null }>;
  /** The model's `feature_names` metadata (a JSON array of strings), if any. */
  featureNames?: string;
};

/** Cuts a stored signature down to what examples need. */
export function trySignatureOf(signature: unknown): TrySignature | null {
  const s = signature as {
    inputs?: unknown;
    metadata?: Record<string, unknown>;
  } | null;
  if (!s || !Array.isArray(s.inputs)) return null;
  const names = s.metadata?.feature_names;
  return {
    inputs: (s.inputs as TrySignature["inputs"]).map((i) => ({
      name: i.name,
      kind: i.kind,
      dtype: i.dtype,
      shape: i.shape,
    })),
    ...(typeof names === "string" ? { featureNames: names } : {}),
  };
}

/**
 * Realistic values for well-known feature names (the demo's iris measurements, in cm), so the
 * example gives a meaningful answer; any other feature gets 0.5.
 */
const PLAUSIBLE: Record<string, number> = {
  sepal_length: 5.1,
  sepal_width: 3.5,
  petal_length: 1.4,
  petal_width: 0.2,
};

/** The feature names when they fit an input of `width` columns, else null. */
export function featureNamesOf(signature: TrySignature, width: number | null): string[] | null {
  if (!signature.featureNames) return null;
  try {
    const parsed: unknown = JSON.parse(signature.featureNames);
    if (
      Array.isArray(parsed) &&
      parsed.every((n) => typeof n === "string") &&
      (width === null || parsed.length === width)
    ) {
      return parsed as string[];
    }
  } catch {
    // Not JSON: treat as no names.
  }
  return null;
}

function sampleValue(dtype: string | null, feature?: string): number | boolean | string {
  if (dtype === "bool") return false;
  if (dtype === "string") return "example";
  if (dtype && /int/.test(dtype)) return 0;
  return (feature !== undefined ? PLAUSIBLE[feature] : undefined) ?? 0.5;
}

/** The one [batch, F] numeric input the simple form works with, or why there is none. */
export function simpleInput(
  signature: TrySignature,
): { ok: true; width: number; dtype: string | null } | { ok: false; reason: string } {
  const [input, ...rest] = signature.inputs;
  const shape = input?.shape;
  if (
    !input ||
    rest.length > 0 ||
    !shape ||
    shape.length !== 2 ||
    typeof shape[1] !== "number" ||
    input.dtype === "string" ||
    input.dtype === "bool"
  ) {
    return {
      ok: false,
      reason: "The simple form needs exactly one numeric input of shape [batch, F]; send tensors.",
    };
  }
  return { ok: true, width: shape[1], dtype: input.dtype };
}

/** An Open Inference Protocol request: one tensor per input, symbolic dimensions set to 1. */
export function exampleInferRequest(signature: TrySignature) {
  return {
    inputs: signature.inputs.map((input) => {
      const shape = (input.shape ?? [1]).map((d) => (typeof d === "number" && d >= 0 ? d : 1));
      const count = shape.reduce((a, b) => a * b, 1);
      // A [batch, F] input with named features gets plausible values per column.
      const width = shape.length === 2 ? shape[1]! : 0;
      const names = width ? featureNamesOf(signature, width) : null;
      const data = Array.from({ length: count }, (_, i) =>
        sampleValue(input.dtype, names?.[i % width]),
      );
      return {
        name: input.name,
        shape,
        datatype: (input.dtype && oipDatatypeOf(input.dtype)) ?? "FP32",
        data,
      };
    }),
  };
}

/** A simple-form request: one row, keyed by feature name when the model names its features. */
export function examplePredictRequest(signature: TrySignature) {
  const simple = simpleInput(signature);
  if (!simple.ok) return { rows: [[sampleValue(signature.inputs[0]?.dtype ?? null)]] };
  const names = featureNamesOf(signature, simple.width);
  if (names) {
    return { rows: [Object.fromEntries(names.map((n) => [n, sampleValue(simple.dtype, n)]))] };
  }
  return { rows: [Array.from({ length: simple.width }, () => sampleValue(simple.dtype))] };
}

export function exampleRequest(signature: TrySignature, form: "infer" | "predict"): string {
  return prettyJson(
    form === "infer" ? exampleInferRequest(signature) : examplePredictRequest(signature),
  );
}

/** What an example is made from, per version. */
export type TryExample = {
  signature: TrySignature | null;
  /** The version's stored sample request, if any. */
  sampleRequest: SampleRequest | null;
  /** Serving's warning when the synthetic warm-up request failed on this version. */
  warmUpWarning: string | null;
};

export type ExampleBody = {
  /** The request to prefill ("" when there is no honest example to offer). */
  body: string;
  source: "sample" | "synthetic" | "none";
  /** Said beside the request: why there is no example, or where it comes from. */
  note: string | null;
};

/**
 * The simple form's rows from a sample request, when the model takes the simple form and the
 * sample's tensor for that input is numeric: the tensor split into rows of F values (keyed by
 * feature name when the model names its features).
 */
export function samplePredictRequest(
  sample: SampleRequest,
  signature: TrySignature,
): { rows: Array<unknown[] | Record<string, unknown>> } | null {
  const simple = simpleInput(signature);
  if (!simple.ok) return null;
  const input = sample.inputs.find((i) => i.name === signature.inputs[0]!.name);
  if (!input) return null;
  const values = (input.data as unknown[]).flat(8);
  if (values.length === 0 || values.length % simple.width !== 0) return null;
  const names = featureNamesOf(signature, simple.width);
  const rows: Array<unknown[] | Record<string, unknown>> = [];
  for (let at = 0; at < values.length; at += simple.width) {
    const row = values.slice(at, at + simple.width);
    rows.push(names ? Object.fromEntries(names.map((n, i) => [n, row[i]])) : row);
  }
  return { rows };
}

/**
 * The example to offer for a version: its sample request; else the synthetic one, unless
 * serving reported that the synthetic request failed at warm-up (then none, and why).
 */
export function exampleFor(example: TryExample, form: "infer" | "predict"): ExampleBody {
  const { signature, sampleRequest, warmUpWarning } = example;
  if (sampleRequest) {
    if (form === "infer") {
      return { body: prettyJson(sampleRequest), source: "sample", note: null };
    }
    const rows = signature ? samplePredictRequest(sampleRequest, signature) : null;
    if (rows) return { body: prettyJson(rows), source: "sample", note: null };
  }
  if (warmUpWarning) {
    const why = warmUpWarning.replace(/[.\s]+$/, "");
    return {
      body: "",
      source: "none",
      note:
        `No example: ${why.charAt(0).toLowerCase()}${why.slice(1)}. An example built from the signature ` +
        "would fail the same way: write a request this version answers, or store a sample " +
        "request on its version page.",
    };
  }
  if (!signature) return { body: "", source: "none", note: null };
  return { body: exampleRequest(signature, form), source: "synthetic", note: null };
}

/**
 * JSON indented by two spaces, except that arrays of plain values stay on one line, so a
 * tensor's data or a row of probabilities reads as one row rather than a column.
 */
export function prettyJson(value: unknown, indent = ""): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every((v) => v === null || typeof v !== "object")) {
      return `[${value.map((v) => JSON.stringify(v) ?? "null").join(", ")}]`;
    }
    return `[\n${value.map((v) => inner + prettyJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  return `{\n${entries
    .map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`)
    .join(",\n")}\n${indent}}`;
}
