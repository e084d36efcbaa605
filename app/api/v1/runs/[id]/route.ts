import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/jobs";
import { getRun } from "@/lib/jobs";

export const GET = apiRoute(contracts.getRun, async ({ db, params, query }) => ({
  run: await getRun(db, params.id, query),
}));
