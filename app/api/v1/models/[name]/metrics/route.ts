import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/monitoring";
import { getModelMetrics } from "@/lib/monitoring/series";

export const GET = apiRoute(contracts.getModelMetrics, async ({ db, params, query }) =>
  getModelMetrics(db, params.name, query),
);
