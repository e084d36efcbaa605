import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3Server, type S3TestServer } from "../../support/s3-server";
import { listFiles, tempRoot } from "./harness";

const GIB = 1024 ** 3;
const CHUNK = 1024 * 1024;
/** The acceptance bound on the server's resident memory growth during the upload. */
const MAX_RSS_GROWTH = 100 * 1024 ** 2;

function rssOf(pid: number): Promise<number> {
  return fs
    .readFile(`/proc/${pid}/status`, "utf8")
    .then((status) => Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024);
}

/** `total` bytes in 1 MiB pieces of one random buffer, generated as they are sent. */
function bodyOf(total: number, hash: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  const piece = randomBytes(CHUNK);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = piece.subarray(0, Math.min(CHUNK, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      controller.enqueue(new Uint8Array(chunk)); // a copy: fetch may hold on to it
    },
  });
}

// Streaming 1 GiB through staging, hashing and a multipart upload takes about a minute here.
describe("a 1 GiB upload into the bucket", { timeout: 300_000 }, () => {
  let s3: S3TestServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    s3 = await startS3Server({ prefix: "big" });
    const t = await tempRoot();
    dir = t.dir;
    cleanup = t.cleanup;
    server = spawn(
      process.execPath,
      ["--import", "tsx", path.join(import.meta.dirname, "s3-upload-server.ts")],
      {
        env: { ...process.env, ...s3.env, MODELDECK_DATA_DIR: dir },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      server.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const match = /UPLOAD_READY (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      server.once("exit", (code) => reject(new Error(`upload server exited (${code}): ${out}`)));
    });
    url = `http://127.0.0.1:${port}/upload`;
  });
  afterAll(async () => {
    server?.kill("SIGTERM");
    await s3?.stop();
    await cleanup?.();
  });

  async function upload(size: number) {
    const hash = createHash("sha256");
    const response = await fetch(url, {
      method: "POST",
      body: bodyOf(size, hash),
      duplex: "half",
      headers: { "content-type": "application/octet-stream" },
    } as RequestInit);
    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
      sha256: hash.digest("hex"),
    };
  }

  it("streams through in constant memory and lands in the bucket, not on local disk", async () => {
    // Warm up: the first upload loads the SDK and the upload path's code.
    const warm = await upload(20 * CHUNK);
    expect(warm.status).toBe(201);
    const baseline = await rssOf(server.pid!);

    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssOf(server.pid!).catch(() => peak));
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const started = performance.now();
    const result = await upload(GIB);
    const seconds = (performance.now() - started) / 1000;
    sampling = false;
    await sampler;

    const growth = peak - baseline;
    console.log(
      `1 GiB upload into the bucket: ${seconds.toFixed(1)} s, server RSS baseline ${(baseline / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB, growth ${(growth / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(result.status).toBe(201);
    expect(result.body).toMatchObject({ sha256: result.sha256, sizeBytes: GIB, created: true });
    expect(growth).toBeLessThanOrEqual(MAX_RSS_GROWTH);

    const client = s3.client();
    const objects = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    const big = (objects.Contents ?? []).find((o) => o.Key === `big/${result.body.key as string}`);
    expect(big?.Size).toBe(GIB);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    // Locally only the cache holds it (no copy under artifacts/, nothing left in temp).
    expect(await listFiles(dir)).toEqual(
      [warm.body.key as string, result.body.key as string]
        .map((k) => path.join("artifact-cache", k))
        .sort(),
    );
  });
});
