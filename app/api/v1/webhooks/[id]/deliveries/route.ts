import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/notifications";
import { listDeliveries } from "@/lib/notifications";

export const GET = apiRoute(contracts.listWebhookDeliveries, async ({ db, params, query }) =>
  listDeliveries(db, params.id, {
    limit: query.limit,
    before: query.before ? new Date(query.before) : undefined,
    status: query.status,
  }),
);
