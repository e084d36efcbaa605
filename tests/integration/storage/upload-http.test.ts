import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalArtifactStore, type ArtifactStore } from "../../../lib/storage";
import { UploadError } from "../../../lib/uploads";
import { listFiles, startUploadServer, tempRoot, type Outcome } from "./harness";

const MAX = 1024 * 1024;
const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

type Server = Awaited<ReturnType<typeof startUploadServer>>;

/** A body that produces `total` bytes in 64 KiB pieces with no declared length (chunked). */
function streamOf(parts: (Buffer | { zeros: number })[]): ReadableStream<Uint8Array> {
  const queue = [...parts];
  return new ReadableStream({
    pull(controller) {
      const next = queue.shift();
      if (!next) return controller.close();
      if (Buffer.isBuffer(next)) return controller.enqueue(next);
      const size = Math.min(next.zeros, 64 * 1024);
      controller.enqueue(new Uint8Array(size));
      if (next.zeros > size) queue.unshift({ zeros: next.zeros - size });
    },
  });
}

function multipartHead(boundary: string, filename = "model.onnx"): Buffer {
  return Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
}
const multipartTail = (boundary: string) => Buffer.from(`\r\n--${boundary}--\r\n`);

async function post(url: string, init: RequestInit & { duplex?: "half" }) {
  const response = await fetch(url, { method: "POST", ...init } as RequestInit);
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body };
}

const reasonOf = (body: Record<string, unknown>) =>
  ((body.error as { details?: { reason?: string } }).details ?? {}).reason;

describe("readUpload over real HTTP", () => {
  let root: string;
  let workDir: string;
  let store: LocalArtifactStore;
  let server: Server;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    const t = await tempRoot();
    workDir = t.dir;
    root = path.join(t.dir, "data", "artifacts");
    store = new LocalArtifactStore({ root });
    server = await startUploadServer(store, { maxBytes: MAX });
    cleanup = async () => {
      await server.close();
      await t.cleanup();
    };
  });
  afterEach(() => cleanup());

  /** Nothing in temp, nothing committed: the store is as if the request never happened. */
  async function expectStoreEmpty() {
    expect(await listFiles(path.join(root, "tmp"))).toEqual([]);
    expect(await listFiles(path.join(root, "sha256"))).toEqual([]);
  }

  async function restart(options: Parameters<typeof startUploadServer>[1]) {
    await server.close();
    server = await startUploadServer(store, options);
  }

  it("stores a multipart upload with its fields, sha256 and size", async () => {
    const data = randomBytes(200_000);
    const form = new FormData();
    form.append("description", "first version");
    form.append("file", new Blob([data]), "模型 v1.onnx");
    form.append("source", "git:abc123"); // a field after the file is still read
    const { status, body } = await post(server.url, { body: form });
    expect(status).toBe(201);
    expect(body).toMatchObject({
      sha256: sha(data),
      sizeBytes: data.length,
      created: true,
      filename: "模型 v1.onnx",
      fields: { description: "first version", source: "git:abc123" },
      kind: "multipart",
    });
    expect(await listFiles(root)).toEqual([body.key]);
    expect(await fs.readFile(path.join(root, body.key as string))).toEqual(data);
  });

  it("stores a raw body with metadata from the query and X-ModelDeck-* headers", async () => {
    const data = randomBytes(100_000);
    const { status, body } = await post(`${server.url}?description=d%C3%A9j%C3%A0&source=ci`, {
      body: data,
      headers: {
        "content-type": "application/octet-stream",
        "x-modeldeck-tags": "a,b",
        "x-modeldeck-filename": "models/weights.onnx",
      },
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({
      sha256: sha(data),
      sizeBytes: data.length,
      filename: "weights.onnx",
      fields: { description: "déjà", source: "ci", tags: "a,b" },
      kind: "raw",
    });
  });

  it("stores a chunked raw body (no Content-Length)", async () => {
    const data = randomBytes(300_000);
    const { status, body } = await post(server.url, {
      body: streamOf([data.subarray(0, 100_000), data.subarray(100_000)]),
      duplex: "half",
      headers: { "content-type": "application/octet-stream" },
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ sha256: sha(data), sizeBytes: data.length });
  });

  it("commits identical content uploaded twice to one file", async () => {
    const data = randomBytes(50_000);
    const first = await post(server.url, {
      body: data,
      headers: { "content-type": "application/octet-stream" },
    });
    const form = new FormData();
    form.append("file", new Blob([data]), "copy.onnx");
    const second = await post(server.url, { body: form });
    expect(first.body.key).toBe(second.body.key);
    expect([first.body.created, second.body.created]).toEqual([true, false]);
    expect(await listFiles(root)).toEqual([first.body.key]);
  });

  it("rejects a declared oversize body with 413 before reading it", async () => {
    // Declares far more than the limit, sends a little, and waits: the answer must come
    // while the body is still "in flight".
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(server.url, {
        method: "POST",
        headers: { "content-type": "application/octet-stream", "content-length": 10 * MAX },
      });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      });
      req.on("error", reject);
      req.write(Buffer.alloc(1000));
    });
    expect(response.status).toBe(413);
    const error = JSON.parse(response.body).error;
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toContain("1 MiB");
    await server.settled(1);
    await expectStoreEmpty();
  });

  it("rejects a declared oversize multipart form with 413", async () => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(MAX + 3 * 1024 * 1024)]), "big.onnx");
    const { status, body } = await post(server.url, { body: form });
    expect(status).toBe(413);
    expect(reasonOf(body)).toBe("too_large");
    await expectStoreEmpty();
  });

  it("rejects a multipart file one byte over the limit with 413 while streaming", async () => {
    const form = new FormData(); // declared length is within the framing allowance
    form.append("file", new Blob([new Uint8Array(MAX + 1)]), "big.onnx");
    const { status, body } = await post(server.url, { body: form });
    expect(status).toBe(413);
    expect(reasonOf(body)).toBe("too_large");
    expect((body.error as { details: { limitBytes: number } }).details.limitBytes).toBe(MAX);
    await server.settled(1);
    await expectStoreEmpty();
  });

  it("rejects undeclared oversize bodies (raw and multipart) with 413 while streaming", async () => {
    const raw = await post(server.url, {
      body: streamOf([{ zeros: 50 * MAX }]),
      duplex: "half",
      headers: { "content-type": "application/octet-stream" },
    });
    expect(raw.status).toBe(413);

    const boundary = "----modeldeck-test-boundary";
    const multipart = await post(server.url, {
      body: streamOf([multipartHead(boundary), { zeros: 50 * MAX }, multipartTail(boundary)]),
      duplex: "half",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    });
    expect(multipart.status).toBe(413);
    expect(reasonOf(multipart.body)).toBe("too_large");
    await server.settled(2);
    await expectStoreEmpty();
  });

  it("leaves nothing behind when the client aborts mid-upload", async () => {
    for (const type of ["application/octet-stream", "multipart/form-data; boundary=xyz"]) {
      const before = server.outcomes.length;
      await new Promise<void>((resolve) => {
        const req = http.request(server.url, {
          method: "POST",
          headers: { "content-type": type, "transfer-encoding": "chunked" },
        });
        req.on("error", () => resolve()); // expected: we destroy it
        if (type.startsWith("multipart")) req.write(multipartHead("xyz"));
        req.write(Buffer.alloc(200_000));
        // Vanish once the server has a partial file on disk.
        const waitForPartial = async () => {
          while ((await listFiles(path.join(root, "tmp"))).length === 0) {
            await new Promise((r) => setTimeout(r, 10));
          }
          req.destroy();
        };
        void waitForPartial();
      });
      const outcomes = await server.settled(before + 1);
      const outcome = outcomes[before] as Extract<Outcome, { ok: false }>;
      expect(outcome.ok).toBe(false);
      expect(outcome.error).toBeInstanceOf(UploadError);
      expect((outcome.error as UploadError).reason).toBe("aborted");
      await expectStoreEmpty();
    }
  });

  it("never lets a file name escape: it is display text, the path is the digest", async () => {
    const data = Buffer.from("payload");
    // ".." segments are traversal attempts: refused (400), nothing staged.
    for (const name of ["../../escape.onnx", "..\\..\\escape.onnx"]) {
      const form = new FormData();
      form.append("file", new Blob([data]), name);
      const { status, body } = await post(server.url, { body: form });
      expect(status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(body)).toContain("invalid_filename");
    }
    const names = ["C:\\Users\\me\\escape.onnx", "/etc/passwd", "a\u202eb\u200b.onnx"];
    const expected = ["escape.onnx", "passwd", "ab.onnx"];
    for (const [i, name] of names.entries()) {
      const form = new FormData();
      form.append("file", new Blob([data]), name);
      const { status, body } = await post(server.url, { body: form });
      expect(status, JSON.stringify(body)).toBe(201);
      expect(body.filename).toBe(expected[i]);
      expect(body.key).toBe(store.keyFor(sha(data)));
    }
    const raw = await post(`${server.url}?filename=dir%2Fx%00y%0A.onnx`, {
      body: data,
      headers: { "content-type": "application/octet-stream" },
    });
    expect(raw.body.filename).toBe("xy.onnx");
    // A NUL inside a part header is refused by the parser outright.
    const nul = await post(server.url, {
      body: Buffer.concat([multipartHead("b", "a\u0000.onnx"), data, multipartTail("b")]),
      headers: { "content-type": "multipart/form-data; boundary=b" },
    });
    expect(nul.status).toBe(400);
    // Only the one content-addressed file exists anywhere in the test's directory.
    expect(await listFiles(workDir)).toEqual([
      path.join("data", "artifacts", store.keyFor(sha(data))),
    ]);
  });

  it("answers 415 for other content types", async () => {
    for (const type of ["text/plain", "application/json", "application/x-www-form-urlencoded"]) {
      const { status, body } = await post(server.url, {
        body: "abc",
        headers: { "content-type": type },
      });
      expect(status, type).toBe(415);
      expect((body.error as { code: string }).code).toBe("unsupported_media_type");
    }
    const none = await post(server.url, { body: new Uint8Array([1, 2, 3]) }); // no type at all
    expect(none.status).toBe(415);
    await expectStoreEmpty();
  });

  it("answers 400 for a missing file, an empty raw body, or a wrongly named file field", async () => {
    const noFile = new FormData();
    noFile.append("description", "where is it?");
    const missing = await post(server.url, { body: noFile });
    expect(missing.status).toBe(400);
    expect(reasonOf(missing.body)).toBe("missing_file");

    const empty = await post(server.url, {
      body: new Uint8Array(0),
      headers: { "content-type": "application/octet-stream" },
    });
    expect(empty.status).toBe(400);
    expect(reasonOf(empty.body)).toBe("missing_file");

    const wrongName = new FormData();
    wrongName.append("model", new Blob([Buffer.from("x")]), "m.onnx");
    const wrong = await post(server.url, { body: wrongName });
    expect(wrong.status).toBe(400);
    expect(reasonOf(wrong.body)).toBe("unexpected_file_field");
    await expectStoreEmpty();
  });

  it("answers 400 for two file fields and keeps neither", async () => {
    for (const second of ["file", "other"]) {
      const form = new FormData();
      form.append("file", new Blob([randomBytes(1000)]), "a.onnx");
      form.append(second, new Blob([randomBytes(1000)]), "b.onnx");
      const { status, body } = await post(server.url, { body: form });
      expect(status).toBe(400);
      expect(reasonOf(body)).toBe(second === "file" ? "too_many_files" : "unexpected_file_field");
    }
    await server.settled(2);
    await expectStoreEmpty();
  });

  it("answers 400 for a malformed or truncated multipart body", async () => {
    const noBoundary = await post(server.url, {
      body: "x",
      headers: { "content-type": "multipart/form-data" },
    });
    expect(noBoundary.status).toBe(400);
    expect(reasonOf(noBoundary.body)).toBe("malformed");

    const truncated = await post(server.url, {
      body: Buffer.concat([multipartHead("b"), Buffer.alloc(5000)]), // no closing boundary
      headers: { "content-type": "multipart/form-data; boundary=b" },
    });
    expect(truncated.status).toBe(400);
    expect(reasonOf(truncated.body)).toBe("malformed");
    await server.settled(2);
    await expectStoreEmpty();
  });

  it("enforces field limits, known names and single values", async () => {
    await restart({
      maxBytes: MAX,
      fields: ["description", "tags", "source"],
      limits: { maxFields: 3, maxFieldBytes: 100 },
    });
    const send = async (fields: [string, string][]) => {
      const form = new FormData();
      for (const [name, value] of fields) form.append(name, value);
      form.append("file", new Blob([Buffer.from("model")]), "m.onnx");
      return post(server.url, { body: form });
    };
    const ok = await send([["description", "fine"]]);
    expect(ok.status).toBe(201);

    const long = await send([["description", "x".repeat(101)]]);
    expect(long.status).toBe(413);
    expect(reasonOf(long.body)).toBe("field_too_large");

    const unknown = await send([["descripton", "typo"]]);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({
      code: "validation_failed",
      details: { fields: [{ field: "descripton", message: "is not a recognised field" }] },
    });

    const twice = await send([
      ["tags", "a"],
      ["tags", "b"],
    ]);
    expect(twice.status).toBe(400);
    expect(reasonOf(twice.body)).toBe("duplicate_field");

    const many = await send([
      ["description", "1"],
      ["tags", "2"],
      ["source", "3"],
      ["source", "4"],
    ]);
    expect(many.status).toBe(400);
    expect(reasonOf(many.body)).toBe("too_many_fields");

    const header = await post(server.url, {
      body: Buffer.from("model"),
      headers: { "content-type": "application/octet-stream", "x-modeldeck-colour": "red" },
    });
    expect(header.status).toBe(400);
    expect(reasonOf(header.body)).toBe("unknown_field");

    const conflict = await post(`${server.url}?source=a`, {
      body: Buffer.from("model"),
      headers: { "content-type": "application/octet-stream", "x-modeldeck-source": "b" },
    });
    expect(conflict.status).toBe(400);
    expect(reasonOf(conflict.body)).toBe("duplicate_field");

    // Query parameters outside the list belong to the route and are not returned.
    const extra = await post(`${server.url}?dryRun=1&tags=x`, {
      body: Buffer.from("model"),
      headers: { "content-type": "application/octet-stream" },
    });
    expect(extra.status).toBe(201);
    expect(extra.body.fields).toEqual({ tags: "x" });
    expect(await listFiles(path.join(root, "tmp"))).toEqual([]);
  });

  it("pushes back on the client when the disk is slow (nothing piles up in memory)", async () => {
    // A store whose disk takes 2 ms per chunk: about 30 MB/s, far below loopback speed.
    let consumed = 0;
    const slow: ArtifactStore = Object.assign(Object.create(store) as ArtifactStore, {
      stage: (source: Readable | ReadableStream<Uint8Array>, options: { maxBytes: number }) => {
        const input = source instanceof Readable ? source : Readable.fromWeb(source as never);
        const throttle = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            setTimeout(() => {
              consumed += chunk.length;
              callback(null, chunk);
            }, 2);
          },
        });
        input.on("error", (e) => throttle.destroy(e));
        return store.stage(input.pipe(throttle), options);
      },
    });
    await server.close();
    server = await startUploadServer(slow, { maxBytes: 1024 * MAX });

    for (const type of ["application/octet-stream", "multipart/form-data; boundary=bp"]) {
      consumed = 0;
      let sent = 0;
      const before = server.outcomes.length;
      const req = http.request(server.url, {
        method: "POST",
        headers: { "content-type": type, "transfer-encoding": "chunked" },
      });
      req.on("error", () => {});
      if (type.startsWith("multipart")) req.write(multipartHead("bp"));
      const chunk = Buffer.alloc(64 * 1024);
      let stop = false;
      const pump = () => {
        // Write as fast as the socket lets us; write() returning false means "wait".
        while (!stop && req.write(chunk)) sent += chunk.length;
        if (!stop) {
          sent += chunk.length;
          req.once("drain", pump);
        }
      };
      pump();
      await new Promise((r) => setTimeout(r, 1500));
      stop = true;
      const inFlight = sent - consumed;
      req.destroy();
      await server.settled(before + 1);
      expect(consumed).toBeGreaterThan(5 * MAX); // it did make progress
      // Without backpressure the client would be hundreds of MB ahead. What may be in
      // flight: kernel socket buffers on both sides plus a few stream buffers.
      expect(inFlight, type).toBeLessThan(24 * MAX);
      await expectStoreEmpty();
    }
  });
});
