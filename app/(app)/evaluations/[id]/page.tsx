import Link from "next/link";
import { notFound } from "next/navigation";
import { AutoRefresh } from "@/components/evaluation/auto-refresh";
import { ConfusionMatrix } from "@/components/evaluation/confusion-matrix";
import {
  EvaluationStatusBadge,
  formatMetric,
  formatMs,
  formatRate,
} from "@/components/evaluation/format";
import { Time } from "@/components/time";
import { Alert } from "@/components/ui/alert";
import { PageHeader } from "@/components/ui/page-header";
import { Stat } from "@/components/ui/stat";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { ApiError } from "@/lib/api/errors";
import { getPrisma } from "@/lib/db/client";
import { getEvaluation, getGate, metricValue, METRICS, type MetricName } from "@/lib/evaluation";
import { requireUser } from "../../current-user";

export const metadata = { title: "Evaluation · ModelDeck" };

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const seconds = (from: string | null, to: string | null) =>
  from && to ? `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s` : "—";

export default async function EvaluationPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireUser(`/evaluations/${encodeURIComponent(id)}`);
  const db = getPrisma();
  const evaluation = await getEvaluation(db, id).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) notFound();
    throw error;
  });
  const gate = await getGate(db, evaluation.model);
  const e = evaluation;
  const modelHref = `/models/${encodeURIComponent(e.model)}`;
  const m = e.metrics;
  const active = e.status === "queued" || e.status === "running";
  const stat = (name: MetricName) => (
    <Stat
      key={name}
      label={METRICS[name].label}
      value={<span data-testid={`metric-${name}`}>{formatMetric(metricValue(m, name), name)}</span>}
      hint={
        <>
          {name === gate.primaryMetric ? <span className="text-accent">gate metric · </span> : null}
          {METRICS[name].direction === "higher" ? "higher is better" : "lower is better"}
        </>
      }
    />
  );

  return (
    <>
      <AutoRefresh active={active} />
      <PageHeader
        breadcrumbs={[
          { label: "Models", href: "/models" },
          { label: e.model, href: modelHref },
          { label: `Evaluation ${e.id.slice(0, 8)}` },
        ]}
        title={
          <>
            {e.model} v{e.version} on {e.dataset} v{e.datasetVersion}
          </>
        }
      >
        <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-[13px] text-muted-foreground">
          <EvaluationStatusBadge status={e.status} />
          <span>{e.task}</span>
          <span>{e.rowCount !== null ? `${e.rowCount} rows` : "rows not read yet"}</span>
          <span>
            {e.trigger === "job" ? "by a refresh job" : "started"} by {e.triggeredBy.label} ·{" "}
            <Time value={e.createdAt} />
          </span>
          <span>took {seconds(e.startedAt ?? e.createdAt, e.finishedAt)}</span>
          <Link href={`${modelHref}/versions/${e.version}`} className="text-accent hover:underline">
            version v{e.version}
          </Link>
          <Link
            href={`/datasets/${encodeURIComponent(e.dataset)}?version=${e.datasetVersion}`}
            className="text-accent hover:underline"
          >
            dataset {e.dataset} v{e.datasetVersion}
          </Link>
        </div>
      </PageHeader>

      {e.status === "failed" ? (
        <Alert variant="error" className="mb-6" data-testid="evaluation-failure">
          The evaluation failed: {e.error}
        </Alert>
      ) : null}
      {active ? (
        <Alert variant="info" className="mb-6">
          This evaluation is {e.status}; the page updates by itself.
        </Alert>
      ) : null}

      {m?.kind === "classification" ? (
        <>
          <section aria-labelledby="quality-heading" className="mb-6">
            <h2 id="quality-heading" className="mb-2 text-sm font-semibold">
              Quality
            </h2>
            <div className="grid gap-3 sm:grid-cols-3 xl:grid-cols-6">
              {(
                [
                  "accuracy",
                  "f1Macro",
                  "precisionMacro",
                  "recallMacro",
                  "logLoss",
                  "rocAuc",
                ] as const
              ).map(stat)}
            </div>
          </section>
          <div className="mb-6 grid gap-6 xl:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
            <section aria-labelledby="cm-heading" className="min-w-0">
              <h2 id="cm-heading" className="mb-2 text-sm font-semibold">
                Confusion matrix
              </h2>
              <ConfusionMatrix matrix={m.confusionMatrix} />
            </section>
            <section aria-labelledby="classes-heading" className="min-w-0">
              <h2 id="classes-heading" className="mb-2 text-sm font-semibold">
                Per class
              </h2>
              <Table aria-label="Per-class metrics">
                <THead>
                  <TR>
                    <TH>Class</TH>
                    <TH align="right">Precision</TH>
                    <TH align="right">Recall</TH>
                    <TH align="right">F1</TH>
                    <TH align="right">True rows</TH>
                    <TH align="right">Predicted</TH>
                  </TR>
                </THead>
                <TBody>
                  {m.perClass.map((c) => (
                    <TR key={c.label}>
                      <TD mono>{c.label}</TD>
                      <TD numeric>{pct(c.precision)}</TD>
                      <TD numeric>{pct(c.recall)}</TD>
                      <TD numeric>{pct(c.f1)}</TD>
                      <TD numeric muted>
                        {c.support}
                      </TD>
                      <TD numeric muted>
                        {c.predicted}
                      </TD>
                    </TR>
                  ))}
                </TBody>
              </Table>
              <p className="mt-2 text-xs text-muted-foreground">
                Macro averages are over the classes that occur in the labels or the predictions. A
                class with no predicted (or no true) rows has precision (or recall) 0.
              </p>
            </section>
          </div>
        </>
      ) : m?.kind === "regression" ? (
        <section aria-labelledby="quality-heading" className="mb-6">
          <h2 id="quality-heading" className="mb-2 text-sm font-semibold">
            Quality
          </h2>
          <div className="grid gap-3 sm:grid-cols-4">
            {(["mae", "rmse", "mse", "r2"] as const).map(stat)}
          </div>
        </section>
      ) : null}

      {e.latency ? (
        <section aria-labelledby="latency-heading" className="mb-6">
          <h2 id="latency-heading" className="mb-2 text-sm font-semibold">
            Latency and throughput{" "}
            <span className="font-normal text-muted-foreground">
              in the evaluation process, one onnxruntime thread
            </span>
          </h2>
          <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-5" data-testid="latency">
            <Stat
              label="p50 at batch 1"
              value={formatMs(e.latency.batch1.p50Ms)}
              hint={`${e.latency.batch1.runs} single-row runs`}
            />
            <Stat
              label="p95 at batch 1"
              value={formatMs(e.latency.batch1.p95Ms)}
              hint={
                gate.maxLatencyRegressionPct !== null
                  ? `gate allows +${gate.maxLatencyRegressionPct}% over production`
                  : "what the gate compares"
              }
            />
            <Stat
              label="p99 at batch 1"
              value={formatMs(e.latency.batch1.p99Ms)}
              hint={`max ${formatMs(e.latency.batch1.maxMs)}`}
            />
            <Stat label="mean at batch 1" value={formatMs(e.latency.batch1.meanMs)} />
            <Stat
              label={`Throughput at batch ${e.latency.batched.batchSize}`}
              value={formatRate(e.latency.batched.rowsPerSecond).replace(" rows/s", "")}
              unit="rows/s"
              hint={`${e.latency.batched.rows} rows in ${formatMs(e.latency.batched.seconds * 1000)}`}
            />
          </div>
          {e.latency.notes && e.latency.notes.length > 0 ? (
            <ul className="mt-2 list-disc pl-5 text-xs text-muted-foreground">
              {e.latency.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          ) : null}
        </section>
      ) : null}
    </>
  );
}
