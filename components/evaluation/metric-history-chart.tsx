"use client";

import {
  CartesianGrid,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  type ScatterShapeProps,
  type TooltipContentProps,
} from "recharts";
import { timeDomain, timeTickFormatter, timeTicks, valueAxis } from "@/components/charts/axes";
import { ChartFrame, ChartTooltipBox, type ChartLegendItem } from "@/components/charts/chart-frame";
import { CHART_THEME, seriesColor } from "@/components/charts/palette";
import { Time } from "@/components/time";
import { TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { MetricHistory, MetricHistoryPoint } from "@/lib/evaluation/history";
import { formatDateTimeLong } from "@/lib/format";
import { formatMetric } from "./format";

type ChartPoint = MetricHistoryPoint & { series: string; color: string };

/** Metrics that are fractions in [0, 1]: their axis stays inside it. */
const FRACTIONS = new Set(["accuracy", "f1Macro", "precisionMacro", "recallMacro", "rocAuc"]);

/**
 * The model page's chart of the gate's primary metric per version over time: one line per
 * dataset version, each point an evaluation labelled with its version, the production
 * version ringed. Data from lib/evaluation/history.ts (getMetricHistory).
 */
export function MetricHistoryChart({
  history,
  className,
}: {
  history: MetricHistory;
  className?: string;
}) {
  const { metric, metricLabel, direction, productionVersion } = history;
  const better = direction === "higher" ? "↑ higher is better" : "↓ lower is better";
  const format = (v: number) => formatMetric(v, metric);
  const formatTick = FRACTIONS.has(metric)
    ? (v: number) => `${+(v * 100).toFixed(1)}%`
    : (v: number) => String(+v.toPrecision(4));
  const series = history.series.map((s, i) => ({
    ...s,
    color: seriesColor(i),
    data: s.points.map((p): ChartPoint => ({ ...p, series: s.label, color: seriesColor(i) })),
  }));
  const points = series.flatMap((s) => s.data);
  const xDomain = timeDomain(points.map((p) => p.time));
  const yAxis = valueAxis(
    points.map((p) => p.value),
    FRACTIONS.has(metric) ? [0, 1] : undefined,
  );
  const hasProduction = points.some((p) => p.isProduction);
  const legend: ChartLegendItem[] = [
    ...series.map((s) => ({ key: s.key, label: s.label, color: s.color })),
    ...(hasProduction
      ? [
          {
            key: "production",
            label: `production (v${productionVersion})`,
            color: CHART_THEME.production,
            marker: "ring" as const,
          },
        ]
      : []),
  ];
  const versions = history.versions.length;
  const omitted =
    history.omittedSeries > 0
      ? ` ${history.omittedSeries} older dataset version${history.omittedSeries === 1 ? " is" : "s are"} not shown.`
      : "";
  const title = (
    <>
      {metricLabel} per version over time{" "}
      <span className="font-normal text-muted-foreground">({better})</span>
    </>
  );

  return (
    <ChartFrame
      data-testid="metric-history"
      className={className}
      title={title}
      description={
        points.length === 0
          ? "The gate's primary metric of each succeeded evaluation."
          : `The gate's primary metric of each succeeded evaluation by the time it finished: ${versions} version${versions === 1 ? "" : "s"} on ${series.length} dataset version${series.length === 1 ? "" : "s"}, one line each.${omitted}`
      }
      legend={legend}
      height={260}
      empty={
        points.length > 0
          ? undefined
          : history.withoutValue > 0
            ? {
                title: `No ${metricLabel} values yet`,
                description: `${history.withoutValue} succeeded evaluation${history.withoutValue === 1 ? "" : "s"} did not compute ${metricLabel} (ROC AUC needs two classes and scores; log loss needs probabilities). Change the gate's primary metric or evaluate versions that report it.`,
              }
            : {
                title: "No evaluations yet",
                description: `Evaluate a version on a dataset: each succeeded evaluation adds a point with its ${metricLabel}, so versions can be compared over time.`,
              }
      }
      table={
        <table className="w-full text-left text-[13px] leading-5">
          <caption className="sr-only">{metricLabel} of each evaluation, newest first</caption>
          <THead>
            <TR>
              <TH>Version</TH>
              <TH>Dataset</TH>
              <TH align="right">{metricLabel}</TH>
              <TH>Finished</TH>
            </TR>
          </THead>
          <TBody>
            {[...points]
              .sort((a, b) => b.time - a.time)
              .map((p) => (
                <TR key={p.evaluationId} data-testid="metric-history-point">
                  <TD mono>
                    v{p.version}
                    {p.isProduction ? (
                      <span className="ml-1.5 font-sans text-xs text-success">production</span>
                    ) : null}
                  </TD>
                  <TD mono>{p.series}</TD>
                  <TD numeric>{format(p.value)}</TD>
                  <TD muted>
                    <Time value={p.finishedAt} />
                  </TD>
                </TR>
              ))}
          </TBody>
        </table>
      }
    >
      <ResponsiveContainer width="100%" height="100%">
        <ScatterChart
          margin={{ top: 20, right: 20, bottom: 4, left: 4 }}
          accessibilityLayer
          title={`${metricLabel} per version over time`}
        >
          <CartesianGrid stroke={CHART_THEME.grid} strokeDasharray="3 3" />
          <XAxis
            type="number"
            dataKey="time"
            scale="time"
            domain={xDomain}
            ticks={timeTicks(xDomain)}
            tickFormatter={timeTickFormatter(xDomain)}
            stroke={CHART_THEME.grid}
            tick={{ fill: CHART_THEME.axis, fontSize: CHART_THEME.fontSize }}
            tickMargin={6}
            minTickGap={48}
            name="Finished"
          />
          <YAxis
            type="number"
            dataKey="value"
            domain={yAxis.domain}
            ticks={yAxis.ticks}
            tickFormatter={formatTick}
            stroke={CHART_THEME.grid}
            tick={{ fill: CHART_THEME.axis, fontSize: CHART_THEME.fontSize }}
            width={64}
            name={metricLabel}
            label={{
              value: `${metricLabel} ${direction === "higher" ? "↑" : "↓"}`,
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
            content={(props) => (
              <PointTooltip {...props} format={format} metricLabel={metricLabel} />
            )}
          />
          {series.map((s) => (
            <Scatter
              key={s.key}
              name={s.label}
              data={s.data}
              line={{ stroke: s.color, strokeWidth: 1.5 }}
              lineJointType="linear"
              isAnimationActive={false}
              shape={(props: ScatterShapeProps) => <Point {...props} color={s.color} />}
            />
          ))}
        </ScatterChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}

/** A point: the series colour, a ring for production, and its version label when labelled. */
function Point({ cx, cy, payload, color }: ScatterShapeProps & { color: string }) {
  if (cx === undefined || cy === undefined) return null;
  const p = payload as ChartPoint;
  return (
    <g>
      {p.isProduction ? (
        <circle
          cx={cx}
          cy={cy}
          r={7.5}
          fill="none"
          stroke={CHART_THEME.production}
          strokeWidth={2}
        />
      ) : null}
      <circle cx={cx} cy={cy} r={4} fill={color} stroke={CHART_THEME.card} strokeWidth={1.5} />
      {p.labelled ? (
        <text
          x={cx}
          y={cy - 12}
          textAnchor="middle"
          fontSize={CHART_THEME.fontSize}
          fontWeight={600}
          fill="var(--foreground)"
          data-testid="metric-history-label"
        >
          v{p.version}
        </text>
      ) : null}
    </g>
  );
}

function PointTooltip({
  active,
  payload,
  format,
  metricLabel,
}: TooltipContentProps & { format: (v: number) => string; metricLabel: string }) {
  const p = active ? (payload?.[0]?.payload as ChartPoint | undefined) : undefined;
  if (!p) return null;
  return (
    <ChartTooltipBox
      color={p.color}
      title={
        <>
          v{p.version}
          {p.isProduction ? <span className="font-normal text-success"> · production</span> : null}
        </>
      }
      rows={[
        { label: metricLabel, value: format(p.value) },
        { label: "Dataset", value: p.series },
        ...(p.rowCount !== null ? [{ label: "Rows", value: p.rowCount }] : []),
        { label: "Finished", value: formatDateTimeLong(p.finishedAt) },
      ]}
    />
  );
}
