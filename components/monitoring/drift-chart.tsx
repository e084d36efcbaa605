"use client";

import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipContentProps,
} from "recharts";
import { timeDomain, timeTickFormatter } from "@/components/charts/axes";
import { ChartFrame, ChartTooltipBox } from "@/components/charts/chart-frame";
import { CHART_THEME, seriesColor } from "@/components/charts/palette";
import { Time } from "@/components/time";
import { TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { DriftSnapshotView } from "@/lib/monitoring/drift";
import { formatDateTimeLong } from "@/lib/format";

type Point = DriftSnapshotView & { time: number };

const pct = (v: number) => `${Math.round(v * 100)}%`;

/**
 * The drift score over the last day, from the snapshots the scheduler stores every few
 * minutes. A snapshot without enough data is a gap in the line, never a 0.
 */
export function DriftScoreChart({ history }: { history: DriftSnapshotView[] }) {
  const points: Point[] = history.map((s) => ({ ...s, time: Date.parse(s.at) }));
  const measured = points.filter((p) => p.score !== null);
  const xDomain = timeDomain(points.map((p) => p.time));
  const color = seriesColor(0);
  const gaps = points.length - measured.length;
  return (
    <ChartFrame
      data-testid="drift-chart"
      title="Drift score over the last 24 h"
      description={
        points.length === 0
          ? "Share of features drifted, as stored by the scheduler every 5 minutes (every version together)."
          : `Share of features drifted over each snapshot's ${Math.round(points[0]!.windowMs / 60_000)}-minute window, every version together; ${points.length} snapshot${points.length === 1 ? "" : "s"}${gaps ? `, ${gaps} without enough data (gaps)` : ""}.`
      }
      legend={[{ key: "score", label: "drift score", color }]}
      height={200}
      empty={
        points.length === 0
          ? {
              title: "No snapshots yet",
              description:
                "The scheduler stores a drift snapshot every 5 minutes for models with a reference; the chart fills in as they arrive.",
            }
          : undefined
      }
      table={
        <table className="w-full text-left text-[13px] leading-5">
          <caption className="sr-only">Drift snapshots, newest first</caption>
          <THead>
            <TR>
              <TH>Time</TH>
              <TH align="right">Score</TH>
              <TH align="right">Drifted</TH>
              <TH align="right">Rows</TH>
            </TR>
          </THead>
          <TBody>
            {[...points].reverse().map((p) => (
              <TR key={p.at}>
                <TD muted>
                  <Time value={p.at} />
                </TD>
                <TD numeric>{p.score === null ? "not enough data" : pct(p.score)}</TD>
                <TD numeric>
                  {p.score === null ? "—" : `${p.driftedFeatures} / ${p.featureCount}`}
                </TD>
                <TD numeric>{p.sampleRows}</TD>
              </TR>
            ))}
          </TBody>
        </table>
      }
    >
      <ResponsiveContainer width="100%" height="100%">
        <LineChart
          data={points}
          margin={{ top: 12, right: 20, bottom: 4, left: 4 }}
          accessibilityLayer
          title="Drift score over time"
        >
          <CartesianGrid stroke={CHART_THEME.grid} strokeDasharray="3 3" />
          <XAxis
            type="number"
            dataKey="time"
            scale="time"
            domain={xDomain}
            tickFormatter={timeTickFormatter(xDomain)}
            stroke={CHART_THEME.grid}
            tick={{ fill: CHART_THEME.axis, fontSize: CHART_THEME.fontSize }}
            tickMargin={6}
            minTickGap={48}
          />
          <YAxis
            type="number"
            domain={[0, 1]}
            ticks={[0, 0.25, 0.5, 0.75, 1]}
            tickFormatter={pct}
            stroke={CHART_THEME.grid}
            tick={{ fill: CHART_THEME.axis, fontSize: CHART_THEME.fontSize }}
            width={44}
          />
          <Tooltip
            cursor={{ stroke: CHART_THEME.cursor, strokeDasharray: "3 3" }}
            isAnimationActive={false}
            content={(props) => <SnapshotTooltip {...props} color={color} />}
          />
          <Line
            type="linear"
            dataKey="score"
            stroke={color}
            strokeWidth={1.75}
            dot={measured.length <= 48 ? { r: 2.5, fill: color, strokeWidth: 0 } : false}
            connectNulls={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}

function SnapshotTooltip({ active, payload, color }: TooltipContentProps & { color: string }) {
  const p = active ? (payload?.[0]?.payload as Point | undefined) : undefined;
  if (!p) return null;
  return (
    <ChartTooltipBox
      color={color}
      title={formatDateTimeLong(p.at)}
      rows={[
        { label: "Score", value: p.score === null ? "not enough data" : pct(p.score) },
        {
          label: "Drifted",
          value: p.score === null ? "—" : `${p.driftedFeatures} of ${p.featureCount}`,
        },
        { label: "Rows", value: p.sampleRows },
      ]}
    />
  );
}
