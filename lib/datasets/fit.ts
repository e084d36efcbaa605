/**
 * Whether a dataset version can be scored by a model version, decided from the dataset's
 * recorded columns and mapping and the model's ONNX signature alone (no file is read). The
 * answer is either a plan the evaluation engine follows (which input gets which columns,
 * which output is the prediction, how labels compare) or problems written for a person:
 * "dataset maps 3 columns to input features, but the model expects 4".
 *
 * Client-safe: pure functions over JSON.
 */
import { classNamesOf, predictionReadoutOf } from "../onnx/readout";
import type { OnnxSignature, OnnxValueSignature } from "../onnx/types";
import type { ColumnInfo, FeatureMapping } from "./types";

export type FeedDtype = "float32" | "float64" | "int32" | "int64";
const FEEDABLE: readonly string[] = ["float32", "float64", "int32", "int64"];
export type FeedPlan = {
  input: string;
  dtype: FeedDtype;
  /** Dataset columns, in order, that fill the input's feature dimension. */
  columns: string[];
  /** 2: [batch, F]; 1: [batch] (one column). */
  rank: 1 | 2;
};

export type EvaluationPlan = {
  task: "classification" | "regression";
  feeds: FeedPlan[];
  /** All feature columns in feed order (the order the engine loads them in). */
  featureColumns: string[];
  labelColumn: string;
  /** Largest batch the model accepts: null when the batch dimension is free. */
  maxBatch: number | null;
  /** Classification: an output holding the predicted class (index or name). */
  labelOutput: { name: string; kind: "index" | "name" } | null;
  /** Classification: [batch, C] scores; the prediction is their argmax without labelOutput. */
  scoresOutput: { name: string; probabilities: boolean } | null;
  /** Regression: the predicted value ([batch] or [batch, 1]). */
  valueOutput: string | null;
  /** Class names by index (from the model's class_labels metadata), when known. */
  classNames: string[] | null;
  /** How dataset labels become class indices: by name (via classNames), or as integers. */
  labelEncoding: "index" | "name" | null;
  /** Things worth knowing that did not stop the plan (e.g. an input name that differed). */
  notes: string[];
};

export type FitResult = { ok: true; plan: EvaluationPlan } | { ok: false; problems: string[] };

export type DatasetShape = {
  columns: ColumnInfo[];
  labelColumn: string;
  featureMapping: FeatureMapping;
};

const q = (s: string) => JSON.stringify(s);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function isFixed(dim: unknown): dim is number {
  return typeof dim === "number";
}

/** The fixed batch size of an input (null when free), or a problem. */
function batchOf(value: OnnxValueSignature): { max: number | null } | { problem: string } {
  const first = value.shape?.[0];
  if (!isFixed(first)) return { max: null };
  if (first === 1) return { max: 1 };
  return {
    problem: `input ${q(value.name)} has a fixed batch size of ${first}; only a free batch dimension or 1 can be fed row by row`,
  };
}

/**
 * Checks the dataset's mapping and label against the model's inputs and outputs. `task` is
 * the model's task; evaluations need classification or regression.
 */
export function checkDatasetFitsModel(
  dataset: DatasetShape,
  signature: OnnxSignature,
  task: "classification" | "regression" | "other",
): FitResult {
  const problems: string[] = [];
  const notes: string[] = [];
  if (task === "other") {
    return {
      ok: false,
      problems: [
        "the model's task is \u201cother\u201d; set it to classification or regression to evaluate it",
      ],
    };
  }
  const columns = new Map(dataset.columns.map((c) => [c.name, c]));
  const inputs = signature.inputs ?? [];
  const feeds: FeedPlan[] = [];
  let maxBatch: number | null = null;

  const planInput = (value: OnnxValueSignature, cols: string[], mappedAs: string) => {
    if (value.kind !== "tensor" || !value.dtype) {
      problems.push(`input ${q(value.name)} is a ${value.type}, not a tensor`);
      return;
    }
    if (!FEEDABLE.includes(value.dtype)) {
      problems.push(
        `input ${q(value.name)} is of type ${value.dtype}; dataset columns can feed float32, float64, int32 or int64 inputs`,
      );
      return;
    }
    const shape = value.shape;
    const rank = shape === null ? null : shape.length;
    let feedRank: 1 | 2;
    if (rank === 2) {
      const width = shape![1];
      if (isFixed(width) && width !== cols.length) {
        problems.push(
          `dataset maps ${plural(cols.length, "column")} to input ${mappedAs}, but the model expects ${width}`,
        );
        return;
      }
      feedRank = 2;
    } else if (rank === 1 || (rank === null && cols.length === 1)) {
      if (cols.length !== 1) {
        problems.push(
          `input ${q(value.name)} takes one value per row ([batch]), but the dataset maps ${plural(cols.length, "column")} to it`,
        );
        return;
      }
      feedRank = 1;
    } else if (rank === null) {
      feedRank = 2;
      notes.push(`input ${q(value.name)} declares no shape; it is fed as [batch, ${cols.length}]`);
    } else {
      problems.push(
        `input ${q(value.name)} has rank ${rank} (${JSON.stringify(shape)}); only [batch, features] or [batch] inputs can be fed from rows`,
      );
      return;
    }
    const batch = batchOf(value);
    if ("problem" in batch) {
      problems.push(batch.problem);
      return;
    }
    if (batch.max !== null) maxBatch = batch.max;
    if (value.dtype.startsWith("int")) {
      const decimals = cols.filter((c) => columns.get(c)?.type === "number");
      if (decimals.length > 0) {
        problems.push(
          `input ${q(value.name)} is ${value.dtype}, but column${decimals.length === 1 ? "" : "s"} ${decimals.map(q).join(", ")} ${decimals.length === 1 ? "holds" : "hold"} decimal numbers`,
        );
        return;
      }
    }
    feeds.push({
      input: value.name,
      dtype: value.dtype as FeedDtype,
      columns: cols,
      rank: feedRank,
    });
  };

  const mapping = dataset.featureMapping;
  for (const c of mapping.kind === "tensor" ? mapping.columns : Object.values(mapping.inputs)) {
    const info = columns.get(c);
    if (!info) problems.push(`the dataset has no column ${q(c)}`);
    else if (info.type !== "number" && info.type !== "integer") {
      problems.push(`column ${q(c)} holds ${info.type} values, not numbers`);
    }
  }
  if (mapping.kind === "tensor") {
    let target = inputs.find((i) => i.name === mapping.input);
    if (!target && inputs.length === 1) {
      target = inputs[0]!;
      notes.push(
        `the dataset maps its features to input ${q(mapping.input)}; the model's only input is ${q(target.name)}, which is used instead`,
      );
    }
    if (!target) {
      problems.push(
        `the dataset maps its features to input ${q(mapping.input)}, but the model's inputs are ${inputs.map((i) => q(i.name)).join(", ") || "none"}`,
      );
    } else {
      planInput(target, mapping.columns, q(target.name));
      for (const other of inputs) {
        if (other !== target) {
          problems.push(
            `the model also needs input ${q(other.name)}, which the dataset does not map`,
          );
        }
      }
    }
  } else {
    const byName = new Map(inputs.map((i) => [i.name, i]));
    for (const [input, column] of Object.entries(mapping.inputs)) {
      const value = byName.get(input);
      if (!value) {
        problems.push(
          `the dataset maps column ${q(column)} to input ${q(input)}, which the model does not have (its inputs: ${inputs.map((i) => q(i.name)).join(", ")})`,
        );
      } else {
        planInput(value, [column], q(input));
      }
    }
    for (const value of inputs) {
      if (!(value.name in mapping.inputs)) {
        problems.push(`the model needs input ${q(value.name)}, which the dataset does not map`);
      }
    }
  }

  // Outputs and labels.
  const label = columns.get(dataset.labelColumn);
  if (!label) problems.push(`the dataset has no label column ${q(dataset.labelColumn)}`);
  let labelOutput: EvaluationPlan["labelOutput"] = null;
  let scoresOutput: EvaluationPlan["scoresOutput"] = null;
  let valueOutput: string | null = null;
  let classNames: string[] | null = null;
  let labelEncoding: EvaluationPlan["labelEncoding"] = null;
  const readout = predictionReadoutOf(signature, task);
  if (!readout.ok) problems.push(readout.problem);

  if (task === "classification") {
    if (readout.ok && readout.readout.task === "classification") {
      ({ labelOutput, scoresOutput, classNames } = readout.readout);
    } else {
      classNames = classNamesOf(signature);
    }
    if (label) {
      const predictsNames = labelOutput?.kind === "name";
      if (predictsNames) {
        labelEncoding = "name";
      } else if (label.type === "integer") {
        labelEncoding = "index";
        const bad = (label.values ?? []).filter(
          (v) =>
            typeof v === "number" && (v < 0 || (classNames !== null && v >= classNames.length)),
        );
        if (bad.length > 0) {
          problems.push(
            `label column ${q(label.name)} holds ${bad.slice(0, 5).join(", ")}, which ${bad.length === 1 ? "is not a class index" : "are not class indices"} of the model${classNames ? ` (0…${classNames.length - 1})` : ""}`,
          );
        }
      } else if (label.type === "string" || label.type === "boolean") {
        if (!classNames) {
          problems.push(
            `label column ${q(label.name)} holds names, but the model does not say which class index is which (no class_labels metadata); use integer labels 0, 1, 2…`,
          );
        } else {
          labelEncoding = "name";
          const unknown = (label.values ?? []).map(String).filter((v) => !classNames!.includes(v));
          if (unknown.length > 0) {
            problems.push(
              `label column ${q(label.name)} holds ${unknown.slice(0, 5).map(q).join(", ")}, which the model's classes (${classNames.map(q).join(", ")}) do not include`,
            );
          }
        }
      } else {
        problems.push(
          `label column ${q(label.name)} holds decimal numbers; a classification label must be a class name or index`,
        );
      }
    }
  } else {
    if (readout.ok && readout.readout.task === "regression")
      valueOutput = readout.readout.valueOutput;
    if (label && label.type !== "number" && label.type !== "integer") {
      problems.push(
        `label column ${q(label.name)} holds ${label.type} values; a regression target must be numeric`,
      );
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    plan: {
      task,
      feeds,
      featureColumns: feeds.flatMap((f) => f.columns),
      labelColumn: dataset.labelColumn,
      maxBatch,
      labelOutput,
      scoresOutput,
      valueOutput,
      classNames,
      labelEncoding,
      notes,
    },
  };
}

/** One sentence for an error message: "Dataset iris v1 does not fit …: a; b." */
export function describeMisfit(problems: string[]): string {
  return problems.map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join("; ");
}
