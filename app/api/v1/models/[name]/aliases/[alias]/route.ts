import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { removeAlias, setAlias } from "@/lib/registry";

export const PUT = apiRoute(
  contracts.setAlias,
  async ({ db, principal, params, body, ipAddress }) =>
    setAlias(
      db,
      actorOf(principal),
      {
        modelName: params.name,
        alias: params.alias,
        version: body.version,
        reason: body.reason ?? null,
      },
      ipAddress,
    ),
);

export const DELETE = apiRoute(
  contracts.removeAlias,
  async ({ db, principal, params, query, ipAddress }) =>
    removeAlias(
      db,
      actorOf(principal),
      { modelName: params.name, alias: params.alias, reason: query.reason ?? null },
      ipAddress,
    ),
);
