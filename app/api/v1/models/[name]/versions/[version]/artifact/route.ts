import { Readable } from "node:stream";
import { streamRoute } from "@/lib/api/route";
import { getVersion, parseVersionNumber } from "@/lib/registry";
import { getArtifactStore } from "@/lib/storage";

/** Downloads the ONNX file (authorized like any read), streamed from the artifact store. */
export const GET = streamRoute("models:read", async ({ db, params }) => {
  const version = await getVersion(db, params.name!, parseVersionNumber(params.version!));
  const stream = await getArtifactStore().openRead(version.storageKey);
  const filename = `${version.model}-v${version.version}.onnx`;
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(version.sizeBytes),
      "content-disposition": `attachment; filename="${filename}"`,
      etag: `"sha256-${version.sha256}"`,
      "x-content-sha256": version.sha256,
      "cache-control": "private, max-age=31536000, immutable",
    },
  });
});
