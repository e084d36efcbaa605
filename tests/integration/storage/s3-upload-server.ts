/**
 * The upload route's core (readUpload, then commit) on a node:http server, in a process of
 * its own so that a test can measure this process's memory alone. The store comes from the
 * environment exactly as in ModelDeck's processes (MODELDECK_ARTIFACT_STORE, AWS_*).
 * Prints `UPLOAD_READY <port>`.
 */
import { loadConfig } from "../../../lib/config";
import { createArtifactStore } from "../../../lib/storage";
import { startUploadServer } from "./harness";

const config = loadConfig();
const server = await startUploadServer(createArtifactStore(config), {
  maxBytes: config.maxUploadBytes,
});
process.stdout.write(`UPLOAD_READY ${server.port}\n`);
process.on("SIGTERM", () => void server.close().finally(() => process.exit(0)));
