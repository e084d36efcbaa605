"use client";

import { useEffect, useMemo, useState } from "react";
import { usePathname, useSearchParams } from "next/navigation";
import { ActivityIcon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { valueDomain } from "@/components/charts/axes";
import { ChartToggle, ChartToggleButton } from "@/components/charts/chart-frame";
import { CHART_THEME } from "@/components/charts/palette";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/components/ui/cn";
import { EmptyState } from "@/components/ui/empty-state";
import { Spinner } from "@/components/ui/spinner";
import type { MetricsSeriesView, VersionSeriesView } from "@/lib/api/contracts/monitoring";
import { addColumn, chartRows, columnKey, columnValues } from "./chart-rows";
import { FeedbackStats } from "./feedback-stats";
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
import { SeriesChart, type SeriesLine } from "./series-chart";
import {
  describeTimeRange,
  parseTimeRange,
  parseVersions,
  resolveTimeRange,
  withTimeRange,
  withVersions,
  type TimeRange,
} from "./time-range";
import { TimeRangePicker } from "./time-range-picker";
import { useLiveMetrics } from "./use-live-events";

/** Client and server errors share a chart: the version's colour, told apart by the dash. */
const ERROR_KINDS = [
  {
    suffix: "4xx",
    label: "client errors 4xx",
    dash: "5 3",
    pick: "clientErrorRate",
    count: "clientErrors",
  },
  {
    suffix: "5xx",
    label: "server errors 5xx",
    dash: undefined,
    pick: "serverErrorRate",
    count: "errors",
  },
] as const;
const UNRESOLVED_KEY = "unresolved";

const PERCENTILES = [
  { suffix: "p50", label: "p50", dash: "2 3", pick: "latencyP50Ms" },
  { suffix: "p95", label: "p95", dash: undefined, pick: "latencyP95Ms" },
  { suffix: "p99", label: "p99", dash: "7 3", pick: "latencyP99Ms" },
] as const;

type Load =
  | { state: "loading" }
  | { state: "error"; message: string }
  | { state: "ready"; data: MetricsSeriesView; key: string };

/**
 * The model page's monitoring: a time-range picker and version selection kept in the URL,
 * a per-version summary that doubles as the legend (toggles hide a version in every chart),
 * and the charts: throughput with its busiest minute as a band, client (4xx) and server (5xx)
 * error rates, latency percentiles, live accuracy (or MAE) against the evaluation's, traffic
 * share. Requests no version answered (unknown alias or version) show as their own row and
 * line, so a client calling the wrong name is visible too. While the page is open, new
 * rollups announced over /api/v1/events refetch the series (debounced).
 */
export function ModelMonitoring({
  model,
  modelId,
  task,
}: {
  model: string;
  modelId: string;
  task: "classification" | "regression" | "other";
}) {
  const pathname = usePathname();
  const params = useSearchParams();
  const [rangeParam, fromParam, toParam] = [
    params.get("range"),
    params.get("from"),
    params.get("to"),
  ];
  // Keyed on the three params, so toggling a version does not refetch.
  const range = useMemo(
    () =>
      parseTimeRange({
        get: (name) => ({ range: rangeParam, from: fromParam, to: toParam })[name] ?? null,
      }),
    [rangeParam, fromParam, toParam],
  );
  const selected = useMemo(() => parseVersions(params), [params]);
  const [load, setLoad] = useState<Load>({ state: "loading" });
  const [refreshing, setRefreshing] = useState(false);
  const [resolved, setResolved] = useState(() => resolveTimeRange(range, Date.now()));

  const rangeKey = JSON.stringify(range);
  // Bumped by live updates: each bump re-reads the series for the range as of now.
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let current = true;
    const span = resolveTimeRange(range, Date.now());
    const q = new URLSearchParams({
      from: new Date(span.fromMs).toISOString(),
      to: new Date(span.toMs).toISOString(),
    });
    apiFetch<MetricsSeriesView>(`/api/v1/models/${encodeURIComponent(model)}/metrics?${q}`)
      .then(
        (data) => {
          if (!current) return;
          setResolved(span);
          setLoad({ state: "ready", data, key: rangeKey });
        },
        (error: unknown) => {
          if (current) setLoad({ state: "error", message: (error as Error).message });
        },
      )
      .finally(() => {
        if (current) setRefreshing(false);
      });
    return () => {
      current = false;
    };
  }, [model, range, rangeKey, tick]);

  const live = useLiveMetrics({
    model,
    modelIds: [modelId],
    onChange: () => {
      setRefreshing(true);
      setTick((t) => t + 1);
    },
  });

  // The charts fetch their own data: a shallow URL update (Next keeps useSearchParams in step)
  // spares the server a re-render of the whole model page.
  const replaceParams = (next: URLSearchParams) => {
    const query = next.toString();
    window.history.replaceState(null, "", `${pathname}${query ? `?${query}` : ""}`);
  };
  const setRange = (r: TimeRange) => replaceParams(withTimeRange(new URLSearchParams(params), r));

  const data = load.state === "ready" ? load.data : null;
  const all = data?.versions.map((v) => v.version) ?? [];
  const visible = selected ? all.filter((v) => selected.includes(v)) : all;
  const toggle = (version: number) => {
    const next = visible.includes(version)
      ? visible.filter((v) => v !== version)
      : [...visible, version];
    replaceParams(
      withVersions(
        new URLSearchParams(params),
        next.length === all.length || next.length === 0 ? null : next,
      ),
    );
  };

  return (
    <section aria-labelledby="monitoring-heading" className="mb-6" data-testid="model-monitoring">
      <div className="mb-2 flex flex-wrap items-center gap-x-3 gap-y-2">
        <h2 id="monitoring-heading" className="flex items-center gap-1.5 text-sm font-semibold">
          <ActivityIcon className="size-4" aria-hidden /> Monitoring
        </h2>
        <LiveBadge status={live.status} />
        {data ? (
          <span className="text-xs text-muted-foreground" data-testid="monitoring-range">
            {describeTimeRange(range)} · {data.stepLabel} buckets
          </span>
        ) : null}
        {refreshing || (load.state === "ready" && load.key !== rangeKey) ? (
          <Spinner size="sm" label="Updating" className="text-muted-foreground" />
        ) : null}
        <div className="ml-auto">
          <TimeRangePicker value={range} resolved={resolved} onChange={setRange} />
        </div>
      </div>

      {load.state === "loading" ? (
        <div
          className="flex h-48 items-center justify-center rounded-lg border border-border bg-card text-sm text-muted-foreground"
          aria-busy="true"
        >
          <Spinner size="sm" label={null} className="mr-2" /> Loading metrics…
        </div>
      ) : load.state === "error" ? (
        <Alert variant="error" title="The metrics could not be loaded">
          {load.message}
        </Alert>
      ) : !load.data.versions.some((v) => v.summary) ? (
        <EmptyState
          bordered
          headingLevel="h3"
          icon={<ActivityIcon />}
          title="No traffic in this range"
          description={`Nothing was served by ${model} in ${describeTimeRange(range).toLowerCase()}. Requests to the serving process (/v2/models/${model}/infer) appear here within seconds; choose a longer range to see older traffic.`}
        />
      ) : (
        <Charts
          data={load.data}
          visible={visible}
          task={task}
          domain={[Date.parse(load.data.from), Date.parse(load.data.to)]}
          onToggle={toggle}
        />
      )}
      {task !== "other" && load.state === "ready" ? (
        <div className="mt-3">
          <FeedbackStats
            model={model}
            fromMs={resolved.fromMs}
            toMs={resolved.toMs}
            refreshKey={load.data}
          />
        </div>
      ) : null}
    </section>
  );
}

function Charts({
  data,
  visible,
  task,
  domain,
  onToggle,
}: {
  data: MetricsSeriesView;
  visible: number[];
  task: "classification" | "regression" | "other";
  domain: [number, number];
  onToggle: (version: number) => void;
}) {
  // Linear by default; log when one slow spike flattens every other bucket into the axis.
  const [latencyScale, setLatencyScale] = useState<"linear" | "log">("linear");
  const shown = data.versions.filter((v) => visible.includes(v.version));
  const versionLine = (v: VersionSeriesView, suffix = ""): SeriesLine => ({
    key: columnKey(v.version, suffix),
    label: suffix ? `v${v.version} ${suffix}` : `v${v.version}`,
    color: versionColor(v.version),
  });
  const versions = shown.map((v) => v.version);
  const nothingShown = shown.length === 0;
  const hiddenEmpty = {
    title: "No version selected",
    description: "Turn a version on in the table above.",
  };

  const throughput = chartRows(data, versions, {
    "": (p) => p.throughput,
    max: (p) => (p.requests > 0 ? p.maxThroughput : null),
  });
  // The band spans average → busiest minute; recharts draws [low, high] pairs as a range.
  for (const r of throughput) {
    for (const v of versions) {
      const avg = r[columnKey(v)];
      const max = r[columnKey(v, "max")];
      r[columnKey(v, "band")] =
        typeof avg === "number" && typeof max === "number" ? [avg, max] : null;
    }
  }
  const errors = chartRows(
    data,
    versions,
    Object.fromEntries(
      ERROR_KINDS.map((k) => [k.suffix, (p) => (p.requests > 0 ? p[k.pick] : null)]),
    ),
  );
  const errorLines: SeriesLine[] = shown.flatMap((v) =>
    ERROR_KINDS.map((k) => ({ ...versionLine(v, k.suffix), dash: k.dash })),
  );
  // Requests no version answered: a grey line per kind that occurred (all versions shown).
  const unresolved = visible.length === data.versions.length ? data.unresolved : null;
  for (const k of ERROR_KINDS) {
    if (!unresolved || unresolved.summary[k.count] === 0) continue;
    const key = `${UNRESOLVED_KEY}:${k.suffix}`;
    addColumn(errors, key, unresolved.points, (p) => p[k.pick]);
    errorLines.push({
      key,
      label: `no version ${k.suffix}`,
      color: CHART_THEME.axis,
      dash: k.dash,
    });
  }
  const latency = chartRows(
    data,
    versions,
    Object.fromEntries(PERCENTILES.map((q) => [q.suffix, (p) => p[q.pick]])),
  );
  const share = chartRows(data, versions, { "": (p) => (p.requests > 0 ? p.trafficShare : null) });

  const quality =
    task === "classification"
      ? ({
          label: "Live accuracy",
          unit: "accuracy",
          pick: "accuracy",
          evalPick: "accuracy",
        } as const)
      : task === "regression"
        ? ({ label: "Live MAE", unit: "MAE", pick: "mae", evalPick: "mae" } as const)
        : null;
  const qualityRows = quality
    ? chartRows(data, versions, { "": (p) => (p.labelled > 0 ? p[quality.pick] : null) })
    : [];
  const qualityRefs = quality
    ? shown.flatMap((v) => {
        const value = v.evaluation?.[quality.evalPick];
        return typeof value === "number"
          ? [
              {
                y: value,
                label: `v${v.version} evaluation ${formatMetricValue(value)}`,
                color: versionColor(v.version),
              },
            ]
          : [];
      })
    : [];
  const qualityValues = [
    ...columnValues(
      qualityRows,
      versions.map((v) => columnKey(v)),
    ),
    ...qualityRefs.map((r) => r.y),
  ];
  const hasFeedback = qualityValues.length > qualityRefs.length;

  return (
    <div className="grid gap-3">
      <VersionTable data={data} visible={visible} task={task} onToggle={onToggle} />
      <div className="grid gap-3 lg:grid-cols-2">
        <SeriesChart
          testId="chart-throughput"
          title="Throughput"
          description="Average requests per second per bucket; the band reaches the bucket's busiest minute."
          rows={throughput}
          domain={domain}
          lines={shown.map((v) => versionLine(v))}
          bands={shown.map((v) => ({
            key: columnKey(v.version, "band"),
            label: `v${v.version} busiest minute`,
            color: versionColor(v.version),
          }))}
          yLabel="req/s"
          yFormat={(n) => formatRate(n).replace(" req/s", "")}
          empty={nothingShown ? hiddenEmpty : undefined}
        />
        <SeriesChart
          testId="chart-errors"
          title="Error rate: client 4xx / server 5xx"
          description="Share of requests answered with a client error (4xx: a bad request) or a server error (5xx: serving failed)."
          rows={errors}
          domain={domain}
          lines={errorLines}
          legend={ERROR_KINDS.map((k) => ({
            key: k.suffix,
            label: `${k.label} ${k.dash ? "(dashed)" : "(solid)"}`,
            color: CHART_THEME.axis,
          }))}
          yLabel="errors %"
          yFormat={(n) => formatPercent(n)}
          yDomain={fractionDomain(
            columnValues(
              errors,
              errorLines.map((l) => l.key),
            ),
          )}
          empty={nothingShown ? hiddenEmpty : undefined}
        />
      </div>
      <SeriesChart
        testId="chart-latency"
        title="Latency p50 / p95 / p99"
        description="Percentiles of request latency from the merged histograms of each bucket (within one histogram bucket, ≤ 25 %)."
        rows={latency}
        domain={domain}
        height={260}
        lines={shown.flatMap((v) =>
          PERCENTILES.map((q) => ({
            ...versionLine(v, q.suffix),
            dash: q.dash,
            width: q.suffix === "p95" ? 1.75 : 1.25,
          })),
        )}
        legend={PERCENTILES.map((q) => ({
          key: q.suffix,
          label: `${q.label} ${q.dash ? (q.suffix === "p50" ? "(dotted)" : "(dashed)") : "(solid)"}`,
          color: CHART_THEME.axis,
        }))}
        yLabel={latencyScale === "log" ? "latency (ms, log scale)" : "latency (ms)"}
        yFormat={(n) => formatMs(n).replace(" ms", "")}
        yScale={latencyScale}
        actions={
          <ChartToggle label="Latency axis">
            <ChartToggleButton
              pressed={latencyScale === "linear"}
              onClick={() => setLatencyScale("linear")}
            >
              Linear
            </ChartToggleButton>
            <ChartToggleButton
              pressed={latencyScale === "log"}
              onClick={() => setLatencyScale("log")}
            >
              Log
            </ChartToggleButton>
          </ChartToggle>
        }
        empty={nothingShown ? hiddenEmpty : undefined}
      />
      <div className="grid gap-3 lg:grid-cols-2">
        {quality ? (
          <SeriesChart
            testId="chart-quality"
            title={quality.label}
            description={`${quality.label} of predictions that received ground truth (POST /api/v1/feedback), by the minute they were served; dashed lines: each version's latest evaluation.`}
            rows={qualityRows}
            domain={domain}
            lines={shown.map((v) => versionLine(v))}
            references={qualityRefs}
            yLabel={quality.unit}
            yFormat={(n) => formatMetricValue(n, 2)}
            yDomain={
              qualityValues.length > 0
                ? valueDomain(qualityValues, task === "classification" ? [0, 1] : [0, Infinity])
                : undefined
            }
            empty={
              nothingShown
                ? hiddenEmpty
                : hasFeedback || qualityRefs.length > 0
                  ? undefined
                  : {
                      title: "No ground truth yet",
                      description:
                        "Send labels for served requests with POST /api/v1/feedback (request_id and label or value); live accuracy appears for the minutes they were served.",
                    }
            }
          />
        ) : null}
        <SeriesChart
          testId="chart-share"
          title="Traffic share"
          description="Each version's share of the model's requests per bucket, stacked."
          rows={share}
          domain={domain}
          stacked={shown.map((v) => versionLine(v))}
          yLabel="share %"
          yFormat={(n) => formatPercent(n, 0)}
          yDomain={[0, 1]}
          empty={nothingShown ? hiddenEmpty : undefined}
        />
      </div>
    </div>
  );
}

/** 0 up to a little above the highest value (at least 1 %), never past 100 %. */
function fractionDomain(values: number[]): [number, number] {
  const top = values.length > 0 ? Math.max(...values) : 0;
  return [0, Math.min(1, Math.max(0.01, top * 1.15))];
}

/** The summary over the range, one row per version; the first cell toggles it in the charts. */
function VersionTable({
  data,
  visible,
  task,
  onToggle,
}: {
  data: MetricsSeriesView;
  visible: number[];
  task: "classification" | "regression" | "other";
  onToggle: (version: number) => void;
}) {
  const qualityLabel = task === "regression" ? "Live MAE" : "Live accuracy";
  const evalLabel = task === "regression" ? "Eval MAE" : "Eval accuracy";
  return (
    <div className="overflow-x-auto rounded-lg border border-border bg-card">
      <table className="w-full text-left text-[13px] leading-5" aria-label="Versions in range">
        <thead className="text-xs text-muted-foreground">
          <tr className="border-b border-border">
            <th className="px-3 py-1.5 font-medium">Version</th>
            <th className="px-3 py-1.5 text-right font-medium">Requests</th>
            <th className="px-3 py-1.5 text-right font-medium">Avg throughput</th>
            <th className="px-3 py-1.5 text-right font-medium">Peak</th>
            <th className="px-3 py-1.5 text-right font-medium" title="Answers with status 400–499">
              Client errors (4xx)
            </th>
            <th className="px-3 py-1.5 text-right font-medium" title="Answers with status 500–599">
              Server errors (5xx)
            </th>
            <th className="px-3 py-1.5 text-right font-medium">p50</th>
            <th className="px-3 py-1.5 text-right font-medium">p95</th>
            <th className="px-3 py-1.5 text-right font-medium">p99</th>
            {task !== "other" ? (
              <>
                <th className="px-3 py-1.5 text-right font-medium">{qualityLabel}</th>
                <th className="px-3 py-1.5 text-right font-medium">{evalLabel}</th>
              </>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {data.versions.map((v) => {
            const on = visible.includes(v.version);
            const s = v.summary;
            const quality = task === "regression" ? s?.mae : s?.accuracy;
            const evaluation = task === "regression" ? v.evaluation?.mae : v.evaluation?.accuracy;
            return (
              <tr
                key={v.version}
                className={cn("border-b border-border last:border-0", !on && "opacity-55")}
                data-testid={`monitoring-version-${v.version}`}
              >
                <td className="px-3 py-1.5">
                  <button
                    type="button"
                    aria-pressed={on}
                    aria-label={`Show v${v.version} in the charts`}
                    onClick={() => onToggle(v.version)}
                    className="inline-flex items-center gap-2 rounded-sm font-mono font-medium hover:underline"
                  >
                    <span
                      aria-hidden
                      className={cn("size-2.5 rounded-[3px] border-2")}
                      style={{
                        borderColor: versionColor(v.version),
                        background: on ? versionColor(v.version) : "transparent",
                      }}
                    />
                    v{v.version}
                  </button>
                  {v.aliases.map((a) => (
                    <Badge
                      key={a}
                      variant={
                        a === "production" ? "success" : a === "staging" ? "warning" : "outline"
                      }
                      className="ml-1.5"
                    >
                      {a}
                    </Badge>
                  ))}
                </td>
                <Num>{formatCount(s?.requests)}</Num>
                <Num>{formatRate(s?.throughput)}</Num>
                <Num>{formatRate(s?.maxThroughput)}</Num>
                <Num tone={s && s.clientErrorRate >= 0.01 ? "warn" : undefined}>
                  {formatShareOf(s?.clientErrors, s?.requests)}
                </Num>
                <Num tone={s && s.serverErrorRate >= 0.01 ? "bad" : undefined}>
                  {formatShareOf(s?.errors, s?.requests)}
                </Num>
                <Num>{formatMs(s?.latencyP50Ms)}</Num>
                <Num>{formatMs(s?.latencyP95Ms)}</Num>
                <Num>{formatMs(s?.latencyP99Ms)}</Num>
                {task !== "other" ? (
                  <>
                    <Num>
                      {formatMetricValue(quality)}
                      {s && s.labelled > 0 ? " " : null}
                      {s && s.labelled > 0 ? (
                        <span className="text-xs text-muted-foreground">
                          ({formatCount(s.labelled)} labelled)
                        </span>
                      ) : null}
                    </Num>
                    <Num>{formatMetricValue(evaluation)}</Num>
                  </>
                ) : null}
              </tr>
            );
          })}
          {data.unresolved ? (
            <UnresolvedRow unresolved={data.unresolved} task={task} model={data.model} />
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

/** Requests for an alias or version the serving process does not serve: no version's. */
function UnresolvedRow({
  unresolved,
  task,
  model,
}: {
  unresolved: NonNullable<MetricsSeriesView["unresolved"]>;
  task: "classification" | "regression" | "other";
  model: string;
}) {
  const s = unresolved.summary;
  return (
    <tr className="border-b border-border last:border-0" data-testid="monitoring-unresolved">
      <td
        className="px-3 py-1.5 text-muted-foreground"
        title={`Requests to /v2/models/${model}/… naming an alias or version that is not served (answered 404): they reached no version.`}
      >
        <div>No version</div>
        <div className="text-xs whitespace-nowrap">unknown alias or version</div>
      </td>
      <Num>{formatCount(s.requests)}</Num>
      <Num>—</Num>
      <Num>—</Num>
      <Num tone={s.clientErrorRate >= 0.01 ? "warn" : undefined}>
        {formatShareOf(s.clientErrors, s.requests)}
      </Num>
      <Num tone={s.serverErrorRate >= 0.01 ? "bad" : undefined}>
        {formatShareOf(s.errors, s.requests)}
      </Num>
      <Num>—</Num>
      <Num>—</Num>
      <Num>—</Num>
      {task !== "other" ? (
        <>
          <Num>—</Num>
          <Num>—</Num>
        </>
      ) : null}
    </tr>
  );
}

function Num({ children, tone }: { children: React.ReactNode; tone?: "warn" | "bad" }) {
  return (
    <td
      className={cn(
        "px-3 py-1.5 text-right font-mono whitespace-nowrap tabular-nums",
        tone === "warn" && "text-warning-subtle-foreground",
        tone === "bad" && "text-destructive",
      )}
    >
      {children}
    </td>
  );
}
