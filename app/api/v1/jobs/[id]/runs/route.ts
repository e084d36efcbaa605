import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/jobs";
import { listRuns } from "@/lib/jobs";

export const GET = apiRoute(contracts.listJobRuns, async ({ db, params, query }) =>
  listRuns(db, params.id, query),
);
