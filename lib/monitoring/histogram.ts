/**
 * The latency histogram of the rollups: log-spaced bucket bounds (each 25 % above the one
 * before, 0.05 ms … about 63 s), so a percentile read from the buckets is within the width
 * of one bucket (at most 25 %, typically a few % after interpolation) at any latency, and
 * histograms of minutes, versions or replicas merge by adding counts.
 *
 * Counts are arrays of LATENCY_BUCKET_COUNT numbers: element i counts latencies in
 * (bound[i-1], bound[i]]; the last element counts everything above the highest bound.
 */
export const LATENCY_BASE_MS = 0.05;
export const LATENCY_GROWTH = 1.25;
export const LATENCY_BOUNDS_MS: readonly number[] = Array.from(
  { length: 64 },
  (_, i) => LATENCY_BASE_MS * LATENCY_GROWTH ** i,
);
export const LATENCY_BUCKET_COUNT = LATENCY_BOUNDS_MS.length + 1;
const LOG_GROWTH = Math.log(LATENCY_GROWTH);

/** The bucket a latency falls in. */
export function latencyBucketOf(ms: number): number {
  if (!(ms > LATENCY_BASE_MS)) return 0; // also NaN and negatives: the lowest bucket
  let i = Math.ceil(Math.log(ms / LATENCY_BASE_MS) / LOG_GROWTH);
  // Floating-point log can land one off at an exact bound: settle against the bounds.
  if (i > 0 && ms <= LATENCY_BOUNDS_MS[i - 1]!) i--;
  else if (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]!) i++;
  return Math.min(i, LATENCY_BOUNDS_MS.length);
}

export function emptyCounts(): number[] {
  return new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
}

/** Adds `b` into `a` (element-wise; a shorter array counts as zeros) and returns `a`. */
export function addCounts(a: number[], b: ArrayLike<number | bigint>): number[] {
  for (let i = 0; i < b.length; i++) a[i] = (a[i] ?? 0) + Number(b[i] ?? 0);
  return a;
}

/**
 * The q-quantile (0 < q ≤ 1) of the latencies counted, interpolated geometrically within
 * its bucket (latencies spread evenly on a log scale inside a bucket). `maxMs`, when known
 * (the rollups keep each minute's slowest request), caps the estimate, so a p99 is never
 * reported above the slowest request and the open top bucket has an upper edge.
 * Null when nothing was counted.
 */
export function quantileOfCounts(
  counts: ArrayLike<number | bigint>,
  q: number,
  maxMs?: number | null,
): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += Number(counts[i] ?? 0);
  if (total === 0) return null;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = Number(counts[i] ?? 0);
    if (c === 0) continue;
    if (seen + c >= rank) {
      const lower = i === 0 ? LATENCY_BASE_MS / LATENCY_GROWTH : LATENCY_BOUNDS_MS[i - 1]!;
      let upper = i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i]! : lower * LATENCY_GROWTH;
      if (maxMs != null && maxMs > 0) upper = Math.min(upper, Math.max(maxMs, lower));
      const within = Math.min(Math.max((rank - seen) / c, 0), 1);
      const value = lower * (upper / lower) ** within;
      return maxMs != null && maxMs > 0 ? Math.min(value, maxMs) : value;
    }
    seen += c;
  }
  return maxMs ?? LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}
