import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { listPromotionRequests } from "@/lib/registry";

export const GET = apiRoute(contracts.listPromotionRequests, async ({ db, query }) =>
  listPromotionRequests(db, {
    status: query.status,
    modelName: query.model,
    page: query.page,
    pageSize: query.pageSize,
  }),
);
