import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { createModel, listModels } from "@/lib/registry";

export const GET = apiRoute(contracts.listModels, async ({ db, query }) => listModels(db, query));

export const POST = apiRoute(contracts.createModel, async ({ db, principal, body, ipAddress }) => ({
  model: await createModel(db, actorOf(principal), body, ipAddress),
}));
