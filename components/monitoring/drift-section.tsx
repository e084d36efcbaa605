"use client";

import { useEffect, useState } from "react";
import { RefreshCwIcon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { Time } from "@/components/time";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  Card,
  CardActions,
  CardContent,
  CardDescription,
  CardHeader,
  CardHeading,
  CardTitle,
} from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { Spinner } from "@/components/ui/spinner";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { DriftResult, DriftSnapshotView } from "@/lib/monitoring/drift";
import type { FeatureDrift } from "@/lib/monitoring/drift-stats";
import { DriftScoreChart } from "./drift-chart";

type DriftResponse = { drift: DriftResult; history: DriftSnapshotView[] };

const WINDOWS = [
  { value: "15m", label: "Last 15 min" },
  { value: "1h", label: "Last 1 h" },
  { value: "6h", label: "Last 6 h" },
  { value: "24h", label: "Last 24 h" },
  { value: "7d", label: "Last 7 d" },
];
const REFRESH_MS = 30_000;

const BASIS = {
  version: "the latest succeeded evaluation of this version",
  production: "the latest succeeded evaluation of production's version",
  latest: "the latest succeeded evaluation of any version (production's version has none)",
} as const;

/**
 * The model page's drift section: served inputs over a window compared with the dataset the
 * model was evaluated on, one row per feature, and the stored score over the last day.
 * Measured on request (GET /api/v1/models/{name}/drift) and refreshed every 30 s.
 */
export function DriftSection({ model, versions }: { model: string; versions: number[] }) {
  const [window, setWindow] = useState("1h");
  const [version, setVersion] = useState("");
  const [state, setState] = useState<{
    url: string;
    data: DriftResponse | null;
    error: string | null;
  } | null>(null);
  const [refreshes, setRefreshes] = useState(0);
  const [refreshing, setRefreshing] = useState(false);
  const url = `/api/v1/models/${encodeURIComponent(model)}/drift?window=${window}${version ? `&version=${version}` : ""}`;

  useEffect(() => {
    let stopped = false;
    const measure = () =>
      apiFetch<DriftResponse>(url).then(
        (data) => {
          if (stopped) return;
          setState({ url, data, error: null });
          setRefreshing(false);
        },
        (e: unknown) => {
          if (stopped) return;
          setState((s) => ({ url, data: s?.data ?? null, error: (e as Error).message }));
          setRefreshing(false);
        },
      );
    void measure();
    const timer = setInterval(() => void measure(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [url, refreshes]);

  const loading = refreshing || state?.url !== url;
  const data = state?.data ?? null;
  const error = state?.error ?? null;
  const drift = data?.drift;
  return (
    <section aria-labelledby="drift-heading" className="mb-6" data-testid="drift-section">
      <h2 id="drift-heading" className="mb-2 text-sm font-semibold">
        Drift
      </h2>
      <div className="grid gap-4">
        <Card>
          <CardHeader>
            <CardHeading>
              <CardTitle>Input drift per feature</CardTitle>
              <CardDescription>
                {drift?.reference ? (
                  <>
                    Sampled served inputs compared with dataset{" "}
                    <span className="font-mono text-foreground">
                      {drift.reference.dataset} v{drift.reference.datasetVersion}
                    </span>{" "}
                    ({drift.reference.rowCount.toLocaleString("en-US")} rows), the reference from{" "}
                    {BASIS[drift.reference.basis]} (v{drift.reference.evaluatedVersion},{" "}
                    <Time value={drift.reference.evaluatedAt} />
                    ).
                  </>
                ) : (
                  "Sampled served inputs compared with the dataset the model was evaluated on."
                )}
              </CardDescription>
            </CardHeading>
            <CardActions className="flex-wrap">
              <Label htmlFor="drift-version" className="sr-only">
                Versions
              </Label>
              <NativeSelect
                id="drift-version"
                value={version}
                onChange={(e) => setVersion(e.target.value)}
                className="w-36"
              >
                <option value="">All versions</option>
                {versions.map((v) => (
                  <option key={v} value={String(v)}>
                    Version {v}
                  </option>
                ))}
              </NativeSelect>
              <Label htmlFor="drift-window" className="sr-only">
                Window
              </Label>
              <NativeSelect
                id="drift-window"
                value={window}
                onChange={(e) => setWindow(e.target.value)}
                className="w-32"
              >
                {WINDOWS.map((w) => (
                  <option key={w.value} value={w.value}>
                    {w.label}
                  </option>
                ))}
              </NativeSelect>
              <Button
                variant="outline"
                size="icon"
                onClick={() => {
                  setRefreshing(true);
                  setRefreshes((n) => n + 1);
                }}
                loading={loading}
                aria-label="Measure again"
                title="Measure again"
              >
                <RefreshCwIcon aria-hidden />
              </Button>
            </CardActions>
          </CardHeader>
          <CardContent className="grid gap-3">
            {error ? (
              <Alert variant="error" role="alert">
                {error}
              </Alert>
            ) : null}
            {!drift ? (
              error ? null : (
                <p className="flex items-center gap-2 py-6 text-sm text-muted-foreground">
                  <Spinner size="sm" label={null} /> Measuring drift…
                </p>
              )
            ) : drift.problem ? (
              <EmptyState
                bordered
                headingLevel="h3"
                title="No reference yet"
                description={drift.problem}
              />
            ) : (
              <>
                <DriftSummaryLine drift={drift} />
                <DriftTable features={drift.features} minRows={drift.minSampleRows} />
              </>
            )}
          </CardContent>
        </Card>
        {data ? <DriftScoreChart history={data.history} /> : null}
      </div>
    </section>
  );
}

function DriftSummaryLine({ drift }: { drift: DriftResult }) {
  const { sample } = drift;
  return (
    <div
      className="flex flex-wrap items-center gap-x-4 gap-y-1 text-[13px]"
      data-testid="drift-summary"
    >
      <span className="flex items-center gap-2">
        <span className="text-muted-foreground">Drift score</span>
        {drift.score === null ? (
          <Badge variant="neutral">not enough data</Badge>
        ) : (
          <>
            <span className="font-mono text-base font-semibold tabular-nums">
              {Math.round(drift.score * 100)}%
            </span>
            <Badge variant={drift.driftedFeatures > 0 ? "destructive" : "success"} dot>
              {drift.driftedFeatures} of {drift.measuredFeatures} feature
              {drift.measuredFeatures === 1 ? "" : "s"} drifted
            </Badge>
          </>
        )}
      </span>
      <span className="text-muted-foreground">
        {sample.requests.toLocaleString("en-US")} sampled request
        {sample.requests === 1 ? "" : "s"} · {sample.rows.toLocaleString("en-US")} row
        {sample.rows === 1 ? "" : "s"} in the window
        {drift.version !== null ? ` (v${drift.version})` : ""}
        {sample.truncated ? " · newest 10,000 requests used" : ""}
        {sample.skipped > 0
          ? ` · ${sample.skipped} request${sample.skipped === 1 ? "" : "s"} did not match the mapping`
          : ""}
      </span>
    </div>
  );
}

const fmt = (v: number, digits = 3) =>
  Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(digits)).toString();
const fmtP = (p: number) => (p < 0.001 ? "< 0.001" : p.toFixed(3));

const STATUS = {
  ok: { label: "stable", variant: "success" },
  drifted: { label: "drifted", variant: "destructive" },
  insufficient_data: { label: "not enough data", variant: "neutral" },
} as const;

function DriftTable({ features, minRows }: { features: FeatureDrift[]; minRows: number }) {
  return (
    <Table aria-label="Drift per feature">
      <THead>
        <TR>
          <TH>Feature</TH>
          <TH>Statistic</TH>
          <TH align="right">Score</TH>
          <TH align="right">Threshold</TH>
          <TH>Status</TH>
          <TH align="right">Supporting test</TH>
          <TH align="right">Mean ref → now</TH>
          <TH align="right">Reference n</TH>
          <TH align="right">Current n</TH>
        </TR>
      </THead>
      <TBody>
        {features.map((f) => {
          const status = STATUS[f.status];
          return (
            <TR key={f.feature} data-testid={`drift-row-${f.feature}`} data-status={f.status}>
              <TD mono>
                {f.feature}
                <span className="ml-1.5 font-sans text-xs text-muted-foreground">{f.kind}</span>
              </TD>
              <TD>{f.statistic === "psi" ? "PSI" : "χ² p-value"}</TD>
              <TD numeric className="font-mono">
                {f.score === null
                  ? "—"
                  : f.statistic === "psi"
                    ? f.score.toFixed(3)
                    : fmtP(f.score)}
              </TD>
              <TD numeric muted>
                {f.statistic === "psi" ? `≥ ${f.threshold}` : `< ${f.threshold}`}
              </TD>
              <TD>
                <Badge
                  variant={status.variant}
                  title={
                    f.status === "insufficient_data"
                      ? `Fewer than ${minRows} values in the window (or in the reference)`
                      : undefined
                  }
                >
                  {status.label}
                </Badge>
              </TD>
              <TD numeric muted className="whitespace-nowrap">
                {f.ks
                  ? `KS D ${fmt(f.ks.statistic)} · p ${fmtP(f.ks.pValue)}`
                  : f.chiSquare
                    ? `χ² ${fmt(f.chiSquare.statistic)} · ${f.chiSquare.dof} dof`
                    : "—"}
              </TD>
              <TD numeric muted className="whitespace-nowrap">
                {f.referenceMean !== null && f.currentMean !== null
                  ? `${fmt(f.referenceMean)} → ${fmt(f.currentMean)}`
                  : "—"}
              </TD>
              <TD numeric>{f.referenceRows.toLocaleString("en-US")}</TD>
              <TD numeric>{f.currentRows.toLocaleString("en-US")}</TD>
            </TR>
          );
        })}
      </TBody>
    </Table>
  );
}
