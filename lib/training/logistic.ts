/**
 * Multinomial logistic regression (softmax regression) trained by mini-batch gradient descent,
 * in plain TypeScript: small tabular models for the demo and for "retrain" jobs, without native
 * dependencies.
 *
 * Features are standardised (zero mean, unit variance) for training, which lets one learning
 * rate suit every column; the standardisation is then folded into the returned weights, so the
 * exported model takes raw feature values and needs no preprocessing step:
 *   z = (x − μ) / σ,  logits = z·V + c  =  x·(V / σ) + (c − Σ_f μ_f V_f / σ_f).
 * Deterministic: the same data, options and seed give the same weights.
 */
import { seededRandom, shuffleInPlace } from "./random";

export interface LogisticTrainingOptions {
  /** Number of classes; default: the largest label + 1. */
  classes?: number;
  /** Passes over the data (default 200). */
  epochs?: number;
  /** Step size on standardised features (default 0.1). */
  learningRate?: number;
  /** Rows per gradient step (default 16). */
  batchSize?: number;
  /** L2 penalty on the weights, not the biases (default 1e-4). */
  l2?: number;
  /** Seed for the order rows are visited in (default 42). */
  seed?: number;
  /** Called after each epoch (1-based): progress for long trainings. */
  onEpoch?: (epoch: number, epochs: number) => void;
}

export interface LogisticRegressionWeights {
  /** weights[f][c]: weight of feature f for class c, on raw (unstandardised) features. */
  weights: number[][];
  /** bias[c]. */
  bias: number[];
}

export interface LogisticTrainingResult extends LogisticRegressionWeights {
  featureCount: number;
  classCount: number;
  /** The standardisation folded into the weights: per-feature mean and standard deviation. */
  mean: number[];
  std: number[];
  /** Share of training rows the final model classifies correctly, 0…1. */
  trainAccuracy: number;
  /** Mean cross-entropy on the training rows at the end (without the L2 term). */
  trainLoss: number;
  epochs: number;
}

/**
 * Trains on `x` (rows of feature values) and `y` (class index per row, 0…classes−1).
 * Throws on empty, ragged or non-finite input and on labels out of range.
 */
export function trainLogisticRegression(
  x: readonly (readonly number[])[],
  y: readonly number[],
  opts: LogisticTrainingOptions = {},
): LogisticTrainingResult {
  const n = x.length;
  if (n === 0) throw new Error("No training rows");
  if (y.length !== n) throw new Error(`${n} rows but ${y.length} labels`);
  const F = x[0]!.length;
  if (F === 0) throw new Error("Rows have no features");
  const C = opts.classes ?? Math.max(...y) + 1;
  if (C < 2) throw new Error("Need at least two classes");
  x.forEach((row, i) => {
    if (row.length !== F) throw new Error(`Row ${i} has ${row.length} features, not ${F}`);
    if (!row.every(Number.isFinite)) throw new Error(`Row ${i} has a missing or infinite value`);
  });
  y.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= C) {
      throw new Error(`Label ${label} of row ${i} is not a class index 0…${C - 1}`);
    }
  });
  const epochs = opts.epochs ?? 200;
  const rate = opts.learningRate ?? 0.1;
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 16, n));
  const l2 = opts.l2 ?? 1e-4;

  const { mean, std } = standardisation(x);
  const z = x.map((row) => row.map((v, f) => (v - mean[f]!) / std[f]!));

  // Zero start: softmax regression is convex, so this costs nothing and needs no randomness.
  const V = Array.from({ length: F }, () => new Array<number>(C).fill(0));
  const c = new Array<number>(C).fill(0);
  const gradV = Array.from({ length: F }, () => new Array<number>(C).fill(0));
  const gradC = new Array<number>(C).fill(0);
  const probs = new Array<number>(C).fill(0);
  const order = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(opts.seed ?? 42);

  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, random);
    for (let start = 0; start < n; start += batchSize) {
      const batch = order.slice(start, start + batchSize);
      for (const g of gradV) g.fill(0);
      gradC.fill(0);
      for (const i of batch) {
        const row = z[i]!;
        softmaxInto(probs, row, V, c);
        // d(cross-entropy)/d(logit_k) = p_k − [k = y]
        for (let k = 0; k < C; k++) {
          const d = probs[k]! - (k === y[i] ? 1 : 0);
          gradC[k]! += d;
          for (let f = 0; f < F; f++) gradV[f]![k]! += d * row[f]!;
        }
      }
      const scale = rate / batch.length;
      for (let f = 0; f < F; f++) {
        for (let k = 0; k < C; k++) {
          V[f]![k]! -= scale * gradV[f]![k]! + rate * l2 * V[f]![k]!;
        }
      }
      for (let k = 0; k < C; k++) c[k]! -= scale * gradC[k]!;
    }
    opts.onEpoch?.(epoch + 1, epochs);
  }

  const weights = V.map((row, f) => row.map((v) => v / std[f]!));
  const bias = c.map(
    (ck, k) => ck - V.reduce((s, row, f) => s + (mean[f]! * row[k]!) / std[f]!, 0),
  );
  const model = { weights, bias };

  let correct = 0;
  let loss = 0;
  x.forEach((row, i) => {
    const p = predictProbabilities(model, row);
    if (argmax(p) === y[i]) correct++;
    loss -= Math.log(Math.max(p[y[i]!]!, 1e-300));
  });
  return {
    ...model,
    featureCount: F,
    classCount: C,
    mean,
    std,
    trainAccuracy: correct / n,
    trainLoss: loss / n,
    epochs,
  };
}

/** Class probabilities for one row of raw feature values. */
export function predictProbabilities(model: LogisticRegressionWeights, row: readonly number[]) {
  const probs = new Array<number>(model.bias.length).fill(0);
  softmaxInto(probs, row, model.weights, model.bias);
  return probs;
}

/** The most probable class for each row. */
export function predictClasses(
  model: LogisticRegressionWeights,
  rows: readonly (readonly number[])[],
): number[] {
  return rows.map((row) => argmax(predictProbabilities(model, row)));
}

/** Share of rows whose predicted class equals the label, 0…1. */
export function accuracy(
  model: LogisticRegressionWeights,
  rows: readonly (readonly number[])[],
  labels: readonly number[],
): number {
  if (rows.length === 0) return 0;
  const predicted = predictClasses(model, rows);
  return predicted.filter((p, i) => p === labels[i]).length / rows.length;
}

function standardisation(x: readonly (readonly number[])[]) {
  const n = x.length;
  const F = x[0]!.length;
  const mean = new Array<number>(F).fill(0);
  const std = new Array<number>(F).fill(0);
  for (const row of x) row.forEach((v, f) => (mean[f]! += v / n));
  for (const row of x) row.forEach((v, f) => (std[f]! += (v - mean[f]!) ** 2 / n));
  // A constant column carries no information; σ = 1 keeps it from dividing by zero.
  return { mean, std: std.map((v) => (v > 1e-12 ? Math.sqrt(v) : 1)) };
}

/** probs ← softmax(row·W + b), computed stably (the largest logit is subtracted first). */
function softmaxInto(
  probs: number[],
  row: readonly number[],
  W: readonly (readonly number[])[],
  b: readonly number[],
): void {
  const C = b.length;
  let max = -Infinity;
  for (let k = 0; k < C; k++) {
    let s = b[k]!;
    for (let f = 0; f < row.length; f++) s += row[f]! * W[f]![k]!;
    probs[k] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let k = 0; k < C; k++) {
    const e = Math.exp(probs[k]! - max);
    probs[k] = e;
    sum += e;
  }
  for (let k = 0; k < C; k++) probs[k]! /= sum;
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k]! > values[best]!) best = k;
  return best;
}
