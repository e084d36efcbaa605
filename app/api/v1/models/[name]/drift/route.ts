import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/drift";
import { getModelDrift, parseDriftWindow } from "@/lib/monitoring/drift";

// The contract has checked `window` with the same parser, so it is not null here.
export const GET = apiRoute(contracts.getModelDrift, async ({ db, params, query }) =>
  getModelDrift(db, params.name, {
    windowMs: parseDriftWindow(query.window)!,
    version: query.version,
  }),
);
