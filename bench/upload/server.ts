/**
 * The server side of the upload benchmark, one process per measured case so that its RSS
 * is its own. `--mode modeldeck`: the upload route's core (readUpload + LocalArtifactStore,
 * then commit). `--mode baseline`: the least a Node server can do, `pipeline(req, file)`;
 * `--mode baseline-web`: the same through a web Request body, as in a route handler.
 * Prints one JSON line `{"ready":true,"port":…,"pid":…}` once it listens.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { ApiError, errorBody } from "../../lib/api/errors";
import { LocalArtifactStore } from "../../lib/storage";
import { readUpload, requestFromNode, sendResponse } from "../../lib/uploads";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "modeldeck" },
    dir: { type: "string" },
    "max-bytes": { type: "string", default: String(2 * 1024 ** 3) },
    "no-fsync": { type: "boolean", default: false },
  },
});
if (!values.dir) throw new Error("--dir is required");
const dir = path.resolve(values.dir);
const mode = values.mode;
const maxBytes = Number(values["max-bytes"]);
const store = new LocalArtifactStore({
  root: path.join(dir, "artifacts"),
  durable: !values["no-fsync"],
});

async function modeldeck(req: http.IncomingMessage, res: http.ServerResponse) {
  const request = requestFromNode(req, res);
  let response: Response;
  try {
    const t0 = performance.now();
    const upload = await readUpload(request, {
      maxBytes,
      store,
      fields: ["description", "tags", "source"],
    });
    const t1 = performance.now();
    const { key, created } = await upload.staged.commit();
    const t2 = performance.now();
    response = Response.json(
      {
        sha256: upload.staged.sha256,
        sizeBytes: upload.staged.sizeBytes,
        key,
        created,
        kind: upload.kind,
        stageMs: t1 - t0,
        commitMs: t2 - t1,
      },
      { status: 201 },
    );
  } catch (error) {
    response =
      error instanceof ApiError
        ? Response.json(errorBody(error), { status: error.status })
        : Response.json({ error: { code: "internal", message: String(error) } }, { status: 500 });
  }
  await sendResponse(res, response);
}

/**
 * `baseline`: straight from the socket. `baseline-web`: the same, but through the web
 * `Request` body a Next.js route handler receives (`Readable.fromWeb(request.body)`), the
 * least any route handler can do.
 */
async function baseline(req: http.IncomingMessage, res: http.ServerResponse) {
  const file = path.join(dir, `baseline-${randomUUID()}`);
  const t0 = performance.now();
  let bytes = 0;
  const source =
    mode === "baseline-web"
      ? Readable.fromWeb(requestFromNode(req, res).body as NodeWebReadableStream<Uint8Array>)
      : req;
  source.on("data", (chunk: Buffer) => (bytes += chunk.length));
  try {
    await pipeline(source, createWriteStream(file));
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ sizeBytes: bytes, stageMs: performance.now() - t0, commitMs: 0 }));
  } finally {
    await fs.rm(file, { force: true });
  }
}

const server = http.createServer((req, res) => {
  const handle = mode === "baseline" || mode === "baseline-web" ? baseline : modeldeck;
  handle(req, res).catch((error: unknown) => {
    console.error(error);
    res.destroy();
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  console.log(JSON.stringify({ ready: true, port, pid: process.pid }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
