import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { listAliases } from "@/lib/registry";

export const GET = apiRoute(contracts.listAliases, async ({ db, params }) => ({
  aliases: await listAliases(db, params.name),
}));
