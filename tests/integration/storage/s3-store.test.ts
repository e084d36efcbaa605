import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import {
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../lib/config";
import {
  ArtifactCache,
  ArtifactIntegrityError,
  ArtifactNotFoundError,
  S3ArtifactStore,
  createArtifactStore,
  createS3Client,
} from "../../../lib/storage";
import { UploadError } from "../../../lib/uploads";
import { startS3Server, type S3TestServer } from "../../support/s3-server";
import { listFiles, startUploadServer, tempRoot } from "./harness";

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const text = async (stream: Readable) => Buffer.concat(await stream.toArray()).toString();

describe("S3ArtifactStore against a real S3-compatible server", () => {
  let s3: S3TestServer;
  let dir: string;
  let cleanupDir: () => Promise<void>;
  let store: S3ArtifactStore;
  let prefix: string;

  const savedEnv = { ...process.env };
  beforeAll(async () => {
    s3 = await startS3Server();
    // The SDK reads endpoint, region and credentials from the environment, as in production.
    Object.assign(process.env, s3.env);
  });
  afterAll(async () => {
    process.env = savedEnv;
    await s3.stop();
  });

  beforeEach(async () => {
    const t = await tempRoot();
    dir = t.dir;
    cleanupDir = t.cleanup;
    // A prefix per test: the bucket is shared by the file's tests.
    prefix = `t-${randomBytes(4).toString("hex")}`;
    store = storeWith(path.join(dir, "cache"));
  });
  afterEach(() => cleanupDir());

  function storeWith(cacheDir: string, maxBytes = 1024 ** 3): S3ArtifactStore {
    const store = createArtifactStore(
      loadConfig({
        ...s3.env,
        MODELDECK_ARTIFACT_STORE: `s3://${s3.bucket}/${prefix}`,
        MODELDECK_ARTIFACT_CACHE_DIR: cacheDir,
        MODELDECK_ARTIFACT_CACHE_BYTES: String(maxBytes),
        MODELDECK_DATA_DIR: dir,
      }),
    );
    expect(store).toBeInstanceOf(S3ArtifactStore);
    return store as S3ArtifactStore;
  }

  /** Object names under this test's prefix, and multipart uploads left anywhere in the bucket. */
  async function bucketState() {
    const client = s3.client();
    const objects = await client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/` }),
    );
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
    return {
      objects: (objects.Contents ?? []).map((o) => o.Key).sort(),
      uploads: (uploads.Uploads ?? []).map((u) => u.Key),
    };
  }

  async function put(data: Buffer) {
    const staged = await store.stage(Readable.from([data]), { maxBytes: data.length });
    return { staged, ...(await staged.commit()) };
  }

  it("round-trips an artifact under a content-addressed key in the bucket", async () => {
    const data = randomBytes(300_000);
    const { key, created, staged } = await put(data);
    expect(created).toBe(true);
    expect(key).toBe(store.keyFor(sha(data)));
    expect(await bucketState()).toEqual({ objects: [`${prefix}/${key}`], uploads: [] });
    // The staged file became the cache entry: nothing else of it on local disk.
    expect(await listFiles(dir)).toEqual([path.join("cache", key)]);
    await expect(fs.stat(staged.tempPath)).rejects.toMatchObject({ code: "ENOENT" });

    expect(await store.exists(key)).toBe(true);
    expect(await store.sizeOf(key)).toBe(data.length);
    const listed = [];
    for await (const artifact of store.list()) listed.push(artifact);
    expect(listed).toEqual([{ key, sizeBytes: data.length, modifiedAt: expect.any(Date) }]);

    // A process with an empty cache reads from the bucket.
    const other = storeWith(path.join(dir, "other-cache"));
    expect(Buffer.concat(await (await other.openRead(key)).toArray())).toEqual(data);
  });

  it("reads byte ranges from the bucket and from the cache alike", async () => {
    const { key } = await put(Buffer.from("0123456789"));
    expect(await text(await store.openRead(key, { start: 2, end: 5 }))).toBe("2345");
    const cold = storeWith(path.join(dir, "cold"));
    expect(await text(await cold.openRead(key, { start: 2, end: 5 }))).toBe("2345");
    expect(await text(await cold.openRead(key, { start: 7 }))).toBe("789");
    await expect(cold.openRead(key, { start: 5, end: 2 })).rejects.toBeInstanceOf(RangeError);
  });

  it("stores identical content once (created false the second time)", async () => {
    const data = randomBytes(10_000);
    const first = await put(data);
    const second = await put(data);
    expect([first.created, second.created]).toEqual([true, false]);
    expect((await bucketState()).objects).toEqual([`${prefix}/${first.key}`]);
    await expect(fs.stat(second.staged.tempPath)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("streams a multipart upload and leaves no object and no upload when it fails", async () => {
    const data = randomBytes(20 * 1024 ** 2); // three 8 MiB parts
    const staged = await store.stage(Readable.from([data]), { maxBytes: data.length });
    // Damage the staged file after hashing: the upload sends fewer parts than the size
    // promised, the SDK refuses to complete, and the multipart upload must be aborted.
    await fs.truncate(staged.tempPath, 12 * 1024 ** 2);
    await expect(staged.commit()).rejects.toThrow(/part/);
    expect(await bucketState()).toEqual({ objects: [], uploads: [] });
    await staged.discard();
    expect(await listFiles(dir)).toEqual([]);

    // The same size intact goes up as a multipart upload and reads back whole.
    const { key } = await put(data);
    const cold = storeWith(path.join(dir, "cold"));
    const back = await cold.withLocalFile(key, (file) => fs.readFile(file));
    expect(sha(back)).toBe(sha(data));
    expect(await bucketState()).toEqual({ objects: [`${prefix}/${key}`], uploads: [] });
  });

  it("fills the cache once per key, verified, and serves the file from it", async () => {
    const data = randomBytes(100_000);
    const { key } = await put(data);
    const cacheDir = path.join(dir, "cold");
    const cold = storeWith(cacheDir);
    const files = await Promise.all(
      [1, 2, 3].map(() => cold.withLocalFile(key, async (file) => file)),
    );
    expect(new Set(files)).toEqual(new Set([path.join(cacheDir, key)]));
    expect(await fs.readFile(files[0]!)).toEqual(data);
    expect(await listFiles(cacheDir)).toEqual([key]); // no temp files left
  });

  it("lets processes that share a cache directory fill the same key at once", async () => {
    const data = randomBytes(3 * 1024 ** 2);
    const { key } = await put(data);
    const shared = path.join(dir, "shared");
    // Separate stores with separate in-process bookkeeping, as separate processes have.
    const stores = [1, 2, 3, 4].map(() => storeWith(shared));
    const read = await Promise.all(
      stores.map((s) => s.withLocalFile(key, (file) => fs.readFile(file))),
    );
    for (const bytes of read) expect(sha(bytes)).toBe(sha(data));
    expect(await listFiles(shared)).toEqual([key]);
  });

  it("refuses an object whose bytes do not match its key, and caches nothing", async () => {
    const data = randomBytes(1000);
    const key = store.keyFor(sha(data));
    await s3.client().send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `${prefix}/${key}`,
        Body: randomBytes(1000),
      }),
    );
    const cacheDir = path.join(dir, "cold");
    const cold = storeWith(cacheDir);
    await expect(cold.withLocalFile(key, async () => "read")).rejects.toBeInstanceOf(
      ArtifactIntegrityError,
    );
    expect(await listFiles(cacheDir)).toEqual([]);
  });

  it("evicts the least recently used entries beyond its size budget", async () => {
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push((await put(randomBytes(40_000))).key);
    const cacheDir = path.join(dir, "small");
    const cache = new ArtifactCache({ dir: cacheDir, maxBytes: 100_000 });
    const small = new S3ArtifactStore({
      bucket: s3.bucket,
      prefix,
      client: createS3Client({ forcePathStyle: true }),
      cache,
    });
    // Entries used within the last minute are kept for other processes; age them.
    for (const [i, key] of keys.entries()) {
      await small.withLocalFile(key, async () => {});
      const old = new Date(Date.now() - 3_600_000 + i * 1000);
      await fs.utimes(cache.pathFor(key), old, old);
    }
    await small.withLocalFile(keys[0]!, async () => {}); // now the most recently used
    const fresh = (await put(randomBytes(40_000))).key;
    await small.withLocalFile(fresh, async () => {});
    // 160,000 bytes against a budget of 100,000: the two least recently used go.
    expect(await listFiles(cacheDir)).toEqual([keys[0], fresh].sort());
    expect(await cache.sizeBytes()).toBeLessThanOrEqual(100_000);
  });

  it("removes the object and the cache entry; missing keys say so", async () => {
    const { key } = await put(randomBytes(1000));
    expect(await store.remove(key)).toBe(true);
    expect(await store.remove(key)).toBe(false);
    expect(await store.exists(key)).toBe(false);
    expect(await bucketState()).toEqual({ objects: [], uploads: [] });
    expect(await listFiles(dir)).toEqual([]);
    await expect(store.openRead(key)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(store.sizeOf(key)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(store.withLocalFile(key, async () => {})).rejects.toBeInstanceOf(
      ArtifactNotFoundError,
    );
  });

  describe("through the upload route's core over HTTP", () => {
    it("leaves no object, upload or local file for a too-large or aborted upload", async () => {
      const server = await startUploadServer(store, { maxBytes: 1024 * 1024 });
      try {
        const tooLarge = await fetch(server.url, {
          method: "POST",
          body: randomBytes(1024 * 1024 + 1),
          headers: { "content-type": "application/octet-stream" },
        });
        expect(tooLarge.status).toBe(413);

        // The client goes away after half of the body.
        const controller = new AbortController();
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            if (sent >= 512 * 1024) {
              controller.abort();
              return;
            }
            sent += 64 * 1024;
            c.enqueue(new Uint8Array(64 * 1024));
            await new Promise((r) => setTimeout(r, 5));
          },
        });
        await expect(
          fetch(server.url, {
            method: "POST",
            body,
            duplex: "half",
            signal: controller.signal,
            headers: { "content-type": "application/octet-stream" },
          } as RequestInit),
        ).rejects.toThrow();
        const outcomes = await server.settled(2);
        expect(outcomes.map((o) => o.ok)).toEqual([false, false]);
        expect((outcomes[0] as { error: unknown }).error).toBeInstanceOf(UploadError);
      } finally {
        await server.close();
      }
      expect(await bucketState()).toEqual({ objects: [], uploads: [] });
      expect(await listFiles(dir)).toEqual([]);
    });
  });
});
