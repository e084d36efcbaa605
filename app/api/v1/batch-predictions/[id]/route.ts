import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/batch";
import { getBatchPrediction } from "@/lib/batch/batch";

export const GET = apiRoute(contracts.getBatchPrediction, async ({ db, params }) => ({
  batchPrediction: await getBatchPrediction(db, params.id),
}));
