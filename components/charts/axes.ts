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
  const pad = max > min ? (max - min) * 0.08 : MINUTE;
  return [min - pad, max + pad];
}

const SECOND = 1000;
const HOUR = 60 * MINUTE;
const TIME_STEPS = [
  ...[1, 2, 5, 10, 15, 30].map((n) => n * SECOND),
  ...[1, 2, 5, 10, 15, 30].map((n) => n * MINUTE),
  ...[1, 2, 3, 6, 12].map((n) => n * HOUR),
  ...[1, 2, 7, 14, 30, 90, 180, 365].map((n) => n * DAY),
];

/** Round times (UTC multiples of 1 s … 1 year) inside the domain, about `count` of them. */
export function timeTicks(domain: [number, number], count = 6): number[] {
  const span = domain[1] - domain[0];
  if (!(span > 0)) return [];
  const step = TIME_STEPS.find((s) => span / s <= count) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
  const ticks: number[] = [];
  for (let t = Math.ceil(domain[0] / step) * step; t <= domain[1]; t += step) ticks.push(t);
  return ticks;
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
 * A value axis around the data: about `count` ticks at round steps (1, 2, 2.5 or 5 × 10ⁿ),
 * the domain widened to whole steps with room above and below the points (for their
 * labels), kept inside `bounds` (e.g. [0, 1] for a fraction).
 */
export function valueAxis(
  values: number[],
  bounds: [number, number] = [-Infinity, Infinity],
  count = 5,
): { domain: [number, number]; ticks: number[] } {
  let min = values.length ? Math.min(...values) : 0;
  let max = values.length ? Math.max(...values) : 1;
  if (max === min) {
    const open = Math.abs(max) * 0.01 || 0.01;
    min -= open;
    max += open;
  }
  const pad = (max - min) * 0.1;
  const raw = (max - min + 2 * pad) / (count - 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const round = (n: number) => +n.toPrecision(12);
  const lo = Math.max(bounds[0], round(Math.floor((min - pad) / step) * step));
  const hi = Math.min(bounds[1], round(Math.ceil((max + pad) / step) * step));
  const ticks: number[] = [];
  for (let i = 0, t = lo; t <= hi + step * 1e-9; i++, t = round(lo + i * step)) ticks.push(t);
  return { domain: [lo, hi], ticks };
}

/**
 * A value axis domain around the data with 10% headroom (so point labels fit), at least ±1%
 * of the value for a flat series, and kept inside `bounds`. `valueAxis` also rounds it to
 * whole ticks.
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
