import { formatDateTime } from "@/lib/format";

/**
 * A time x-axis for charts: a domain padded so that edge points are not drawn on the axis
 * (and a lone point sits in the middle), and tick labels as precise as the span needs. UTC,
 * like every timestamp in the UI (lib/format.ts).
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export function timeDomain(times: number[]): [number, number] {
  if (times.length === 0) return [0, 1];
  const min = Math.min(...times);
  const max = Math.max(...times);
  const pad = Math.max((max - min) * 0.05, MINUTE);
  return [min - pad, max + pad];
}

/** "10:05:30" within 10 minutes, "10:05" within two days, "12-01 10:05" within 60 days, else "2026-12-01". */
export function timeTickFormatter(domain: [number, number]): (time: number) => string {
  const span = domain[1] - domain[0];
  return (time) => {
    const text = formatDateTime(new Date(time)); // "2026-12-01 10:05:30"
    if (span <= 10 * MINUTE) return text.slice(11, 19);
    if (span <= 2 * DAY) return text.slice(11, 16);
    if (span <= 60 * DAY) return text.slice(5, 16);
    return text.slice(0, 10);
  };
}

/**
 * A value axis domain around the data with 10% headroom (so point labels fit), at least ±1%
 * of the value for a flat series, and kept inside `bounds` (e.g. [0, 1] for a fraction).
 */
export function valueDomain(
  values: number[],
  bounds: [number, number] = [-Infinity, Infinity],
): [number, number] {
  if (values.length === 0) return [Math.max(0, bounds[0]), Math.min(1, bounds[1])];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pad = Math.max((max - min) * 0.1, Math.abs(max) * 0.01, 1e-9);
  return [Math.max(bounds[0], min - pad), Math.min(bounds[1], max + pad)];
}
