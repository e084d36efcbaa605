import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { ApiError, errorBody } from "../../../lib/api/errors";
import type { ArtifactStore } from "../../../lib/storage";
import {
  readUpload,
  requestFromNode,
  sendResponse,
  type ReadUploadOptions,
} from "../../../lib/uploads";

/** A fresh directory for one test's store; removed by the returned cleanup. */
export async function tempRoot(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-store-"));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** Every file under `dir`, relative, sorted; empty when `dir` does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

export type Outcome =
  | { ok: true; status: number; body: Record<string, unknown> }
  | { ok: false; status: number; error: unknown };

/**
 * A plain node:http server that turns each request into a web Request (the way Next.js
 * does) and runs the upload route's core: readUpload, then commit. `outcomes` holds what
 * the server side saw, so tests can wait for it even when the client is gone.
 */
export async function startUploadServer(
  store: ArtifactStore,
  options: Omit<ReadUploadOptions, "store">,
) {
  const outcomes: Promise<Outcome>[] = [];
  const server = http.createServer((req, res) => {
    const request = requestFromNode(req, res);
    const outcome = (async (): Promise<Outcome> => {
      try {
        const upload = await readUpload(request, { ...options, store });
        const { key, created } = await upload.staged.commit();
        const body = {
          sha256: upload.staged.sha256,
          sizeBytes: upload.staged.sizeBytes,
          key,
          created,
          filename: upload.filename,
          fields: upload.fields,
          kind: upload.kind,
        };
        return { ok: true, status: 201, body };
      } catch (error) {
        return { ok: false, status: error instanceof ApiError ? error.status : 500, error };
      }
    })();
    outcomes.push(outcome);
    void outcome.then(async (o) => {
      const response = o.ok
        ? Response.json(o.body, { status: o.status })
        : Response.json(
            o.error instanceof ApiError
              ? errorBody(o.error)
              : { error: { code: "internal", message: String(o.error) } },
            { status: o.status },
          );
      await sendResponse(res, response).catch(() => {}); // the client may be gone
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}/upload`,
    port: address.port,
    outcomes,
    /** Waits until the server has seen `count` requests and finished handling them. */
    async settled(count: number, timeoutMs = 10_000): Promise<Outcome[]> {
      const deadline = Date.now() + timeoutMs;
      while (outcomes.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${outcomes.length} requests arrived`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return Promise.all(outcomes);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
