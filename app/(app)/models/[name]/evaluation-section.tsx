import { EvaluationsPanel } from "@/components/evaluation/evaluations-panel";
import { GateCard } from "@/components/evaluation/gate-card";
import { MetricHistoryChart } from "@/components/evaluation/metric-history-chart";
import { listDatasets, getDataset } from "@/lib/datasets";
import type { PrismaClient } from "@/lib/db/generated/client";
import { getGate, getMetricHistory, listEvaluations } from "@/lib/evaluation";
import type { ModelView, VersionView } from "@/lib/registry";

/**
 * The model page's Evaluation section: evaluations (run one, list), the promotion gate, and
 * the chart of the gate's primary metric per version over time.
 */
export async function EvaluationSection({
  db,
  model,
  versions,
  canWrite,
}: {
  db: PrismaClient;
  model: ModelView;
  versions: VersionView[];
  canWrite: boolean;
}) {
  const [evaluations, gate, datasets, history] = await Promise.all([
    listEvaluations(db, model.name, { limit: 50 }),
    getGate(db, model.name),
    listDatasets(db),
    getMetricHistory(db, model.name),
  ]);
  const choices = await Promise.all(
    datasets.map(async (d) => ({
      name: d.name,
      versions: (await getDataset(db, d.name)).versions.map((v) => v.version),
    })),
  );
  return (
    <section aria-labelledby="evaluation-heading" className="mb-6">
      <h2 id="evaluation-heading" className="mb-2 text-sm font-semibold">
        Evaluation
      </h2>
      <EvaluationsPanel
        model={model.name}
        versions={versions.filter((v) => v.status === "ready").map((v) => v.version)}
        productionVersion={model.productionVersion}
        datasets={choices}
        initial={evaluations}
        primaryMetric={gate.primaryMetric}
        canRun={canWrite && model.task !== "other"}
        aside={<GateCard initial={gate} task={model.task} canEdit={canWrite} />}
      />
      <MetricHistoryChart history={history} className="mt-3" />
    </section>
  );
}
