"use client";

import Link from "next/link";
import { useState } from "react";
import { DownloadIcon, SendIcon } from "lucide-react";
import { usePollWhile } from "@/components/use-poll-while";
import { apiFetch, ApiClientError } from "@/components/api-client";
import { Time } from "@/components/time";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DatasetPicker, type DatasetChoice } from "@/components/datasets/dataset-picker";
import { Field } from "@/components/ui/field";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import type { BatchPredictionStatus, BatchPredictionView } from "@/lib/batch/batch";
import { formatBytes } from "@/lib/format";

export type { DatasetChoice as BatchDatasetChoice } from "@/components/datasets/dataset-picker";
export type BatchAliasChoice = { name: string; version: number };

/** While any batch prediction is queued or running, the list is re-read this often. */
const ACTIVE_REFRESH_MS = 1_000;

const statusVariant: Record<
  BatchPredictionStatus,
  "neutral" | "accent" | "success" | "destructive"
> = {
  queued: "neutral",
  running: "accent",
  succeeded: "success",
  failed: "destructive",
  cancelled: "neutral",
};

const rows = (n: number) => new Intl.NumberFormat("en-US").format(n);

function Progress({ b }: { b: BatchPredictionView }) {
  const pct = Math.round(b.progress * 100);
  return (
    <div className="flex min-w-32 items-center gap-2">
      <div
        role="progressbar"
        aria-label={`Progress of batch prediction ${b.id}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        className="h-1.5 flex-1 overflow-hidden rounded-full bg-muted"
      >
        <div
          className={b.status === "failed" ? "h-full bg-destructive" : "h-full bg-accent"}
          style={{ width: `${pct}%` }}
        />
      </div>
      <span className="w-10 text-right font-mono text-xs tabular-nums" data-testid="batch-progress">
        {pct} %
      </span>
    </div>
  );
}

/**
 * The model page's batch predictions: a form to score a dataset with the version an alias
 * points at (queued for a scheduler), and the list with progress, polled every second while
 * any is queued or running, and the CSV download once done.
 */
export function BatchPredictionsPanel({
  model,
  aliases,
  datasets,
  initial,
  canSubmit,
}: {
  model: string;
  aliases: BatchAliasChoice[];
  datasets: DatasetChoice[];
  initial: BatchPredictionView[];
  canSubmit: boolean;
}) {
  const [list, setList] = useState(initial);
  const [alias, setAlias] = useState(
    aliases.find((a) => a.name === "production")?.name ?? aliases[0]?.name ?? "",
  );
  const [dataset, setDataset] = useState(datasets[0]?.name ?? "");
  const [datasetVersion, setDatasetVersion] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const base = `/api/v1/models/${encodeURIComponent(model)}/batch-predictions`;
  const active = list.some((b) => b.status === "queued" || b.status === "running");

  usePollWhile<{ batchPredictions: BatchPredictionView[] }>(
    active,
    `${base}?limit=50`,
    ACTIVE_REFRESH_MS,
    (r) => setList(r.batchPredictions),
  );

  async function cancel(id: string) {
    setError(null);
    try {
      const { batchPrediction } = await apiFetch<{ batchPrediction: BatchPredictionView }>(
        `/api/v1/batch-predictions/${id}/cancel`,
        { method: "POST" },
      );
      setList((l) => l.map((b) => (b.id === id ? batchPrediction : b)));
    } catch (e) {
      setError(e instanceof ApiClientError ? e.message : String(e));
    }
  }

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { batchPrediction } = await apiFetch<{ batchPrediction: BatchPredictionView }>(base, {
        method: "POST",
        body: {
          dataset,
          alias,
          ...(datasetVersion ? { datasetVersion: Number(datasetVersion) } : {}),
        },
      });
      setList((l) => [batchPrediction, ...l]);
    } catch (e) {
      setError(e instanceof ApiClientError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="grid content-start gap-3">
      {canSubmit ? (
        datasets.length === 0 || aliases.length === 0 ? (
          <p className="rounded-lg border border-dashed border-border px-4 py-3 text-sm text-muted-foreground">
            {aliases.length === 0 ? (
              "No alias points at a version of this model yet."
            ) : (
              <>
                No datasets yet.{" "}
                <Link href="/datasets" className="text-accent hover:underline">
                  Upload one
                </Link>{" "}
                to score it in bulk.
              </>
            )}
          </p>
        ) : (
          <form
            onSubmit={submit}
            aria-label="Submit a batch prediction"
            className="grid items-end gap-3 rounded-lg border border-border bg-card p-3 sm:grid-cols-[auto_1fr_auto_auto]"
          >
            <Field label="Alias">
              <NativeSelect
                value={alias}
                onChange={(e) => setAlias(e.target.value)}
                disabled={busy}
              >
                {aliases.map((a) => (
                  <option key={a.name} value={a.name}>
                    {a.name} (v{a.version})
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
            <Button type="submit" variant="primary" loading={busy} disabled={!alias || !dataset}>
              <SendIcon aria-hidden /> Submit
            </Button>
          </form>
        )
      ) : null}
      {error ? (
        <Alert variant="error" role="alert" data-testid="batch-error">
          {error}
        </Alert>
      ) : null}
      <p className="text-xs text-muted-foreground">
        A batch prediction scores every row of a dataset with the version the alias points at when
        you submit, in a scheduler process. The CSV has the row number, the feature columns and the
        prediction (for classifiers, the label and one probability column per class).
      </p>
      <Table aria-label="Batch predictions">
        <THead>
          <TR>
            <TH>Version</TH>
            <TH>Dataset</TH>
            <TH>Status</TH>
            <TH>Progress</TH>
            <TH align="right">Rows</TH>
            <TH>Submitted</TH>
            <TH>By</TH>
            <TH align="right">Result</TH>
          </TR>
        </THead>
        <TBody>
          {list.length === 0 ? (
            <TEmptyRow colSpan={8}>No batch predictions yet.</TEmptyRow>
          ) : (
            list.map((b) => (
              <TR key={b.id} data-testid="batch-row">
                <TD mono>
                  v{b.version}
                  {b.alias ? <span className="text-muted-foreground"> ({b.alias})</span> : null}
                </TD>
                <TD mono>
                  {b.dataset} v{b.datasetVersion}
                </TD>
                <TD>
                  <Badge variant={statusVariant[b.status]} dot data-testid="batch-status">
                    {b.status}
                  </Badge>
                  {b.status === "failed" && b.error ? (
                    <div className="max-w-64 truncate text-xs text-destructive" title={b.error}>
                      {b.error}
                    </div>
                  ) : null}
                </TD>
                <TD>
                  <Progress b={b} />
                </TD>
                <TD align="right" mono>
                  {rows(b.rowsDone)} / {rows(b.rowsTotal)}
                </TD>
                <TD>
                  <Time value={b.createdAt} />
                </TD>
                <TD className="max-w-40 truncate" title={b.createdBy.label}>
                  {b.createdBy.label}
                </TD>
                <TD align="right">
                  {b.resultUrl ? (
                    <a
                      href={b.resultUrl}
                      download
                      title={
                        b.resultSizeBytes !== null ? formatBytes(b.resultSizeBytes) : undefined
                      }
                      className="inline-flex items-center gap-1 text-accent hover:underline"
                      data-testid="batch-download"
                    >
                      <DownloadIcon aria-hidden className="size-3.5" /> CSV
                    </a>
                  ) : canSubmit && (b.status === "queued" || b.status === "running") ? (
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => void cancel(b.id)}
                      aria-label={`Cancel batch prediction of ${b.dataset} v${b.datasetVersion}`}
                    >
                      Cancel
                    </Button>
                  ) : (
                    <span className="text-muted-foreground">—</span>
                  )}
                </TD>
              </TR>
            ))
          )}
        </TBody>
      </Table>
    </div>
  );
}
