/**
 * Which output of a model holds its prediction, decided from the ONNX signature and the
 * model's task alone, and how to read one prediction per row from those outputs. One rule
 * for everything that needs "what did the model predict": evaluation (lib/datasets/fit.ts
 * plans with it) and the serving process (which logs every request's prediction so
 * feedback can be scored later).
 *
 * Client-safe: pure functions over JSON and typed arrays.
 */
import type { OnnxSignature, OnnxValueSignature } from "./types";

const FLOATS: readonly string[] = ["float32", "float64", "float16"];
const INTEGERS: readonly string[] = [
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
];

export type ClassificationReadout = {
  task: "classification";
  /** An output holding the predicted class (index or name). */
  labelOutput: { name: string; kind: "index" | "name" } | null;
  /** [batch, C] scores; the prediction is their argmax when there is no labelOutput. */
  scoresOutput: { name: string; probabilities: boolean } | null;
  /** Class names by index (from the model's class_labels metadata), when known. */
  classNames: string[] | null;
};
export type RegressionReadout = { task: "regression"; valueOutput: string };
export type PredictionReadout = ClassificationReadout | RegressionReadout;

export type ReadoutResult =
  { ok: true; readout: PredictionReadout } | { ok: false; problem: string };

/** The class_labels metadata (JSON array or comma-separated), or null. */
export function classNamesOf(signature: OnnxSignature): string[] | null {
  const raw = signature.metadata?.class_labels;
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (Array.isArray(parsed) && parsed.length > 0) return parsed.map((v) => String(v));
  } catch {
    // Not JSON: a comma-separated list is common too.
  }
  const list = raw.split(",").map((s) => s.trim());
  return list.length > 1 ? list : null;
}

const rankOf = (o: OnnxValueSignature) => o.shape?.length ?? null;
const describeOutputs = (outputs: OnnxValueSignature[]) =>
  outputs.map((o) => `${o.name} ${o.type}`).join(", ");

export function predictionReadoutOf(
  signature: OnnxSignature,
  task: "classification" | "regression",
): ReadoutResult {
  const outputs = signature.outputs ?? [];
  const tensors = outputs.filter((o) => o.kind === "tensor" && o.dtype);
  if (task === "classification") {
    const labels = tensors.filter(
      (o) =>
        (rankOf(o) === 1 || (rankOf(o) === 2 && o.shape![1] === 1)) &&
        (INTEGERS.includes(o.dtype!) || o.dtype === "string"),
    );
    const label = labels.find((o) => /label|class|pred/i.test(o.name)) ?? labels[0];
    const scores = tensors.filter(
      (o) => rankOf(o) === 2 && FLOATS.includes(o.dtype!) && o.shape![1] !== 1,
    );
    const score = scores.find((o) => /prob/i.test(o.name)) ?? scores[0] ?? null;
    if (!label && !score) {
      return {
        ok: false,
        problem: `the model has no output a class can be read from (an integer or string [batch] label, or float [batch, classes] scores); its outputs: ${describeOutputs(outputs)}`,
      };
    }
    return {
      ok: true,
      readout: {
        task,
        labelOutput: label
          ? { name: label.name, kind: label.dtype === "string" ? "name" : "index" }
          : null,
        scoresOutput: score ? { name: score.name, probabilities: /prob/i.test(score.name) } : null,
        classNames: classNamesOf(signature),
      },
    };
  }
  const values = tensors.filter(
    (o) =>
      FLOATS.includes(o.dtype!) &&
      (rankOf(o) === 1 || rankOf(o) === null || (rankOf(o) === 2 && o.shape![1] === 1)),
  );
  const value = values.find((o) => /pred|value|output|y/i.test(o.name)) ?? values[0];
  if (!value) {
    return {
      ok: false,
      problem: `the model has no float [batch] or [batch, 1] output to read a predicted value from; its outputs: ${describeOutputs(outputs)}`,
    };
  }
  return { ok: true, readout: { task, valueOutput: value.name } };
}

/** The output names a readout reads (to fetch them even when a client asked for others). */
export function readoutOutputs(readout: PredictionReadout): string[] {
  if (readout.task === "regression") return [readout.valueOutput];
  return [readout.labelOutput?.name, readout.scoresOutput?.name].filter(
    (n): n is string => typeof n === "string",
  );
}

type OutputData = { data: ArrayLike<unknown> };

/**
 * One prediction per row: the class (its name when the model names its classes, else its
 * index) or the value. Null when an output it needs is missing or shorter than `rows`.
 */
export function readPredictions(
  readout: PredictionReadout,
  outputs: Record<string, OutputData | undefined>,
  rows: number,
): Array<string | number> | null {
  // Plain loops: this runs for every logged request on the serving event loop.
  const predictions = new Array<string | number>(rows);
  if (readout.task === "regression") {
    const v = outputs[readout.valueOutput]?.data;
    if (!v || v.length < rows) return null;
    for (let i = 0; i < rows; i++) predictions[i] = Number(v[i]);
    return predictions;
  }
  const names = readout.classNames;
  if (readout.labelOutput) {
    const d = outputs[readout.labelOutput.name]?.data;
    if (!d || d.length < rows) return null;
    const byName = readout.labelOutput.kind === "name";
    for (let i = 0; i < rows; i++) {
      if (byName) predictions[i] = String(d[i]);
      else {
        const k = Number(d[i]);
        predictions[i] = names?.[k] ?? k;
      }
    }
    return predictions;
  }
  const s = outputs[readout.scoresOutput!.name]?.data as ArrayLike<number> | undefined;
  if (!s || rows === 0 || s.length < rows) return null;
  const width = s.length / rows;
  for (let i = 0; i < rows; i++) {
    const best = argmax(s, i * width, width);
    predictions[i] = names?.[best] ?? best;
  }
  return predictions;
}

/** Index of the largest of `length` values from `offset` (the first one on ties). */
export function argmax(values: ArrayLike<number>, offset = 0, length = values.length): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = values[offset + i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}
