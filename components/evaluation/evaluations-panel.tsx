"use client";

import Link from "next/link";
import { useState } from "react";
import { PlayIcon } from "lucide-react";
import { usePollWhile } from "@/components/use-poll-while";
import { apiFetch, ApiClientError } from "@/components/api-client";
import { Time } from "@/components/time";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DatasetPicker, type DatasetChoice } from "@/components/datasets/dataset-picker";
import { Field } from "@/components/ui/field";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import { metricValue, type MetricName } from "@/lib/evaluation/metrics";
import type { EvaluationView } from "@/lib/evaluation/types";
import { EvaluationStatusBadge, formatMetric, formatMs, metricLabel } from "./format";

export type { DatasetChoice } from "@/components/datasets/dataset-picker";

const ACTIVE_REFRESH_MS = 1_500;

/**
 * The model page's evaluations: a form to score a version on a dataset (operators), and the
 * list with status and the gate's primary metric, refreshed while any evaluation runs.
 */
export function EvaluationsPanel({
  model,
  versions,
  productionVersion,
  datasets,
  initial,
  primaryMetric,
  canRun,
  aside,
}: {
  model: string;
  versions: number[];
  productionVersion: number | null;
  datasets: DatasetChoice[];
  initial: EvaluationView[];
  primaryMetric: MetricName;
  canRun: boolean;
  /** Shown beside the run form (the gate card). */
  aside?: React.ReactNode;
}) {
  const [evaluations, setEvaluations] = useState(initial);
  const [version, setVersion] = useState(String(productionVersion ?? versions[0] ?? ""));
  const [dataset, setDataset] = useState(datasets[0]?.name ?? "");
  const [datasetVersion, setDatasetVersion] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const base = `/api/v1/models/${encodeURIComponent(model)}/evaluations`;
  const active = evaluations.some((e) => e.status === "queued" || e.status === "running");

  usePollWhile<{ evaluations: EvaluationView[] }>(
    active,
    `${base}?limit=50`,
    ACTIVE_REFRESH_MS,
    (r) => setEvaluations(r.evaluations),
  );

  async function run(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { evaluation } = await apiFetch<{ evaluation: EvaluationView }>(base, {
        method: "POST",
        body: {
          version: Number(version),
          dataset,
          ...(datasetVersion ? { datasetVersion: Number(datasetVersion) } : {}),
        },
      });
      setEvaluations((list) => [evaluation, ...list]);
    } catch (e) {
      setError(e instanceof ApiClientError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="grid content-start gap-3">
      <div className="grid items-start gap-3 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div className="grid min-w-0 content-start gap-3">
          {canRun ? (
            datasets.length === 0 ? (
              <p className="rounded-lg border border-dashed border-border px-4 py-3 text-sm text-muted-foreground">
                No datasets yet.{" "}
                <Link href="/datasets" className="text-accent hover:underline">
                  Upload one
                </Link>{" "}
                to evaluate this model&apos;s versions on it.
              </p>
            ) : (
              <form
                onSubmit={run}
                aria-label="Run an evaluation"
                className="grid items-end gap-3 rounded-lg border border-border bg-card p-3 sm:grid-cols-[auto_1fr_auto_auto]"
              >
                <Field label="Version">
                  <NativeSelect
                    value={version}
                    onChange={(e) => setVersion(e.target.value)}
                    disabled={busy}
                  >
                    {versions.map((v) => (
                      <option key={v} value={v}>
                        v{v}
                        {v === productionVersion ? " (production)" : ""}
                      </option>
                    ))}
                  </NativeSelect>
                </Field>
                <DatasetPicker
                  datasets={datasets}
                  dataset={dataset}
                  datasetVersion={datasetVersion}
                  onDatasetChange={setDataset}
                  onDatasetVersionChange={setDatasetVersion}
                  disabled={busy}
                />
                <Button
                  type="submit"
                  variant="primary"
                  loading={busy}
                  disabled={!version || !dataset}
                >
                  <PlayIcon aria-hidden /> Evaluate
                </Button>
              </form>
            )
          ) : null}
          {error ? (
            <Alert variant="error" role="alert" data-testid="evaluation-error">
              {error}
            </Alert>
          ) : null}
          <p className="text-xs text-muted-foreground">
            An evaluation scores every row in a separate process (in batches of 512 when the model
            takes any batch size; the first few thousand at 64, timed for the throughput figure),
            then times 300 to 1,000 single-row runs for the latency percentiles. Refresh jobs
            evaluate candidates the same way and promote one only when it passes the gate.
          </p>
        </div>
        {aside ? <div className="min-w-0">{aside}</div> : null}
      </div>
      <Table aria-label="Evaluations">
        <THead>
          <TR>
            <TH>Version</TH>
            <TH>Dataset</TH>
            <TH>Status</TH>
            <TH align="right">{metricLabel(primaryMetric)}</TH>
            <TH align="right">p95 (batch 1)</TH>
            <TH align="right">Rows</TH>
            <TH>Started</TH>
            <TH>By</TH>
          </TR>
        </THead>
        <TBody>
          {evaluations.length === 0 ? (
            <TEmptyRow colSpan={8}>No evaluations yet.</TEmptyRow>
          ) : (
            evaluations.map((e) => (
              <TR key={e.id} data-testid="evaluation-row">
                <TD>
                  <Link
                    href={`/evaluations/${e.id}`}
                    className="font-mono font-medium text-accent hover:underline"
                  >
                    v{e.version}
                  </Link>
                </TD>
                <TD mono>
                  {e.dataset} v{e.datasetVersion}
                </TD>
                <TD>
                  <EvaluationStatusBadge status={e.status} />
                  {e.status === "failed" && e.error ? (
                    <div className="max-w-64 truncate text-xs text-destructive" title={e.error}>
                      {e.error}
                    </div>
                  ) : null}
                </TD>
                <TD numeric data-testid="evaluation-primary">
                  {formatMetric(metricValue(e.metrics, primaryMetric), primaryMetric)}
                </TD>
                <TD numeric muted>
                  {formatMs(e.latency?.batch1.p95Ms)}
                </TD>
                <TD numeric muted>
                  {e.rowCount ?? "—"}
                </TD>
                <TD muted>
                  <Time value={e.createdAt} />
                </TD>
                <TD muted>
                  {e.trigger === "job" ? `job · ${e.triggeredBy.label}` : e.triggeredBy.label}
                </TD>
              </TR>
            ))
          )}
        </TBody>
      </Table>
    </div>
  );
}
