import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { rollbackAlias } from "@/lib/registry";

export const POST = apiRoute(
  contracts.rollbackAlias,
  async ({ db, principal, params, body, ipAddress }) =>
    rollbackAlias(
      db,
      actorOf(principal),
      {
        ...(body.expectedVersion !== undefined ? { expectedVersion: body.expectedVersion } : {}),
        ...("previous" in body
          ? {
              modelName: params.name,
              alias: params.alias,
              previous: true,
              reason: body.reason ?? null,
            }
          : {
              modelName: params.name,
              alias: params.alias,
              toHistoryEntryId: body.toHistoryEntryId,
              reason: body.reason ?? null,
            }),
      },
      ipAddress,
    ),
);
