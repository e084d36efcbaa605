import { apiRoute, streamRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { getConfig } from "@/lib/config";
import { listVersions } from "@/lib/registry";
import { uploadVersion } from "@/lib/registry/upload";
import { getArtifactStore } from "@/lib/storage";

export const GET = apiRoute(contracts.listVersions, async ({ db, params, query }) => ({
  versions: await listVersions(db, params.name, query),
}));

// Streams the body (multipart or raw) to the artifact store; never buffered.
export const POST = streamRoute(
  "models:write",
  async ({ db, principal, params, request, ipAddress }) => {
    const version = await uploadVersion(db, getArtifactStore(), actorOf(principal), {
      modelName: params.name!,
      request,
      maxBytes: getConfig().maxUploadBytes,
      ipAddress,
    });
    return Response.json({ version }, { status: 201, headers: { "cache-control": "no-store" } });
  },
);
