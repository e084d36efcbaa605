import { BatchPredictionsPanel } from "@/components/batch/batch-predictions-panel";
import { listBatchPredictions } from "@/lib/batch/batch";
import { getDataset, listDatasets } from "@/lib/datasets";
import type { PrismaClient } from "@/lib/db/generated/client";
import { listAliases, type ModelView } from "@/lib/registry";

/** The model page's Batch predictions section: submit a dataset for scoring, list, download. */
export async function BatchSection({
  db,
  model,
  canSubmit,
}: {
  db: PrismaClient;
  model: ModelView;
  canSubmit: boolean;
}) {
  const [batches, datasets, aliases] = await Promise.all([
    listBatchPredictions(db, model.name, { limit: 50 }),
    listDatasets(db),
    listAliases(db, model.name),
  ]);
  const choices = await Promise.all(
    datasets.map(async (d) => ({
      name: d.name,
      versions: (await getDataset(db, d.name)).versions.map((v) => v.version),
    })),
  );
  return (
    <section aria-labelledby="batch-heading" className="mb-6">
      <h2 id="batch-heading" className="mb-2 text-sm font-semibold">
        Batch predictions
      </h2>
      <BatchPredictionsPanel
        model={model.name}
        aliases={aliases.map((a) => ({ name: a.name, version: a.version }))}
        datasets={choices}
        initial={batches}
        canSubmit={canSubmit && model.task !== "other"}
      />
    </section>
  );
}
