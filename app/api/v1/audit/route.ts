import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/identity";
import { listAuditEntries } from "@/lib/audit";

export const GET = apiRoute(contracts.listAudit, async ({ db, query }) =>
  listAuditEntries(
    db,
    {
      actor: query.actor,
      action: query.action,
      resourceType: query.resourceType,
      resourceId: query.resourceId,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
    },
    { page: query.page, pageSize: query.pageSize },
  ),
);
