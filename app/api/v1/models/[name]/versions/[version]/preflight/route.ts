import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { preflightVersion } from "@/lib/registry/preflight";
import { getArtifactStore } from "@/lib/storage";

export const POST = apiRoute(contracts.preflightVersion, async ({ db, params, request }) => ({
  preflight: await preflightVersion(
    db,
    getArtifactStore(),
    { modelName: params.name, version: params.version },
    { signal: request.signal },
  ),
}));
