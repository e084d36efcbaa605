/**
 * Time steps of the metrics series (GET /api/v1/models/{name}/metrics). Client-safe (no Node
 * APIs): the charts' time-range picker uses the same ladder to know what it will get.
 *
 * Buckets are aligned to multiples of the step since the Unix epoch (UTC), so the same
 * range always yields the same buckets, whoever asks.
 */

/** Rollups are per minute: a step is a whole number of minutes. */
export const MIN_STEP_SECONDS = 60;
/** The coarsest step asked for explicitly. */
export const MAX_STEP_SECONDS = 31 * 86_400;
/** The automatic step is the finest of these that gives at most TARGET_POINTS buckets. */
export const STEP_LADDER_SECONDS: readonly number[] = [
  60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 604_800,
];
/** About one bucket per two pixels of a wide chart: enough detail, bounded payload. */
export const TARGET_POINTS = 360;
/** A step given explicitly may yield at most this many buckets per version. */
export const MAX_POINTS = 2000;
/** The longest range one request may cover (rollups are kept about this long by default). */
export const MAX_RANGE_DAYS = 400;
/** Range when `from` is not given: the 24 hours before `to`. */
export const DEFAULT_RANGE_MS = 24 * 3600_000;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

export const STEP_PATTERN = /^(\d{1,9})([smhd]?)$/;

/** "5m" → 300, "3600" → 3600 (bare numbers are seconds); null when not of that form. */
export function parseStepSeconds(text: string): number | null {
  const m = STEP_PATTERN.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_SECONDS[(m[2] || "s") as keyof typeof UNIT_SECONDS];
}

/** 300 → "5m", 86400 → "1d". */
export function formatStep(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Buckets of `stepSeconds` that [fromMs, toMs) touches (aligned to the epoch). */
export function bucketCount(fromMs: number, toMs: number, stepSeconds: number): number {
  const step = stepSeconds * 1000;
  return Math.max(0, Math.ceil(toMs / step) - Math.floor(fromMs / step));
}

/** The finest ladder step giving at most TARGET_POINTS buckets over the range. */
export function autoStepSeconds(fromMs: number, toMs: number): number {
  for (const s of STEP_LADDER_SECONDS) if (bucketCount(fromMs, toMs, s) <= TARGET_POINTS) return s;
  return STEP_LADDER_SECONDS[STEP_LADDER_SECONDS.length - 1]!;
}

/** What is wrong with an explicit step for the range, or null when it is fine. */
export function stepProblem(stepSeconds: number, fromMs: number, toMs: number): string | null {
  if (stepSeconds < MIN_STEP_SECONDS || stepSeconds > MAX_STEP_SECONDS) {
    return `must be between 1m and ${MAX_STEP_SECONDS / 86_400}d`;
  }
  if (stepSeconds % MIN_STEP_SECONDS !== 0) {
    return "must be a whole number of minutes (rollups are per minute)";
  }
  const n = bucketCount(fromMs, toMs, stepSeconds);
  if (n > MAX_POINTS) {
    return `gives ${n} points over this range; at most ${MAX_POINTS} (use a coarser step or omit it)`;
  }
  return null;
}
