import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/evaluation";
import { getEvaluation } from "@/lib/evaluation";

export const GET = apiRoute(contracts.getEvaluation, async ({ db, params }) => ({
  evaluation: await getEvaluation(db, params.id),
}));
