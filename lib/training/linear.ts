/**
 * Linear regression with an L2 penalty (ridge regression), solved exactly in plain TypeScript:
 * small tabular regressors for "retrain" jobs, without native dependencies.
 *
 * Features are standardised (z = (x − μ) / σ) and the target centred, then the normal
 * equations of
 *   minimise  (1/n) Σ_i (y_i − ȳ − z_i·β)²  +  l2 · ‖β‖²
 * are solved by a Cholesky factorisation:  (ZᵀZ / n + l2·I) β = Zᵀ(y − ȳ) / n.
 * The intercept is not penalised. Standardising first makes one `l2` mean the same for every
 * column whatever its unit; the standardisation is folded back into the returned weights, so
 * the exported model takes raw feature values:
 *   y = x·(β / σ) + (ȳ − Σ_f μ_f β_f / σ_f).
 * Closed form, no randomness: the same data and options always give the same weights.
 */

export interface LinearTrainingOptions {
  /** L2 penalty on the standardised weights, not the intercept (default 1e-4; 0 = least squares). */
  l2?: number;
}

export interface LinearRegressionWeights {
  /** weights[f]: weight of feature f on raw (unstandardised) features. */
  weights: number[];
  bias: number;
}

export interface LinearTrainingResult extends LinearRegressionWeights {
  featureCount: number;
  /** The standardisation folded into the weights: per-feature mean and standard deviation. */
  mean: number[];
  std: number[];
  l2: number;
  /** On the training rows. */
  trainRmse: number;
  trainMae: number;
  /** 1 − SS_res / SS_tot; null when the target is constant. */
  trainR2: number | null;
}

/**
 * Trains on `x` (rows of feature values) and `y` (one numeric target per row). Throws on empty,
 * ragged or non-finite input, and when the features are exactly collinear with `l2` = 0.
 */
export function trainLinearRegression(
  x: readonly (readonly number[])[],
  y: readonly number[],
  opts: LinearTrainingOptions = {},
): LinearTrainingResult {
  const n = x.length;
  if (n === 0) throw new Error("No training rows");
  if (y.length !== n) throw new Error(`${n} rows but ${y.length} targets`);
  const F = x[0]!.length;
  if (F === 0) throw new Error("Rows have no features");
  x.forEach((row, i) => {
    if (row.length !== F) throw new Error(`Row ${i} has ${row.length} features, not ${F}`);
    if (!row.every(Number.isFinite)) throw new Error(`Row ${i} has a missing or infinite value`);
  });
  y.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new Error(`The target of row ${i} is not a finite number`);
  });
  const l2 = opts.l2 ?? 1e-4;
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new Error("l2 must be a finite number ≥ 0");

  const mean = new Array<number>(F).fill(0);
  const variance = new Array<number>(F).fill(0);
  for (const row of x) row.forEach((v, f) => (mean[f]! += v / n));
  for (const row of x) row.forEach((v, f) => (variance[f]! += (v - mean[f]!) ** 2 / n));
  // A constant column carries no information: it gets weight 0 (σ = 1 avoids dividing by 0).
  const constant = variance.map((v) => v <= 1e-12);
  const std = variance.map((v, f) => (constant[f] ? 1 : Math.sqrt(v)));
  const yMean = y.reduce((s, v) => s + v, 0) / n;

  // A = ZᵀZ / n + l2·I and r = Zᵀ(y − ȳ) / n, over the non-constant columns only.
  const used = Array.from({ length: F }, (_, f) => f).filter((f) => !constant[f]);
  const k = used.length;
  const A = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const r = new Array<number>(k).fill(0);
  const z = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    const row = x[i]!;
    for (let a = 0; a < k; a++) z[a] = (row[used[a]!]! - mean[used[a]!]!) / std[used[a]!]!;
    const t = y[i]! - yMean;
    for (let a = 0; a < k; a++) {
      r[a]! += (z[a]! * t) / n;
      for (let b = 0; b <= a; b++) A[a]![b]! += (z[a]! * z[b]!) / n;
    }
  }
  for (let a = 0; a < k; a++) {
    A[a]![a]! += l2;
    for (let b = 0; b < a; b++) A[b]![a] = A[a]![b]!;
  }
  const solved = k === 0 ? [] : choleskySolve(A, r);

  const beta = new Array<number>(F).fill(0);
  used.forEach((f, a) => (beta[f] = solved[a]!));
  const weights = beta.map((b, f) => b / std[f]!);
  const bias = yMean - beta.reduce((s, b, f) => s + (mean[f]! * b) / std[f]!, 0);

  let ssRes = 0;
  let absSum = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i]! - predictValue({ weights, bias }, x[i]!);
    ssRes += e * e;
    absSum += Math.abs(e);
    ssTot += (y[i]! - yMean) ** 2;
  }
  return {
    weights,
    bias,
    featureCount: F,
    mean,
    std,
    l2,
    trainRmse: Math.sqrt(ssRes / n),
    trainMae: absSum / n,
    trainR2: ssTot > 0 ? 1 - ssRes / ssTot : null,
  };
}

/** The predicted value for one row of raw feature values. */
export function predictValue(model: LinearRegressionWeights, row: readonly number[]): number {
  let s = model.bias;
  for (let f = 0; f < row.length; f++) s += row[f]! * model.weights[f]!;
  return s;
}

/**
 * Solves A·x = b for a symmetric positive-definite A by Cholesky (A = L·Lᵀ), then forward and
 * back substitution. Throws when A is not positive definite (collinear features without L2).
 */
export function choleskySolve(A: readonly (readonly number[])[], b: readonly number[]): number[] {
  const k = A.length;
  const L = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const scale = Math.max(...A.map((row, i) => Math.abs(row[i]!)), 1e-300);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i]![j]!;
      for (let m = 0; m < j; m++) s -= L[i]![m]! * L[j]![m]!;
      if (i === j) {
        if (!(s > 1e-12 * scale)) {
          throw new Error(
            "The features are collinear (one is a combination of others); train with l2 > 0",
          );
        }
        L[i]![i] = Math.sqrt(s);
      } else L[i]![j] = s / L[j]![j]!;
    }
  }
  const w = new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let m = 0; m < i; m++) s -= L[i]![m]! * w[m]!;
    w[i] = s / L[i]![i]!;
  }
  const out = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    let s = w[i]!;
    for (let m = i + 1; m < k; m++) s -= L[m]![i]! * out[m]!;
    out[i] = s / L[i]![i]!;
  }
  return out;
}
