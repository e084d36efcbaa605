/**
 * Signature differences between two model versions, for the registry's compare view.
 * Client-safe (pure data).
 */
import type {
  OnnxSignature,
  OnnxSignatureDiff,
  OnnxValueChange,
  OnnxValueSignature,
} from "./types";

/** Scalar and record fields reported when they differ, in display order. */
const FIELDS = [
  "irVersion",
  "producerName",
  "producerVersion",
  "domain",
  "modelVersion",
  "graphName",
  "nodeCount",
  "subgraphNodeCount",
  "opTypes",
  "initializerCount",
  "parameterCount",
  "parameterBytes",
  "functionCount",
  "metadata",
  "docString",
  "graphDocString",
] as const satisfies ReadonlyArray<keyof OnnxSignature>;

/** What changed from `a` (before) to `b` (after). */
export function compareSignatures(a: OnnxSignature, b: OnnxSignature): OnnxSignatureDiff {
  const inputs = compareValues(a.inputs, b.inputs);
  const outputs = compareValues(a.outputs, b.outputs);
  const empty = (d: typeof inputs) => !d.added.length && !d.removed.length && !d.changed.length;
  return {
    sameInterface: empty(inputs) && empty(outputs),
    inputs,
    outputs,
    opsets: compareOpsets(a, b),
    fields: FIELDS.filter((f) => !sameJson(a[f], b[f])).map((field) => ({
      field,
      before: a[field],
      after: b[field],
    })),
  };
}

function compareValues(before: OnnxValueSignature[], after: OnnxValueSignature[]) {
  const old = new Map(before.map((v) => [v.name, v]));
  const now = new Map(after.map((v) => [v.name, v]));
  const changed: OnnxValueChange[] = [];
  for (const v of before) {
    const w = now.get(v.name);
    if (!w) continue;
    const changes: OnnxValueChange["changes"] = [];
    if (v.kind !== w.kind) changes.push("kind");
    if (v.dtype !== w.dtype || v.type !== w.type) changes.push("dtype");
    if (!sameJson(v.shape, w.shape)) changes.push("shape");
    if (changes.length) changed.push({ name: v.name, changes, before: v, after: w });
  }
  return {
    added: after.filter((v) => !old.has(v.name)),
    removed: before.filter((v) => !now.has(v.name)),
    changed,
  };
}

function compareOpsets(a: OnnxSignature, b: OnnxSignature): OnnxSignatureDiff["opsets"] {
  // "" and "ai.onnx" name the same default domain.
  const key = (domain: string) => (domain === "ai.onnx" ? "" : domain);
  const before = new Map(a.opsets.map((o) => [key(o.domain), o.version]));
  const after = new Map(b.opsets.map((o) => [key(o.domain), o.version]));
  const domains = [...new Set([...before.keys(), ...after.keys()])];
  return domains
    .map((domain) => ({
      domain,
      before: before.get(domain) ?? null,
      after: after.get(domain) ?? null,
    }))
    .filter((o) => o.before !== o.after);
}

/** Equal as JSON, whatever the order of object keys (metadata follows the file's order). */
function sameJson(x: unknown, y: unknown): boolean {
  return JSON.stringify(x, sortedKeys) === JSON.stringify(y, sortedKeys);
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
