import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ArtifactNotFoundError,
  ArtifactStageAbortedError,
  ArtifactTooLargeError,
  InvalidArtifactKeyError,
  LocalArtifactStore,
  StagedArtifactStateError,
} from "../../../lib/storage";
import { listFiles, tempRoot } from "./harness";

const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** Emits `data` in `chunk`-sized pieces, optionally failing after `failAfter` bytes. */
function chunked(data: Buffer, chunk = 1000, failAfter?: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && offset >= failAfter) {
        this.destroy(new Error("connection reset by peer"));
        return;
      }
      if (offset >= data.length) return void this.push(null);
      this.push(data.subarray(offset, offset + chunk));
      offset += chunk;
    },
  });
}

describe("LocalArtifactStore", () => {
  let root: string;
  let store: LocalArtifactStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const t = await tempRoot();
    cleanup = t.cleanup;
    root = path.join(t.dir, "artifacts");
    store = new LocalArtifactStore({ root });
  });
  afterEach(() => cleanup());

  it("stages a stream with its sha256 and size, and commits it under its digest", async () => {
    const data = randomBytes(300_000);
    const staged = await store.stage(chunked(data, 7_001), { maxBytes: 1_000_000 });
    expect(staged.sha256).toBe(sha(data));
    expect(staged.sizeBytes).toBe(data.length);
    expect(path.dirname(staged.tempPath)).toBe(path.join(root, "tmp"));
    expect(await fs.readFile(staged.tempPath)).toEqual(data);

    const { key, created } = await staged.commit();
    const hex = sha(data);
    expect(key).toBe(`sha256/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex}`);
    expect(created).toBe(true);
    expect(await listFiles(root)).toEqual([key]);
    expect(await store.exists(key)).toBe(true);
    expect(await store.sizeOf(key)).toBe(data.length);
    expect(Buffer.from(await (await store.openRead(key)).toArray().then(Buffer.concat))).toEqual(
      data,
    );
    // Again: same answer, nothing else happens.
    expect(await staged.commit()).toEqual({ key, created: true });
    await staged.discard(); // safe after commit
    expect(await store.exists(key)).toBe(true);
  });

  it("accepts a web ReadableStream and an empty body", async () => {
    const web = new Blob(["hello ", "world"]).stream();
    const staged = await store.stage(web, { maxBytes: 100 });
    expect(staged.sha256).toBe(sha("hello world"));
    expect(staged.sizeBytes).toBe(11);
    const empty = await store.stage(Readable.from([]), { maxBytes: 100 });
    expect(empty.sizeBytes).toBe(0);
    expect(empty.sha256).toBe(sha(""));
    await empty.discard();
    await staged.discard();
    expect(await listFiles(root)).toEqual([]);
  });

  it("keeps one file for identical content staged twice", async () => {
    const data = randomBytes(50_000);
    const a = await store.stage(chunked(data), { maxBytes: 100_000 });
    const b = await store.stage(chunked(data, 333), { maxBytes: 100_000 });
    expect(a.tempPath).not.toBe(b.tempPath);
    const first = await a.commit();
    const second = await b.commit();
    expect(second.key).toBe(first.key);
    expect([first.created, second.created]).toEqual([true, false]);
    expect(await listFiles(root)).toEqual([first.key]);
  });

  it("survives concurrent commits of the same content", async () => {
    const data = randomBytes(20_000);
    const staged = await Promise.all(
      Array.from({ length: 8 }, () => store.stage(chunked(data), { maxBytes: 100_000 })),
    );
    const results = await Promise.all(staged.map((s) => s.commit()));
    expect(new Set(results.map((r) => r.key)).size).toBe(1);
    expect(await listFiles(root)).toEqual([results[0]!.key]);
    expect(await fs.readFile(path.join(root, results[0]!.key))).toEqual(data);
  });

  it("aborts at maxBytes with a typed error and leaves no file", async () => {
    const data = randomBytes(10_001);
    const error = await store
      .stage(chunked(data, 1000), { maxBytes: 10_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactTooLargeError);
    expect((error as ArtifactTooLargeError).limitBytes).toBe(10_000);
    expect(await listFiles(root)).toEqual([]);
    // Exactly at the limit is fine.
    const ok = await store.stage(chunked(data.subarray(0, 10_000)), { maxBytes: 10_000 });
    expect(ok.sizeBytes).toBe(10_000);
  });

  it("stops reading the source as soon as the limit is crossed", async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024));
      },
    });
    await expect(store.stage(endless, { maxBytes: 1024 * 1024 })).rejects.toBeInstanceOf(
      ArtifactTooLargeError,
    );
    expect(endless.destroyed).toBe(true);
    expect(produced).toBeLessThan(2 * 1024 * 1024); // the limit plus buffers, not "forever"
    expect(await listFiles(root)).toEqual([]);
  });

  it("deletes the partial file when the source fails or the signal aborts", async () => {
    const failing = store.stage(chunked(randomBytes(100_000), 1000, 50_000), { maxBytes: 1e6 });
    await expect(failing).rejects.toThrow("connection reset by peer");
    expect(await listFiles(root)).toEqual([]);

    const controller = new AbortController();
    const never = new Readable({ read() {} }); // a client that stalls mid-upload
    never.push(Buffer.alloc(1000));
    const staging = store.stage(never, { maxBytes: 1e6, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    expect((await listFiles(root)).length).toBe(1); // the partial file exists meanwhile
    controller.abort(new Error("client went away"));
    const error = await staging.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactStageAbortedError);
    expect((error as Error).cause).toEqual(new Error("client went away"));
    expect(await listFiles(root)).toEqual([]);

    await expect(
      store.stage(Readable.from([Buffer.from("x")]), { maxBytes: 10, signal: controller.signal }),
    ).rejects.toBeInstanceOf(ArtifactStageAbortedError);
    expect(await listFiles(root)).toEqual([]);
  });

  it("discard is idempotent, and commit after discard is refused", async () => {
    const staged = await store.stage(Readable.from([Buffer.from("abc")]), { maxBytes: 10 });
    await staged.discard();
    await staged.discard();
    expect(await listFiles(root)).toEqual([]);
    await expect(staged.commit()).rejects.toBeInstanceOf(StagedArtifactStateError);
  });

  it("creates directories and files with restrictive modes", async () => {
    const staged = await store.stage(Readable.from([Buffer.from("modes")]), { maxBytes: 10 });
    expect((await fs.stat(staged.tempPath)).mode & 0o777).toBe(0o600);
    const { key } = await staged.commit();
    const file = path.join(root, key);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o440);
    const umask = process.umask();
    for (const dir of [root, path.join(root, "tmp"), path.dirname(file)]) {
      expect((await fs.stat(dir)).mode & 0o777).toBe(0o750 & ~umask);
    }
  });

  it("reads byte ranges and reports missing artifacts", async () => {
    const staged = await store.stage(Readable.from([Buffer.from("0123456789")]), {
      maxBytes: 100,
    });
    const { key } = await staged.commit();
    expect(await text(await store.openRead(key, { start: 2, end: 5 }))).toBe("2345");
    expect(await text(await store.openRead(key, { start: 7 }))).toBe("789");
    await expect(store.openRead(key, { start: 5, end: 2 })).rejects.toBeInstanceOf(RangeError);

    const missing = store.keyFor("a".repeat(64));
    expect(await store.exists(missing)).toBe(false);
    await expect(store.sizeOf(missing)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(store.openRead(missing)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    expect(await store.remove(missing)).toBe(false);
    expect(await store.remove(key)).toBe(true);
    expect(await store.exists(key)).toBe(false);
  });

  it("lists committed artifacts and ignores strays", async () => {
    const keys: string[] = [];
    for (const content of ["a", "b", "c"]) {
      const staged = await store.stage(Readable.from([Buffer.from(content)]), { maxBytes: 10 });
      keys.push((await staged.commit()).key);
    }
    await fs.writeFile(path.join(root, "sha256", "stray.txt"), "not an artifact");
    await fs.writeFile(path.join(root, keys[0]! + ".bak"), "not an artifact");
    const listed: string[] = [];
    for await (const artifact of store.list()) {
      expect(artifact.sizeBytes).toBe(1);
      listed.push(artifact.key);
    }
    expect(listed.sort()).toEqual([...keys].sort());
  });

  it("validates keys and digests before touching the filesystem", async () => {
    const hex = "ab".repeat(32);
    expect(store.keyFor(hex.toUpperCase())).toBe(`sha256/ab/ab/${hex}`);
    const bad = [
      "../../etc/passwd",
      "/etc/passwd",
      `sha256/ab/ab/${hex}/../../../../x`,
      `sha256/ab/ab/../${hex}`,
      `sha256/ab/cd/${hex}`, // prefix that does not match the digest
      `sha256/ab/ab/${hex}\0`,
      `sha256\\ab\\ab\\${hex}`,
      `SHA256/ab/ab/${hex.toUpperCase()}`,
      "",
    ];
    for (const key of bad) {
      await expect(store.exists(key), key).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(store.openRead(key), key).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(store.sizeOf(key), key).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(store.remove(key), key).rejects.toBeInstanceOf(InvalidArtifactKeyError);
    }
    for (const digest of ["../x", hex.slice(1), `${hex}0`, "g".repeat(64), `${hex.slice(2)}/.`]) {
      expect(() => store.keyFor(digest), digest).toThrow(InvalidArtifactKeyError);
    }
    // Nothing was created by any of it.
    await expect(fs.stat(root)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("sweeps stale temp files but not live ones", async () => {
    const live = await store.stage(Readable.from([Buffer.from("live")]), { maxBytes: 10 });
    const crashed = path.join(root, "tmp", "1-deadbeef.partial");
    await fs.writeFile(crashed, "left by a crash");
    const old = new Date(Date.now() - 2 * 3600_000);
    await fs.utimes(crashed, old, old);
    await fs.utimes(live.tempPath, old, old); // old but still owned by this process
    const recent = path.join(root, "tmp", "2-cafe.partial");
    await fs.writeFile(recent, "in progress elsewhere");
    const unrelated = path.join(root, "tmp", "README");
    await fs.writeFile(unrelated, "not ours");
    await fs.utimes(unrelated, old, old);

    expect(await store.sweepStaleTemp(3600_000)).toBe(1);
    expect(await listFiles(path.join(root, "tmp"))).toEqual(
      [path.basename(recent), path.basename(live.tempPath), "README"].sort(),
    );
    expect((await live.commit()).created).toBe(true);
  });

  it("refuses to commit a staged file that was swept away", async () => {
    const staged = await store.stage(Readable.from([Buffer.from("x")]), { maxBytes: 10 });
    await fs.rm(staged.tempPath);
    await expect(staged.commit()).rejects.toBeInstanceOf(StagedArtifactStateError);
    await staged.discard();
  });

  it("replaces a damaged copy instead of trusting it", async () => {
    const data = Buffer.from("the real content");
    const key = store.keyFor(sha(data));
    await fs.mkdir(path.dirname(path.join(root, key)), { recursive: true });
    await fs.writeFile(path.join(root, key), "truncat");
    const staged = await store.stage(Readable.from([data]), { maxBytes: 100 });
    expect((await staged.commit()).created).toBe(true);
    expect(await fs.readFile(path.join(root, key))).toEqual(data);
  });
});
