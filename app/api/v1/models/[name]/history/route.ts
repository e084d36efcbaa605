import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { getAliasHistory } from "@/lib/registry";

export const GET = apiRoute(contracts.modelHistory, async ({ db, params, query }) => ({
  history: await getAliasHistory(db, params.name, undefined, query),
}));
