/**
 * The monitoring time range and version selection as URL search params (shareable, like
 * Grafana's `from`/`to`): `range=1h|24h|7d|30d` (default 24h), or `range=custom` with `from`
 * and `to` (ISO 8601, UTC); `versions=2,3` limits the versions drawn. Client-safe.
 */

export const RANGE_PRESETS = [
  { key: "1h", label: "1 h", title: "Last hour", ms: 3_600_000 },
  { key: "24h", label: "24 h", title: "Last 24 hours", ms: 86_400_000 },
  { key: "7d", label: "7 d", title: "Last 7 days", ms: 7 * 86_400_000 },
  { key: "30d", label: "30 d", title: "Last 30 days", ms: 30 * 86_400_000 },
] as const;
export type RangePresetKey = (typeof RANGE_PRESETS)[number]["key"];
export const DEFAULT_RANGE: RangePresetKey = "24h";
/** The longest custom range (the metrics API's limit, lib/monitoring/steps.ts MAX_RANGE_DAYS). */
export const MAX_CUSTOM_RANGE_DAYS = 400;

export type TimeRange =
  { kind: "preset"; key: RangePresetKey } | { kind: "custom"; fromMs: number; toMs: number };

type Params = { get(name: string): string | null };

/** Parses `range`, `from`, `to`; anything unreadable falls back to the default preset. */
export function parseTimeRange(params: Params): TimeRange {
  const range = params.get("range");
  if (range === "custom") {
    const from = parseInstant(params.get("from"));
    const to = parseInstant(params.get("to"));
    if (from !== null && to !== null && customRangeProblem(from, to) === null) {
      return { kind: "custom", fromMs: from, toMs: to };
    }
  }
  const preset = RANGE_PRESETS.find((p) => p.key === range);
  return { kind: "preset", key: preset?.key ?? DEFAULT_RANGE };
}

/** A preset is relative to `now`; a custom range is fixed. */
export function resolveTimeRange(
  range: TimeRange,
  now = Date.now(),
): { fromMs: number; toMs: number } {
  if (range.kind === "custom") return { fromMs: range.fromMs, toMs: range.toMs };
  const preset = RANGE_PRESETS.find((p) => p.key === range.key)!;
  return { fromMs: now - preset.ms, toMs: now };
}

export function describeTimeRange(range: TimeRange): string {
  if (range.kind === "preset") return RANGE_PRESETS.find((p) => p.key === range.key)!.title;
  return `${formatUtcInput(range.fromMs).replace("T", " ")} – ${formatUtcInput(range.toMs).replace("T", " ")} UTC`;
}

/** Why a custom range is not acceptable, or null. */
export function customRangeProblem(fromMs: number, toMs: number): string | null {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return "Enter both times.";
  if (toMs <= fromMs) return "“To” must be after “From”.";
  if (toMs - fromMs < 60_000) return "The range must be at least one minute.";
  if (toMs - fromMs > MAX_CUSTOM_RANGE_DAYS * 86_400_000) {
    return `The range can be at most ${MAX_CUSTOM_RANGE_DAYS} days.`;
  }
  return null;
}

/** ISO 8601 with a zone, or the `datetime-local` form (read as UTC); null otherwise. */
export function parseInstant(text: string | null | undefined): number | null {
  if (!text) return null;
  const trimmed = text.trim();
  const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(trimmed);
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(
    trimmed,
  );
  if (!local && !zoned) return null;
  const ms = Date.parse(local ? `${trimmed}Z` : trimmed);
  return Number.isFinite(ms) ? ms : null;
}

/** `2026-12-01T10:05` (UTC) for a `datetime-local` input. */
export function formatUtcInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** The selected versions (`versions=2,3`), or null for "all". */
export function parseVersions(params: Params): number[] | null {
  const text = params.get("versions");
  if (!text) return null;
  const versions = text
    .split(",")
    .map((v) => Number(v.trim()))
    .filter((v) => Number.isInteger(v) && v > 0);
  return versions.length > 0 ? [...new Set(versions)].sort((a, b) => a - b) : null;
}

/** New search params with the range set (other params kept). */
export function withTimeRange(params: URLSearchParams, range: TimeRange): URLSearchParams {
  const next = new URLSearchParams(params);
  next.delete("from");
  next.delete("to");
  if (range.kind === "custom") {
    next.set("range", "custom");
    next.set("from", new Date(range.fromMs).toISOString().replace(".000Z", "Z"));
    next.set("to", new Date(range.toMs).toISOString().replace(".000Z", "Z"));
  } else if (range.key === DEFAULT_RANGE) {
    next.delete("range");
  } else {
    next.set("range", range.key);
  }
  return next;
}

/** New search params with the version selection set (null: all). */
export function withVersions(params: URLSearchParams, versions: number[] | null): URLSearchParams {
  const next = new URLSearchParams(params);
  if (versions === null) next.delete("versions");
  else next.set("versions", [...versions].sort((a, b) => a - b).join(","));
  return next;
}
