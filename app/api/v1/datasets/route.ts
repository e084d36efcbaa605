import { apiRoute, streamRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/evaluation";
import { actorOf } from "@/lib/auth/principal";
import { listDatasets, uploadDataset } from "@/lib/datasets";
import { getArtifactStore } from "@/lib/storage";

export const GET = apiRoute(contracts.listDatasets, async ({ db }) => ({
  datasets: await listDatasets(db),
}));

// Streams the body (multipart or raw) to the artifact store; never buffered.
export const POST = streamRoute("models:write", async ({ db, principal, request, ipAddress }) => {
  const result = await uploadDataset(db, getArtifactStore(), actorOf(principal), {
    request,
    ipAddress,
  });
  return Response.json(result, { status: 201, headers: { "cache-control": "no-store" } });
});
