"use client";

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Line, LineChart, ResponsiveContainer, YAxis } from "recharts";
import { Badge } from "@/components/ui/badge";
import type { MonitoringOverview } from "@/lib/monitoring/overview";
import {
  formatCount,
  formatMetricValue,
  formatMs,
  formatPercent,
  formatRate,
  formatShareOf,
  versionColor,
} from "./format";
import { LiveBadge } from "./live-badge";
import { describeTimeRange, parseTimeRange, withTimeRange, type TimeRange } from "./time-range";
import { TimeRangePicker } from "./time-range-picker";
import { useLiveMetrics } from "./use-live-events";

/**
 * The Monitoring page's table: one row per model with traffic in the range (client and
 * server errors apart), linking to the model page's charts (same range). The server renders the figures; a metrics event for any
 * model re-renders them (debounced), so the page stays live while open.
 */
export function MonitoringOverviewTable({ overview }: { overview: MonitoringOverview }) {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const range = parseTimeRange(params);
  const live = useLiveMetrics({
    modelIds: null,
    onChange: () => router.refresh(),
    debounceMs: 3000,
  });
  const setRange = (r: TimeRange) => {
    const query = withTimeRange(new URLSearchParams(params), r).toString();
    router.replace(`${pathname}${query ? `?${query}` : ""}`, { scroll: false });
  };
  const rangeQuery = withTimeRange(new URLSearchParams(), range).toString();

  return (
    <div className="grid gap-3">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-2">
        <LiveBadge status={live.status} />
        <span className="text-xs text-muted-foreground">
          {describeTimeRange(range)} · {overview.models.length} model
          {overview.models.length === 1 ? "" : "s"} with traffic
        </span>
        <div className="ml-auto">
          <TimeRangePicker
            value={range}
            resolved={{ fromMs: overview.fromMs, toMs: overview.toMs }}
            onChange={setRange}
          />
        </div>
      </div>
      {overview.models.length === 0 ? (
        <div className="rounded-lg border border-dashed border-border-strong/50 bg-card px-6 py-12 text-center">
          <h2 className="text-sm font-semibold">No traffic in this range</h2>
          <p className="mx-auto mt-1 max-w-prose text-[13px] text-muted-foreground">
            Models appear here once the serving process answers requests for them
            (/v2/models/&lt;name&gt;/infer). Choose a longer range to see older traffic.
          </p>
        </div>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-border bg-card">
          <table
            className="w-full text-left text-[13px] leading-5"
            aria-label="Models with traffic"
          >
            <thead className="text-xs text-muted-foreground">
              <tr className="border-b border-border">
                <th className="px-4 py-2 font-medium">Model</th>
                <th className="px-3 py-2 font-medium">Throughput</th>
                <th className="px-3 py-2 text-right font-medium">Requests</th>
                <th className="px-3 py-2 text-right font-medium">p95 latency</th>
                <th
                  className="px-3 py-2 text-right font-medium"
                  title="Answers with status 400–499"
                >
                  Client errors (4xx)
                </th>
                <th
                  className="px-3 py-2 text-right font-medium"
                  title="Answers with status 500–599"
                >
                  Server errors (5xx)
                </th>
                <th className="px-3 py-2 text-right font-medium">Live accuracy / MAE</th>
                <th className="px-4 py-2 font-medium">Versions served</th>
              </tr>
            </thead>
            <tbody>
              {overview.models.map((m) => (
                <tr
                  key={m.modelId}
                  className="border-b border-border last:border-0 hover:bg-subtle"
                  data-testid={`overview-${m.model}`}
                >
                  <td className="px-4 py-2">
                    <Link
                      href={`/models/${encodeURIComponent(m.model)}${rangeQuery ? `?${rangeQuery}` : ""}`}
                      className="font-medium text-accent hover:underline"
                    >
                      {m.model}
                    </Link>
                    <div className="text-xs text-muted-foreground">{m.task}</div>
                  </td>
                  <td className="px-3 py-2">
                    <div className="flex items-center gap-2">
                      <Sparkline points={m.sparkline} label={`${m.model} throughput`} />
                      <span className="font-mono text-xs whitespace-nowrap text-muted-foreground tabular-nums">
                        {formatRate(m.throughput)}
                      </span>
                    </div>
                  </td>
                  <Num>{formatCount(m.requests)}</Num>
                  <Num>{formatMs(m.latencyP95Ms)}</Num>
                  <Num tone={m.clientErrorRate >= 0.01 ? "warn" : undefined}>
                    {formatShareOf(m.clientErrors, m.requests)}
                  </Num>
                  <Num tone={m.serverErrorRate >= 0.01 ? "bad" : undefined}>
                    {formatShareOf(m.serverErrors, m.requests)}
                  </Num>
                  <Num>
                    {m.task === "regression"
                      ? formatMetricValue(m.mae)
                      : m.task === "classification"
                        ? formatMetricValue(m.accuracy)
                        : "—"}
                    {m.labelled > 0 ? " " : null}
                    {m.labelled > 0 ? (
                      <span className="text-xs text-muted-foreground">
                        ({formatCount(m.labelled)})
                      </span>
                    ) : null}
                  </Num>
                  <td className="px-4 py-2">
                    <ul
                      className="flex flex-wrap gap-x-3 gap-y-1"
                      aria-label={`${m.model} versions served`}
                    >
                      {m.versions.map((v) => {
                        const aliases = Object.entries(m.aliases)
                          .filter(([, version]) => version === v.version)
                          .map(([a]) => a);
                        return (
                          <li key={v.version} className="flex items-center gap-1.5 text-xs">
                            <span
                              aria-hidden
                              className="size-2 rounded-[2px]"
                              style={{ background: versionColor(v.version) }}
                            />
                            <span className="font-mono font-medium">v{v.version}</span>
                            <span className="text-muted-foreground tabular-nums">
                              {formatPercent(v.share, 0)}
                            </span>
                            {aliases.map((a) => (
                              <Badge
                                key={a}
                                variant={
                                  a === "production"
                                    ? "success"
                                    : a === "staging"
                                      ? "warning"
                                      : "outline"
                                }
                              >
                                {a}
                              </Badge>
                            ))}
                          </li>
                        );
                      })}
                      {m.unresolvedRequests > 0 ? (
                        <li
                          className="flex items-center gap-1.5 text-xs text-muted-foreground"
                          title="Requests naming an alias or version that is not served (404)"
                        >
                          no version
                          <span className="tabular-nums">
                            {formatPercent(m.unresolvedRequests / m.requests, 0)}
                          </span>
                        </li>
                      ) : null}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Num({ children, tone }: { children: React.ReactNode; tone?: "warn" | "bad" }) {
  const color =
    tone === "bad" ? "text-destructive" : tone === "warn" ? "text-warning-subtle-foreground" : "";
  return (
    <td className={`px-3 py-2 text-right font-mono whitespace-nowrap tabular-nums ${color}`}>
      {children}
    </td>
  );
}

/** A throughput shape without axes; gaps stay gaps. */
function Sparkline({
  points,
  label,
}: {
  points: { time: number; throughput: number | null }[];
  label: string;
}) {
  return (
    <div className="h-8 w-40 shrink-0" role="img" aria-label={label}>
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={points} margin={{ top: 2, right: 0, bottom: 2, left: 0 }}>
          <YAxis hide domain={[0, "auto"]} />
          <Line
            dataKey="throughput"
            type="linear"
            stroke="var(--chart-1)"
            strokeWidth={1.25}
            dot={false}
            connectNulls={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
