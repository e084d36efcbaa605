/**
 * Drift statistics, pure and client-safe: reference distributions of features and the tests
 * that compare a window of served inputs with them. The database side (which reference,
 * which window, snapshots) is lib/monitoring/drift.ts.
 *
 * - Numeric features: the Population Stability Index over the reference's quantile bins
 *   (the statistic that decides "drifted"), plus the two-sample Kolmogorov–Smirnov statistic
 *   and its p-value, shown beside it (with large windows KS flags shifts too small to matter,
 *   which is why it does not decide on its own).
 * - Categorical features (boolean columns, integer columns with few distinct values): the
 *   chi-square test of homogeneity of the reference and current category counts.
 *
 * Values are compared as float32 on both sides: the dataset's binary form stores float32,
 * so a served 5.1 must fall in the same bin as the dataset's 5.1.
 *
 * lib/monitoring/fixtures/drift-reference.json holds reference values computed independently
 * with SciPy (drift-reference.py beside it says how); drift-stats.test.ts compares with them.
 */

/** Quantile bins of the reference for PSI (deciles); tied quantiles merge into one bin. */
export const PSI_BINS = 10;
/**
 * A bin that is empty on one side would make PSI infinite: proportions are clamped to at
 * least this (the usual 1e-4; not renormalised, so an empty bin adds a bounded amount).
 */
export const PSI_EPSILON = 1e-4;
/** PSI at or above this is drift (rule of thumb: < 0.1 stable, 0.1–0.2 moderate, ≥ 0.2 shifted). */
export const PSI_THRESHOLD = 0.2;
/** A categorical feature drifted when the chi-square p-value is below this. */
export const P_VALUE_THRESHOLD = 0.05;
/** Fewer current (or reference) values than this: "not enough data", never a score. */
export const MIN_SAMPLE_ROWS = 50;
/** The reference keeps at most this many sorted values per numeric feature for KS. */
export const REFERENCE_SAMPLE_MAX = 5_000;
/** Integer columns with at most this many distinct values are categorical. */
export const MAX_CATEGORIES = 20;
/** The exact KS p-value is computed when m·n is at most this; above, the asymptotic one. */
export const KS_EXACT_MAX_CELLS = 10_000_000;

export type FeatureKind = "numeric" | "categorical";

export type NumericReference = {
  feature: string;
  kind: "numeric";
  /** Values in the dataset (all of them went into the edges and proportions). */
  count: number;
  /** Inner bin edges, strictly increasing; bin i is (edges[i-1], edges[i]]. */
  edges: number[];
  /** Reference share of each of the edges.length + 1 bins. */
  proportions: number[];
  /** Sorted values (all, or an evenly spaced subsample of REFERENCE_SAMPLE_MAX) for KS. */
  sample: number[];
  min: number;
  max: number;
  mean: number;
};

export type CategoricalReference = {
  feature: string;
  kind: "categorical";
  count: number;
  /** Each category (the feature's numeric value) and how often the dataset has it. */
  categories: { value: number; count: number }[];
};

export type FeatureReference = NumericReference | CategoricalReference;

export type FeatureDriftStatus = "ok" | "drifted" | "insufficient_data";

export type FeatureDrift = {
  feature: string;
  kind: FeatureKind;
  /** The statistic that decides: PSI (drifted when ≥ threshold) or the chi-square p-value (drifted when < threshold). */
  statistic: "psi" | "chi_square";
  status: FeatureDriftStatus;
  /** PSI, or the chi-square p-value; null when there is not enough data. */
  score: number | null;
  threshold: number;
  referenceRows: number;
  currentRows: number;
  psi: number | null;
  ks: { statistic: number; pValue: number; method: "exact" | "asymptotic" } | null;
  chiSquare: { statistic: number; dof: number; pValue: number } | null;
  /** Mean of the current window (numeric), next to the reference mean, for people. */
  currentMean: number | null;
  referenceMean: number | null;
};

export type DriftSummary = {
  /**
   * The model's drift score: the share of features (among those with enough data) that
   * drifted, 0…1. Null when no feature had enough data. What alert rules compare.
   */
  score: number | null;
  driftedFeatures: number;
  measuredFeatures: number;
  featureCount: number;
};

// ---------------------------------------------------------------------------------------
// Reference distributions
// ---------------------------------------------------------------------------------------

/** Boolean columns and integer columns with few distinct values are categorical. */
export function featureKindOf(column: {
  type: string;
  values?: readonly unknown[] | undefined;
}): FeatureKind {
  if (column.type === "boolean") return "categorical";
  if (column.type === "integer" && column.values && column.values.length <= MAX_CATEGORIES) {
    return "categorical";
  }
  return "numeric";
}

const f32 = Math.fround;

/** Linear-interpolation quantile of sorted values (Hyndman–Fan type 7, NumPy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Inner edges of `bins` quantile bins, duplicates (ties) removed. */
export function quantileEdges(sorted: ArrayLike<number>, bins = PSI_BINS): number[] {
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = quantileSorted(sorted, k / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
  }
  return edges;
}

/** Index of the bin (edges[i-1], edges[i]] holding x: how many edges are below x. */
export function binIndex(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function binProportions(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) counts[binIndex(edges, values[i]!)]!++;
  return values.length === 0 ? counts : counts.map((c) => c / values.length);
}

function sortedFloat32(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32(values[i]!);
  return out.sort();
}

/** The reference of one feature from all of its dataset values. */
export function buildFeatureReference(
  feature: string,
  kind: FeatureKind,
  values: ArrayLike<number>,
): FeatureReference {
  const sorted = sortedFloat32(values);
  const n = sorted.length;
  if (kind === "categorical") {
    const counts = new Map<number, number>();
    for (const v of sorted) counts.set(v, (counts.get(v) ?? 0) + 1);
    return {
      feature,
      kind,
      count: n,
      categories: [...counts].map(([value, count]) => ({ value, count })),
    };
  }
  const edges = quantileEdges(sorted);
  let sample: number[];
  if (n <= REFERENCE_SAMPLE_MAX) sample = Array.from(sorted);
  else {
    // Evenly spaced order statistics: the sample's ECDF stays within 1/REFERENCE_SAMPLE_MAX
    // of the whole dataset's.
    sample = new Array<number>(REFERENCE_SAMPLE_MAX);
    for (let k = 0; k < REFERENCE_SAMPLE_MAX; k++) {
      sample[k] = sorted[Math.round((k * (n - 1)) / (REFERENCE_SAMPLE_MAX - 1))]!;
    }
  }
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    feature,
    kind,
    count: n,
    edges,
    proportions: binProportions(sorted, edges),
    sample,
    min: n ? sorted[0]! : NaN,
    max: n ? sorted[n - 1]! : NaN,
    mean: n ? sum / n : NaN,
  };
}

// ---------------------------------------------------------------------------------------
// PSI
// ---------------------------------------------------------------------------------------

/** PSI = Σ (c − r)·ln(c / r) over bins, each proportion clamped to at least `epsilon`. */
export function populationStabilityIndex(
  reference: readonly number[],
  current: readonly number[],
  epsilon = PSI_EPSILON,
): number {
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i]!, epsilon);
    const c = Math.max(current[i] ?? 0, epsilon);
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

// ---------------------------------------------------------------------------------------
// Two-sample Kolmogorov–Smirnov
// ---------------------------------------------------------------------------------------

/**
 * The KS statistic D = sup |F_a − F_b| of two sorted samples, also as the integer
 * D·m·n (exact, so the p-value's lattice boundary is not blurred by rounding).
 */
export function ksStatistic(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { statistic: number; scaled: number } {
  const m = a.length;
  const n = b.length;
  let i = 0;
  let j = 0;
  let best = 0;
  while (i < m || j < n) {
    // Step past every copy of the next smallest value on both sides (ties move together).
    const v = j >= n || (i < m && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < m && a[i]! <= v) i++;
    while (j < n && b[j]! <= v) j++;
    const d = Math.abs(i * n - j * m);
    if (d > best) best = d;
  }
  return { statistic: m && n ? best / (m * n) : 0, scaled: best };
}

/**
 * P(D ≥ d) under the null for sample sizes m, n, with d·m·n = `scaled`: one minus the share
 * of lattice paths from (0,0) to (m,n) that stay strictly inside |i·n − j·m| < scaled (the
 * same quantity as SciPy's `ks_2samp(method="exact")`). The path walk is done in
 * probabilities (each step's chance given the steps left), which never overflows.
 */
export function ksExactPValue(m: number, n: number, scaled: number): number {
  if (scaled <= 0) return 1;
  let prev = new Float64Array(n + 1);
  let cur = new Float64Array(n + 1);
  let prevLo = 0;
  let prevHi = -1;
  let curLo = 0;
  let curHi = -1;
  for (let i = 0; i <= m; i++) {
    const lo = Math.max(0, Math.floor((i * n - scaled) / m) + 1);
    const hi = Math.min(n, Math.ceil((i * n + scaled) / m) - 1);
    if (curHi >= curLo) cur.fill(0, curLo, curHi + 1);
    for (let j = lo; j <= hi; j++) {
      let p: number;
      if (i === 0 && j === 0) p = 1;
      else {
        const left = m + n - i - j + 1;
        p = 0;
        if (i > 0 && j >= prevLo && j <= prevHi) p += (prev[j]! * (m - i + 1)) / left;
        if (j > lo) p += (cur[j - 1]! * (n - j + 1)) / left;
      }
      cur[j] = p;
    }
    curLo = lo;
    curHi = hi;
    [prev, cur] = [cur, prev];
    [prevLo, prevHi, curLo, curHi] = [curLo, curHi, prevLo, prevHi];
  }
  const inside = prevHi >= n && prevLo <= n ? prev[n]! : 0;
  return Math.min(1, Math.max(0, 1 - inside));
}

/** Survival function of the Kolmogorov distribution (SciPy's `kstwobign.sf`). */
export function kolmogorovSf(x: number): number {
  if (!(x > 0)) return 1;
  if (x < 1.18) {
    // The theta-function form converges fast for small x; the alternating series does not.
    const t = -(Math.PI * Math.PI) / (8 * x * x);
    let s = 0;
    for (let k = 1; k <= 20; k++) s += Math.exp((2 * k - 1) * (2 * k - 1) * t);
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / x) * s));
  }
  let s = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    s += k % 2 === 1 ? term : -term;
    if (term < 1e-17) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}

/** Two-sided two-sample KS test of sorted samples: exact when m·n is small enough. */
export function ksTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { statistic: number; pValue: number; method: "exact" | "asymptotic" } {
  const m = a.length;
  const n = b.length;
  const { statistic, scaled } = ksStatistic(a, b);
  if (m * n <= KS_EXACT_MAX_CELLS) {
    return { statistic, pValue: ksExactPValue(m, n, scaled), method: "exact" };
  }
  return {
    statistic,
    pValue: kolmogorovSf(Math.sqrt((m * n) / (m + n)) * statistic),
    method: "asymptotic",
  };
}

// ---------------------------------------------------------------------------------------
// Chi-square
// ---------------------------------------------------------------------------------------

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7: about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised upper incomplete gamma Q(a, x) (series below a + 1, continued fraction above). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * Math.exp(lnPrefix)));
  }
  // Modified Lentz for the continued fraction of Q.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.max(0, Math.exp(lnPrefix) * h));
}

/** P(X ≥ x) for X ~ χ²(dof). */
export function chiSquareSf(x: number, dof: number): number {
  return gammaQ(dof / 2, x / 2);
}

/**
 * Chi-square test of homogeneity of two count vectors over the same categories (a 2×k
 * contingency table, no continuity correction: SciPy's `chi2_contingency(correction=False)`).
 * Categories empty on both sides are dropped; one category left means nothing to compare.
 */
export function chiSquareHomogeneity(
  reference: readonly number[],
  current: readonly number[],
): { statistic: number; dof: number; pValue: number } {
  const cols: [number, number][] = [];
  for (let i = 0; i < Math.max(reference.length, current.length); i++) {
    const r = reference[i] ?? 0;
    const c = current[i] ?? 0;
    if (r + c > 0) cols.push([r, c]);
  }
  const R = cols.reduce((s, [r]) => s + r, 0);
  const C = cols.reduce((s, [, c]) => s + c, 0);
  const N = R + C;
  const dof = cols.length - 1;
  if (dof < 1 || R === 0 || C === 0) return { statistic: 0, dof: Math.max(dof, 0), pValue: 1 };
  let statistic = 0;
  for (const [r, c] of cols) {
    const total = r + c;
    const er = (R * total) / N;
    const ec = (C * total) / N;
    statistic += ((r - er) * (r - er)) / er + ((c - ec) * (c - ec)) / ec;
  }
  return { statistic, dof, pValue: chiSquareSf(statistic, dof) };
}

// ---------------------------------------------------------------------------------------
// One feature, and the model
// ---------------------------------------------------------------------------------------

/** Compares a feature's current values with its reference. */
export function compareFeature(
  reference: FeatureReference,
  currentValues: ArrayLike<number>,
  minRows = MIN_SAMPLE_ROWS,
): FeatureDrift {
  const current = sortedFloat32(currentValues);
  const base = {
    feature: reference.feature,
    kind: reference.kind,
    referenceRows: reference.count,
    currentRows: current.length,
  };
  const enough = current.length >= minRows && reference.count >= minRows;
  if (reference.kind === "categorical") {
    const index = new Map(reference.categories.map((c, i) => [c.value, i]));
    const refCounts = reference.categories.map((c) => c.count);
    const curCounts = new Array<number>(refCounts.length).fill(0);
    for (const v of current) {
      let i = index.get(v);
      if (i === undefined) {
        // A category the reference never had: its own column (reference count 0).
        i = refCounts.length;
        index.set(v, i);
        refCounts.push(0);
        curCounts.push(0);
      }
      curCounts[i]!++;
    }
    const chi = enough ? chiSquareHomogeneity(refCounts, curCounts) : null;
    return {
      ...base,
      statistic: "chi_square",
      threshold: P_VALUE_THRESHOLD,
      status: chi ? (chi.pValue < P_VALUE_THRESHOLD ? "drifted" : "ok") : "insufficient_data",
      score: chi ? chi.pValue : null,
      psi: null,
      ks: null,
      chiSquare: chi,
      currentMean: null,
      referenceMean: null,
    };
  }
  if (!enough) {
    return {
      ...base,
      statistic: "psi",
      threshold: PSI_THRESHOLD,
      status: "insufficient_data",
      score: null,
      psi: null,
      ks: null,
      chiSquare: null,
      currentMean: null,
      referenceMean: reference.mean,
    };
  }
  const psi = populationStabilityIndex(
    reference.proportions,
    binProportions(current, reference.edges),
  );
  let sum = 0;
  for (const v of current) sum += v;
  return {
    ...base,
    statistic: "psi",
    threshold: PSI_THRESHOLD,
    status: psi >= PSI_THRESHOLD ? "drifted" : "ok",
    score: psi,
    psi,
    ks: ksTest(reference.sample, current),
    chiSquare: null,
    currentMean: sum / current.length,
    referenceMean: reference.mean,
  };
}

export function summarizeDrift(features: readonly FeatureDrift[]): DriftSummary {
  const measured = features.filter((f) => f.status !== "insufficient_data");
  const drifted = measured.filter((f) => f.status === "drifted").length;
  return {
    score: measured.length ? drifted / measured.length : null,
    driftedFeatures: drifted,
    measuredFeatures: measured.length,
    featureCount: features.length,
  };
}
