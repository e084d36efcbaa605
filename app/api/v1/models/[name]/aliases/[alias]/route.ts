import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { removeAlias } from "@/lib/registry";
import { promoteAlias } from "@/lib/registry/preflight";
import { getArtifactStore } from "@/lib/storage";

export const PUT = apiRoute(
  contracts.setAlias,
  async ({ db, principal, params, body, ipAddress, request }) =>
    promoteAlias(
      db,
      getArtifactStore(),
      actorOf(principal),
      {
        modelName: params.name,
        alias: params.alias,
        version: body.version,
        reason: body.reason ?? null,
        ...(body.expectedVersion !== undefined ? { expectedVersion: body.expectedVersion } : {}),
        override: body.override ?? false,
      },
      ipAddress,
      { signal: request.signal },
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
