"use client";

import {
  Area,
  CartesianGrid,
  ComposedChart,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipContentProps,
} from "recharts";
import { timeTickFormatter } from "@/components/charts/axes";
import { ChartFrame, type ChartLegendItem } from "@/components/charts/chart-frame";
import { CHART_THEME } from "@/components/charts/palette";
import { TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { formatDateTime, formatDateTimeLong } from "@/lib/format";
import { rowsWithData, type ChartRow } from "./chart-rows";

export type SeriesLine = {
  key: string;
  label: string;
  color: string;
  /** SVG dash pattern (percentiles are told apart by it; the colour is the version's). */
  dash?: string;
  width?: number;
};
/** A faint range [low, high] behind a line (throughput: average up to the busiest minute). */
export type SeriesBand = { key: string; label: string; color: string };
export type SeriesReference = { y: number; label: string; color: string };

/**
 * One time-series chart of the monitoring section: version lines over every bucket of the
 * range (nulls break the line: `connectNulls={false}`), optional bands, stacked areas and
 * reference lines, a labelled y axis with its unit, a tooltip listing every series at the
 * hovered bucket, and the same numbers as a table.
 */
export function SeriesChart({
  title,
  description,
  rows,
  domain,
  lines = [],
  bands = [],
  stacked = [],
  references = [],
  yLabel,
  yFormat,
  yDomain,
  yScale = "linear",
  legend,
  height = 220,
  empty,
  actions,
  testId,
}: {
  title: string;
  description?: string;
  rows: ChartRow[];
  /** The x domain: the range asked for (ms). */
  domain: [number, number];
  lines?: SeriesLine[];
  bands?: SeriesBand[];
  /** Stacked areas (traffic share). */
  stacked?: SeriesLine[];
  references?: SeriesReference[];
  yLabel: string;
  yFormat: (value: number) => string;
  yDomain?: [number | "auto", number | "auto"];
  /** "log": a logarithmic y axis (latency, where one slow spike flattens everything else). */
  yScale?: "linear" | "log";
  legend?: ChartLegendItem[];
  height?: number;
  empty?: { title: string; description?: string };
  /** Controls for the card's header, beside the Chart / Table switch. */
  actions?: React.ReactNode;
  testId?: string;
}) {
  const xFormat = timeTickFormatter(domain);
  const series = [...stacked, ...lines];
  const tableRows = rowsWithData(rows);
  // On a log axis a value of 0 has no place: it is left out of the plot (not of the table).
  const plotted =
    yScale === "log"
      ? rows.map((r) => {
          const row = { ...r };
          for (const s of series) {
            const v = row[s.key];
            if (typeof v === "number" && !(v > 0)) row[s.key] = null;
          }
          return row;
        })
      : rows;
  const labels = new Map<string, string>([
    ...series.map((s) => [s.key, s.label] as const),
    ...bands.map((b) => [b.key, b.label] as const),
  ]);

  return (
    <ChartFrame
      title={title}
      description={description}
      legend={legend}
      height={height}
      empty={empty}
      actions={actions}
      data-testid={testId}
      table={
        <table className="w-full text-left text-[13px] leading-5">
          <caption className="sr-only">{title}, per bucket (UTC)</caption>
          <THead>
            <TR>
              <TH>Time (UTC)</TH>
              {series.map((s) => (
                <TH key={s.key} align="right">
                  {s.label}
                </TH>
              ))}
              {bands.map((b) => (
                <TH key={b.key} align="right">
                  {b.label}
                </TH>
              ))}
            </TR>
          </THead>
          <TBody>
            {tableRows
              .slice()
              .reverse()
              .map((r) => (
                <TR key={r.time}>
                  <TD mono muted>
                    {formatDateTime(new Date(r.time)).slice(0, 16)}
                  </TD>
                  {series.map((s) => (
                    <TD key={s.key} numeric>
                      {cell(r[s.key], yFormat)}
                    </TD>
                  ))}
                  {bands.map((b) => (
                    <TD key={b.key} numeric>
                      {cell(r[b.key], yFormat)}
                    </TD>
                  ))}
                </TR>
              ))}
          </TBody>
        </table>
      }
    >
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart
          data={plotted}
          margin={{ top: 8, right: 16, bottom: 0, left: 4 }}
          accessibilityLayer
          title={title}
        >
          <CartesianGrid stroke={CHART_THEME.grid} strokeDasharray="3 3" vertical={false} />
          <XAxis
            type="number"
            dataKey="time"
            scale="time"
            domain={domain}
            allowDataOverflow
            tickFormatter={xFormat}
            stroke={CHART_THEME.grid}
            tick={{ fill: CHART_THEME.axis, fontSize: CHART_THEME.fontSize }}
            tickMargin={6}
            minTickGap={56}
          />
          <YAxis
            type="number"
            // A log axis cannot start at 0: it spans the data (every value drawn is > 0), with
            // some room so the lowest and highest lines do not sit on the frame.
            scale={yScale === "log" ? "log" : "auto"}
            domain={
              yScale === "log"
                ? [(min: number) => min / 1.5, (max: number) => max * 1.5]
                : (yDomain ?? [0, "auto"])
            }
            tickFormatter={yFormat}
            stroke={CHART_THEME.grid}
            tick={{ fill: CHART_THEME.axis, fontSize: CHART_THEME.fontSize }}
            width={64}
            allowDecimals
            label={{
              value: yLabel,
              angle: -90,
              position: "insideLeft",
              offset: 0,
              style: {
                fill: CHART_THEME.axis,
                fontSize: CHART_THEME.fontSize,
                textAnchor: "middle",
              },
            }}
          />
          <Tooltip
            cursor={{ stroke: CHART_THEME.cursor, strokeDasharray: "3 3" }}
            isAnimationActive={false}
            content={(props) => <BucketTooltip {...props} labels={labels} format={yFormat} />}
          />
          {bands.map((b) => (
            <Area
              key={b.key}
              dataKey={b.key}
              name={b.label}
              type="linear"
              stroke="none"
              fill={b.color}
              fillOpacity={0.14}
              connectNulls={false}
              isAnimationActive={false}
              activeDot={false}
            />
          ))}
          {stacked.map((s) => (
            <Area
              key={s.key}
              dataKey={s.key}
              name={s.label}
              type="linear"
              stackId="stack"
              stroke={s.color}
              strokeWidth={1}
              fill={s.color}
              fillOpacity={0.35}
              dot={isolatedDot(rows, s.key, s.color)}
              connectNulls={false}
              isAnimationActive={false}
            />
          ))}
          {lines.map((l) => (
            <Line
              key={l.key}
              dataKey={l.key}
              name={l.label}
              type="linear"
              stroke={l.color}
              strokeWidth={l.width ?? 1.5}
              strokeDasharray={l.dash}
              dot={isolatedDot(rows, l.key, l.color)}
              activeDot={{ r: 3, strokeWidth: 0 }}
              connectNulls={false}
              isAnimationActive={false}
            />
          ))}
          {references.map((r) => (
            <ReferenceLine
              key={r.label}
              y={r.y}
              stroke={r.color}
              strokeDasharray="6 4"
              strokeOpacity={0.9}
              ifOverflow="extendDomain"
              label={{
                value: r.label,
                position: "insideTopRight",
                fill: r.color,
                fontSize: CHART_THEME.fontSize,
              }}
            />
          ))}
        </ComposedChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}

/**
 * A bucket with no neighbour on either side draws no line segment (gaps are not bridged), so
 * it gets a dot: a lone minute of traffic stays visible, as in Grafana.
 */
function isolatedDot(rows: ChartRow[], key: string, color: string) {
  const has = (i: number) => typeof rows[i]?.[key] === "number";
  function IsolatedDot(props: unknown) {
    const { cx, cy, index = -1 } = props as { cx?: number; cy?: number; index?: number };
    const lone =
      cx !== undefined && cy !== undefined && has(index) && !has(index - 1) && !has(index + 1);
    return lone ? (
      <circle key={`${key}-${index}`} cx={cx} cy={cy} r={2.5} fill={color} />
    ) : (
      <g key={`${key}-${index}`} />
    );
  }
  return IsolatedDot;
}

function cell(value: ChartRow[string] | undefined, format: (v: number) => string): string {
  if (typeof value === "number") return format(value);
  if (Array.isArray(value)) return format(value[1]);
  return "—";
}

function BucketTooltip({
  active,
  payload,
  label,
  labels,
  format,
}: TooltipContentProps & { labels: Map<string, string>; format: (v: number) => string }) {
  if (!active || !payload || payload.length === 0) return null;
  const seen = new Set<string>();
  const rows = payload.filter((p) => {
    const key = String(p.dataKey);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return (
    <div className="min-w-44 rounded-md border border-border bg-popover px-2.5 py-2 text-xs text-popover-foreground shadow-md">
      <div className="mb-1 font-medium">{formatDateTimeLong(new Date(Number(label)))}</div>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-0.5">
        {rows.map((p) => {
          const key = String(p.dataKey);
          const value = p.value as ChartRow[string] | undefined;
          return (
            <div key={key} className="contents">
              <dt className="flex items-center gap-1.5 text-muted-foreground">
                <span
                  aria-hidden
                  className="size-2 rounded-full"
                  style={{ background: p.color ?? (p.payload as { fill?: string })?.fill }}
                />
                {labels.get(key) ?? key}
              </dt>
              <dd className="text-right font-mono tabular-nums">
                {value === undefined ? "—" : cell(value, format)}
              </dd>
            </div>
          );
        })}
      </dl>
    </div>
  );
}
