/**
 * Quality metrics of an evaluation, as pure functions over plain arrays. Conventions follow
 * scikit-learn's, and the unit tests hold them to reference values computed with it
 * (lib/evaluation/fixtures/reference.json, made by make_reference.py):
 * - precision, recall and F1 of a class with no predicted (or no true) rows are 0
 *   (`zero_division=0`);
 * - macro averages are taken over the classes that occur in the truth or the predictions
 *   (sklearn's default `labels`); the confusion matrix and the per-class table list every
 *   class the model knows;
 * - log loss normalises each probability row to sum 1 and clips at 1e-15;
 * - ROC AUC (binary only) is the Mann–Whitney statistic with ties counted half, which is
 *   the area under the trapezoidal ROC curve;
 * - R² of a constant target is 1 when every prediction is exact and 0 otherwise;
 * - percentiles interpolate linearly between order statistics (numpy's default).
 *
 * Client-safe: no Node APIs, so pages can import the types.
 */

export type ClassMetrics = {
  /** Class name (or its index as text when the model names none). */
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** True rows of this class. */
  support: number;
  /** Rows predicted as this class. */
  predicted: number;
};

export type ClassificationMetrics = {
  kind: "classification";
  rows: number;
  accuracy: number;
  precisionMacro: number;
  recallMacro: number;
  f1Macro: number;
  perClass: ClassMetrics[];
  /** matrix[t][p]: rows of true class labels[t] predicted as labels[p]. */
  confusionMatrix: { labels: string[]; matrix: number[][] };
  /** From a probabilities output; null when the model has none. */
  logLoss: number | null;
  /** Two classes and probabilities (or scores) only; null otherwise. */
  rocAuc: number | null;
};

export type RegressionMetrics = {
  kind: "regression";
  rows: number;
  mae: number;
  mse: number;
  rmse: number;
  r2: number;
};

export type QualityMetrics = ClassificationMetrics | RegressionMetrics;

// The one argmax (lib/onnx/readout.ts: the rule for reading a prediction), re-exported for
// the metrics' callers.
export { argmax } from "../onnx/readout";

export type ClassificationInput = {
  /** True class index of each row, into `labels`. */
  yTrue: ArrayLike<number>;
  /** Predicted class index of each row, into `labels`. */
  yPred: ArrayLike<number>;
  /** Every class the model knows, by index. */
  labels: string[];
  /** Row-major rows × labels.length probabilities (optional). */
  probabilities?: ArrayLike<number> | null;
  /** Row-major rows × 2 scores for ROC AUC when there are no probabilities (e.g. logits). */
  scores?: ArrayLike<number> | null;
};

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export function classificationMetrics(input: ClassificationInput): ClassificationMetrics {
  const { yTrue, yPred, labels } = input;
  const n = yTrue.length;
  if (yPred.length !== n) throw new Error(`${n} true labels but ${yPred.length} predictions`);
  if (n === 0) throw new Error("No rows to evaluate");
  const C = labels.length;
  const matrix = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!(t >= 0 && t < C && p >= 0 && p < C)) {
      throw new Error(
        `Row ${i}: class index out of range (true ${t}, predicted ${p}, ${C} classes)`,
      );
    }
    matrix[t]![p]!++;
    if (t === p) correct++;
  }
  const perClass: ClassMetrics[] = labels.map((label, k) => {
    const tp = matrix[k]![k]!;
    const support = matrix[k]!.reduce((s, v) => s + v, 0);
    const predicted = matrix.reduce((s, row) => s + row[k]!, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    const f1 = ratio(2 * tp, support + predicted);
    return { label, precision, recall, f1, support, predicted };
  });
  const present = perClass.filter((c) => c.support > 0 || c.predicted > 0);
  const mean = (f: (c: ClassMetrics) => number) =>
    present.reduce((s, c) => s + f(c), 0) / present.length;

  let logLoss: number | null = null;
  const probs = input.probabilities ?? null;
  if (probs) {
    if (probs.length !== n * C) {
      throw new Error(`Probabilities hold ${probs.length} values; expected ${n} rows × ${C}`);
    }
    let total = 0;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let k = 0; k < C; k++) sum += probs[i * C + k]!;
      const p = sum > 0 ? probs[i * C + yTrue[i]!]! / sum : 0;
      total -= Math.log(Math.min(1, Math.max(p, 1e-15)));
    }
    logLoss = total / n;
  }

  let rocAuc: number | null = null;
  const scoreSource = probs ?? input.scores ?? null;
  if (C === 2 && scoreSource && scoreSource.length === n * 2) {
    const positive = new Float64Array(n);
    for (let i = 0; i < n; i++) positive[i] = scoreSource[i * 2 + 1]!;
    rocAuc = binaryRocAuc(yTrue, positive);
  }

  return {
    kind: "classification",
    rows: n,
    accuracy: correct / n,
    precisionMacro: mean((c) => c.precision),
    recallMacro: mean((c) => c.recall),
    f1Macro: mean((c) => c.f1),
    perClass,
    confusionMatrix: { labels: [...labels], matrix },
    logLoss,
    rocAuc,
  };
}

/**
 * Area under the ROC curve for labels 0/1 and the positive class's scores: the probability
 * that a random positive scores above a random negative (ties half). Null when one class is
 * absent (the curve is undefined).
 */
export function binaryRocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = yTrue.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  // Midranks (1-based) over tied scores.
  const ranks = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (yTrue[i] === 1) {
      positives++;
      rankSum += ranks[i]!;
    }
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function regressionMetrics(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
): RegressionMetrics {
  const n = yTrue.length;
  if (yPred.length !== n) throw new Error(`${n} targets but ${yPred.length} predictions`);
  if (n === 0) throw new Error("No rows to evaluate");
  let abs = 0;
  let sq = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = yPred[i]! - yTrue[i]!;
    abs += Math.abs(e);
    sq += e * e;
    sum += yTrue[i]!;
  }
  const meanTrue = sum / n;
  let total = 0;
  for (let i = 0; i < n; i++) total += (yTrue[i]! - meanTrue) ** 2;
  const mse = sq / n;
  const r2 = total === 0 ? (sq === 0 ? 1 : 0) : 1 - sq / total;
  return { kind: "regression", rows: n, mae: abs / n, mse, rmse: Math.sqrt(mse), r2 };
}

/** The p-th percentile (0…100) with linear interpolation, as numpy.percentile does. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const at = (p / 100) * (n - 1);
  const lo = Math.floor(at);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Metric names a gate can use, with the direction in which they improve. */
export const METRICS = {
  accuracy: { task: "classification", direction: "higher", label: "Accuracy" },
  f1Macro: { task: "classification", direction: "higher", label: "F1 (macro)" },
  precisionMacro: { task: "classification", direction: "higher", label: "Precision (macro)" },
  recallMacro: { task: "classification", direction: "higher", label: "Recall (macro)" },
  logLoss: { task: "classification", direction: "lower", label: "Log loss" },
  rocAuc: { task: "classification", direction: "higher", label: "ROC AUC" },
  mae: { task: "regression", direction: "lower", label: "MAE" },
  rmse: { task: "regression", direction: "lower", label: "RMSE" },
  mse: { task: "regression", direction: "lower", label: "MSE" },
  r2: { task: "regression", direction: "higher", label: "R²" },
} as const;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** A metric's value from recorded metrics (null when absent or not computed). */
export function metricValue(
  metrics: QualityMetrics | null | undefined,
  name: MetricName,
): number | null {
  if (!metrics) return null;
  const value = (metrics as Record<string, unknown>)[name];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}
