import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { setSampleRequest } from "@/lib/registry";
import { getArtifactStore } from "@/lib/storage";

export const PUT = apiRoute(
  contracts.setSampleRequest,
  async ({ db, principal, params, body, ipAddress }) => ({
    version: await setSampleRequest(
      db,
      getArtifactStore(),
      actorOf(principal),
      { modelName: params.name, version: params.version, sampleRequest: body.sampleRequest },
      ipAddress,
    ),
  }),
);

export const DELETE = apiRoute(
  contracts.clearSampleRequest,
  async ({ db, principal, params, ipAddress }) => ({
    version: await setSampleRequest(
      db,
      getArtifactStore(),
      actorOf(principal),
      { modelName: params.name, version: params.version, sampleRequest: null },
      ipAddress,
    ),
  }),
);
