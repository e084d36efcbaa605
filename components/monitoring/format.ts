import { seriesColor } from "@/components/charts/palette";

/**
 * Units and colours of the monitoring charts, shared by the model page and the Monitoring
 * page. A version keeps its colour everywhere (by its number, not its place in a list), so
 * v3 is the same colour in every chart, range and page.
 */
export const versionColor = (version: number): string => seriesColor(version - 1);
export const versionKey = (version: number): string => `v${version}`;

const trim = (text: string) => text.replace(/\.0+$/, "").replace(/(\.\d*?)0+$/, "$1");

/** Two significant digits below 10, whole numbers above. */
function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 100) return Math.round(value).toLocaleString("en-US");
  if (abs >= 10) return trim(value.toFixed(1));
  if (abs >= 0.01) return trim(value.toFixed(2));
  return value.toPrecision(1);
}

export const formatRate = (reqPerSec: number | null | undefined): string =>
  reqPerSec === null || reqPerSec === undefined ? "—" : `${compact(reqPerSec)} req/s`;

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms >= 1000) return `${trim((ms / 1000).toFixed(ms >= 10_000 ? 1 : 2))} s`;
  return `${compact(ms)} ms`;
}

/** A fraction as a percentage: 0.0123 → "1.23 %", 0 → "0 %". */
export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined) return "—";
  const pct = fraction * 100;
  if (pct === 0) return "0 %";
  if (Math.abs(pct) < 0.1) return `${pct.toPrecision(1)} %`;
  return `${trim(pct.toFixed(digits))} %`;
}

export const formatCount = (n: number | null | undefined): string =>
  n === null || n === undefined ? "—" : n.toLocaleString("en-US");

/** A share of requests with their count: "6.45 % (31)"; "—" without requests. */
export function formatShareOf(
  count: number | null | undefined,
  requests: number | null | undefined,
) {
  if (count === null || count === undefined || !requests) return "—";
  return `${formatPercent(count / requests, 2)} (${formatCount(count)})`;
}

export function formatMetricValue(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return "—";
  return trim(value.toFixed(digits));
}
