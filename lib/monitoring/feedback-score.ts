/**
 * The one rule for matching ground truth with what a model predicted (`scoreFeedback`): the
 * prediction log's `predicted` (a JSON array, one element per row: the class name, or index
 * when the model names no classes, or the value) against the labels or values a client sent.
 * Pure, so it is unit-tested on its own; lib/monitoring/feedback.ts applies it.
 *
 * Client-safe: no Node APIs.
 */

export type ModelTask = "classification" | "regression" | "other";
/** Exactly one of the two is set (the API contract checks it). */
export type GivenTruth = {
  label?: string | number | Array<string | number>;
  value?: number | number[];
};

export type FeedbackScore = {
  kind: "label" | "value";
  /** Canonical truth per row: class names (or indices as text) / values. */
  truth: Array<string | number>;
  labelled: number;
  correct: number;
  absErrorSum: number;
  sqErrorSum: number;
};

export type FeedbackProblem = {
  status: "wrong_kind" | "invalid_label" | "row_count_mismatch" | "not_scored";
  message: string;
};

export type ScoreResult =
  { ok: true; score: FeedbackScore } | { ok: false; problem: FeedbackProblem };

const fail = (status: FeedbackProblem["status"], message: string): ScoreResult => ({
  ok: false,
  problem: { status, message },
});

/** The predicted array of a log row, or null when the request has none (failed, or unreadable). */
export function parsePredicted(text: string | null | undefined): Array<string | number> | null {
  if (!text) return null;
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed as Array<string | number>) : null;
  } catch {
    return null;
  }
}

/**
 * A label as the prediction log spells classes: with class names, an index becomes its name
 * (a name wins over an index when a class is literally called "2"); without, the label is
 * compared as text (the log holds indices, or names from a string label output).
 */
export function canonicalLabel(
  label: string | number,
  classNames: readonly string[] | null,
): string | null {
  if (!classNames) return String(label);
  if (typeof label === "string" && classNames.includes(label)) return label;
  const index = typeof label === "number" ? label : /^\d+$/.test(label) ? Number(label) : NaN;
  return Number.isInteger(index) && index >= 0 && index < classNames.length
    ? classNames[index]!
    : null;
}

export function scoreFeedback(
  task: ModelTask,
  classNames: readonly string[] | null,
  predicted: Array<string | number> | null,
  given: GivenTruth,
): ScoreResult {
  const isLabel = given.label !== undefined;
  if (task === "other") {
    return fail("wrong_kind", "the model's task is `other`: it has no live accuracy or error");
  }
  if (task === "classification" && !isLabel) {
    return fail("wrong_kind", "the model is a classifier: send `label`, not `value`");
  }
  if (task === "regression" && isLabel) {
    return fail("wrong_kind", "the model is a regressor: send `value`, not `label`");
  }
  if (!predicted) {
    return fail("not_scored", "the request has no logged prediction (it failed)");
  }
  const raw = (isLabel ? given.label : given.value)!;
  const list: Array<string | number> = Array.isArray(raw) ? raw : [raw];
  if (list.length !== predicted.length) {
    return fail(
      "row_count_mismatch",
      `the request scored ${predicted.length} row${predicted.length === 1 ? "" : "s"}; got ${list.length} ${isLabel ? "label" : "value"}${list.length === 1 ? "" : "s"}`,
    );
  }
  if (isLabel) {
    const truth: string[] = [];
    let correct = 0;
    for (let i = 0; i < list.length; i++) {
      const label = canonicalLabel(list[i]!, classNames);
      if (label === null) {
        return fail(
          "invalid_label",
          `${JSON.stringify(list[i])} is not a class of the model (${classNames!.map((c) => JSON.stringify(c)).join(", ")}) nor an index 0…${classNames!.length - 1}`,
        );
      }
      truth.push(label);
      if (String(predicted[i]) === label) correct++;
    }
    return {
      ok: true,
      score: {
        kind: "label",
        truth,
        labelled: truth.length,
        correct,
        absErrorSum: 0,
        sqErrorSum: 0,
      },
    };
  }
  let absErrorSum = 0;
  let sqErrorSum = 0;
  for (let i = 0; i < list.length; i++) {
    const predictedValue = Number(predicted[i]);
    if (!Number.isFinite(predictedValue)) {
      return fail("not_scored", `the logged prediction of row ${i} is not a number`);
    }
    const error = predictedValue - Number(list[i]);
    absErrorSum += Math.abs(error);
    sqErrorSum += error * error;
  }
  return {
    ok: true,
    score: {
      kind: "value",
      truth: list.map(Number),
      labelled: list.length,
      correct: 0,
      absErrorSum,
      sqErrorSum,
    },
  };
}
