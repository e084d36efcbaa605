import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/batch";
import { actorOf } from "@/lib/auth/principal";
import { listBatchPredictions, submitBatchPrediction } from "@/lib/batch/batch";

export const GET = apiRoute(contracts.listBatchPredictions, async ({ db, params, query }) => ({
  batchPredictions: await listBatchPredictions(db, params.name, query),
}));

// 202: queued; a scheduler process scores it (lib/batch/poller.ts).
export const POST = apiRoute(
  contracts.submitBatchPrediction,
  async ({ db, principal, params, body, ipAddress }) => ({
    batchPrediction: await submitBatchPrediction(db, actorOf(principal), {
      modelName: params.name,
      datasetName: body.dataset,
      datasetVersion: body.datasetVersion,
      alias: body.alias,
      version: body.version,
      ipAddress,
    }),
  }),
);
