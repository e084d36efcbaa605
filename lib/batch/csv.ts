import type { EvaluationPlan } from "../datasets/fit";

/**
 * The output CSV of a batch prediction, as pure functions (unit-tested in csv.test.ts):
 * `row` (1-based row number in the dataset), the feature columns, then the outputs — for a
 * classifier the predicted label and one `p_<class>` column per class (`score_<class>` when
 * the model's scores are not probabilities), for a regressor `prediction`.
 */

export function csvCell(value: string | number): string {
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  return /[",\r\n]/.test(value) || value !== value.trim()
    ? `"${value.replace(/"/g, '""')}"`
    : value;
}

/** Class names by index: the model's own, else the index itself. */
export function classNameOf(plan: EvaluationPlan, index: number): string {
  return plan.classNames?.[index] ?? String(index);
}

export function outputColumns(plan: EvaluationPlan, scoreWidth: number): string[] {
  if (plan.task === "regression") return ["prediction"];
  const cols = ["prediction"];
  if (plan.scoresOutput && scoreWidth > 0) {
    const prefix = plan.scoresOutput.probabilities ? "p_" : "score_";
    for (let k = 0; k < scoreWidth; k++) cols.push(`${prefix}${classNameOf(plan, k)}`);
  }
  return cols;
}

/** A feature value as written: float32 values (from the binary form) to 7 significant digits. */
export function featureCell(value: number, float32: boolean): string {
  return float32 ? String(Number(value.toPrecision(7))) : String(value);
}

export function headerLine(plan: EvaluationPlan, scoreWidth: number): string {
  return (
    ["row", ...plan.featureColumns, ...outputColumns(plan, scoreWidth)].map(csvCell).join(",") +
    "\n"
  );
}
