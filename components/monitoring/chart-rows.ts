import type { MetricsPointView, MetricsSeriesView } from "@/lib/api/contracts/monitoring";
import { versionKey } from "./format";

/**
 * The series as recharts wants it: one row per bucket of the range (every bucket, so a
 * bucket without traffic is a row of nulls and the lines break there), a column per version
 * (`v3`), or per version and figure (`v3:p95`). A missing bucket is null, never zero.
 */
export type ChartRow = { time: number } & Record<string, number | null | [number, number] | null>;

export type PointValue = (point: MetricsPointView) => number | null;

/** Bucket start times of the series' range, oldest first. */
export function bucketTimes(series: Pick<MetricsSeriesView, "from" | "to" | "step">): number[] {
  const from = Date.parse(series.from);
  const to = Date.parse(series.to);
  const step = series.step * 1000;
  const times: number[] = [];
  for (let t = from; t < to && times.length < 5000; t += step) times.push(t);
  return times;
}

/** Rows with one column per (version, figure): `columns` maps a column suffix to a picker. */
export function chartRows(
  series: MetricsSeriesView,
  versions: number[],
  columns: Record<string, PointValue>,
): ChartRow[] {
  const times = bucketTimes(series);
  const index = new Map(times.map((t, i) => [t, i]));
  const rows: ChartRow[] = times.map((time) => {
    const row: ChartRow = { time } as ChartRow;
    for (const v of versions) {
      for (const suffix of Object.keys(columns)) row[columnKey(v, suffix)] = null;
    }
    return row;
  });
  for (const s of series.versions) {
    if (!versions.includes(s.version)) continue;
    for (const p of s.points) {
      const i = index.get(p.time);
      if (i === undefined) continue;
      for (const [suffix, pick] of Object.entries(columns)) {
        rows[i]![columnKey(s.version, suffix)] = pick(p);
      }
    }
  }
  return rows;
}

export const columnKey = (version: number, suffix = ""): string =>
  suffix ? `${versionKey(version)}:${suffix}` : versionKey(version);

/** Rows that carry at least one value (for the table view). */
export function rowsWithData(rows: ChartRow[]): ChartRow[] {
  return rows.filter((r) => Object.entries(r).some(([k, v]) => k !== "time" && v !== null));
}

/** All values of some columns, for an axis domain. */
export function columnValues(rows: ChartRow[], keys: string[]): number[] {
  const values: number[] = [];
  for (const r of rows) {
    for (const k of keys) {
      const v = r[k];
      if (typeof v === "number") values.push(v);
      else if (Array.isArray(v)) values.push(...v);
    }
  }
  return values;
}

/** Adds one column from points outside the versions (requests no version answered). */
export function addColumn<P extends { time: number }>(
  rows: ChartRow[],
  key: string,
  points: readonly P[],
  pick: (point: P) => number | null,
): void {
  const index = new Map(rows.map((r, i) => [r.time, i]));
  for (const r of rows) r[key] = null;
  for (const p of points) {
    const i = index.get(p.time);
    if (i !== undefined) rows[i]![key] = pick(p);
  }
}
