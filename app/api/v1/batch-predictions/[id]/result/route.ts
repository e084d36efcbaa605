import { Readable } from "node:stream";
import { streamRoute } from "@/lib/api/route";
import { getBatchResult } from "@/lib/batch/batch";
import { getArtifactStore } from "@/lib/storage";

/** Downloads a succeeded batch prediction's CSV, streamed from the artifact store. */
export const GET = streamRoute("models:read", async ({ db, params }) => {
  const { view, key } = await getBatchResult(db, params.id!);
  const stream = await getArtifactStore().openRead(key);
  const filename = `${view.model}-v${view.version}-${view.dataset}-v${view.datasetVersion}-predictions.csv`;
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      ...(view.resultSizeBytes !== null ? { "content-length": String(view.resultSizeBytes) } : {}),
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "private, no-store",
    },
  });
});
