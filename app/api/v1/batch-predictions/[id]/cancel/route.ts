import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/batch";
import { actorOf } from "@/lib/auth/principal";
import { cancelBatchPrediction } from "@/lib/batch/batch";

export const POST = apiRoute(
  contracts.cancelBatchPrediction,
  async ({ db, principal, params, ipAddress }) => ({
    batchPrediction: await cancelBatchPrediction(db, actorOf(principal), params.id, ipAddress),
  }),
);
