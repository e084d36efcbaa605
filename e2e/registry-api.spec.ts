import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { deflateRawSync } from "node:zlib";
import { expect, request, test, type APIRequestContext } from "@playwright/test";
import { adminStorageState, readState } from "./support/state";

/**
 * The registry's upload API against bad input: every class gets a clear 4xx, and nothing is
 * left behind — no version row, no file in the artifact store (checked on disk).
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const fixtures = path.resolve(import.meta.dirname, "../node_modules/@ricky0123/vad-web/dist");
const legacy = readFileSync(path.join(fixtures, "silero_vad_legacy.onnx"));
const artifactsDir = path.join(state.dataDir, "artifacts");
const model = `api-bad-input-${Date.now().toString(36)}`;
let api: APIRequestContext;

/** Every file under the artifact store, temp files included. */
function storeFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(path.relative(artifactsDir, full));
    }
  };
  walk(artifactsDir);
  return out.sort();
}

/** A minimal ZIP archive (one stored file) — what a zipped model looks like. */
function zipOf(name: string, content: Buffer): Buffer {
  const data = deflateRawSync(content);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(8, 8);
  header.writeUInt32LE(data.length, 18);
  header.writeUInt32LE(content.length, 22);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, Buffer.from(name), data]);
}

test.beforeAll(async () => {
  const session = await request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  const token = await session.post("/api/v1/tokens", {
    data: { name: "registry-api-suite", role: "operator" },
  });
  expect(token.status()).toBe(201);
  const { secret } = await token.json();
  await session.dispose();
  api = await request.newContext({
    baseURL: state.baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${secret}` },
  });
  expect(
    (await api.post("/api/v1/models", { data: { name: model, task: "other" } })).status(),
  ).toBe(201);
});

test.afterAll(async () => api.dispose());

async function versionCount() {
  const res = await api.get(`/api/v1/models/${model}/versions`);
  expect(res.status()).toBe(200);
  return (await res.json()).versions.length as number;
}

const upload = (file: { name: string; mimeType: string; buffer: Buffer }) =>
  api.post(`/api/v1/models/${model}/versions`, { multipart: { file } });

test("bad files are refused with 4xx and leave no row and no file", async () => {
  const filesBefore = storeFiles();
  const cases: { label: string; file: Buffer; name: string; status: number; says: RegExp }[] = [
    { label: "empty", file: Buffer.alloc(0), name: "empty.onnx", status: 422, says: /empty/i },
    {
      label: "random bytes",
      file: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)),
      name: "random.onnx",
      status: 422,
      says: /not an ONNX model/i,
    },
    {
      label: "zip",
      file: zipOf("model.onnx", legacy),
      name: "model.zip",
      status: 422,
      says: /ZIP/i,
    },
    {
      label: "text renamed .onnx",
      file: Buffer.from("name,score\nalice,0.3\n"),
      name: "scores.onnx",
      status: 422,
      says: /not an ONNX model/i,
    },
    {
      label: "truncated",
      file: legacy.subarray(0, Math.floor(legacy.length / 2)),
      name: "truncated.onnx",
      status: 422,
      says: /truncated|ends/i,
    },
  ];
  for (const c of cases) {
    const res = await upload({
      name: c.name,
      mimeType: "application/octet-stream",
      buffer: c.file,
    });
    expect(res.status(), c.label).toBe(c.status);
    const body = await res.json();
    expect(body.error.message, c.label).toMatch(c.says);
  }
  expect(await versionCount()).toBe(0);
  expect(storeFiles()).toEqual(filesBefore);
});

test("an oversize body is a 413 (multipart and raw) and leaves nothing", async () => {
  const filesBefore = storeFiles();
  const big = Buffer.alloc(state.maxUploadBytes + 1024, 1);
  const multipart = await upload({
    name: "big.onnx",
    mimeType: "application/octet-stream",
    buffer: big,
  });
  expect(multipart.status()).toBe(413);
  expect((await multipart.json()).error.code).toBe("payload_too_large");
  const raw = await api.post(`/api/v1/models/${model}/versions`, {
    headers: { "content-type": "application/octet-stream" },
    data: big,
  });
  expect(raw.status()).toBe(413);
  expect(await versionCount()).toBe(0);
  expect(storeFiles()).toEqual(filesBefore);
});

test("a filename with ../ is refused; a plain upload is stored by content", async () => {
  const filesBefore = storeFiles();
  for (const name of ["../../../../etc/passwd.onnx", "..\\..\\model.onnx"]) {
    const bad = await upload({ name, mimeType: "application/octet-stream", buffer: legacy });
    expect(bad.status(), name).toBe(400);
    expect((await bad.json()).error.message).toContain('".." path segment');
  }
  const raw = await api.post(`/api/v1/models/${model}/versions`, {
    headers: {
      "content-type": "application/octet-stream",
      "x-modeldeck-filename": "../model.onnx",
    },
    data: legacy,
  });
  expect(raw.status()).toBe(400);
  expect(await versionCount()).toBe(0);
  expect(storeFiles()).toEqual(filesBefore);

  const res = await upload({
    name: "C:\\Users\\me\\vad.onnx",
    mimeType: "application/octet-stream",
    buffer: legacy,
  });
  expect(res.status()).toBe(201);
  const { version } = await res.json();
  expect(version.originalFilename).toBe("vad.onnx");
  expect(version.storageKey).toBe(
    `sha256/${version.sha256.slice(0, 2)}/${version.sha256.slice(2, 4)}/${version.sha256}`,
  );
  expect(storeFiles()).toContain(version.storageKey);
  // The download is byte-identical.
  const download = await api.get(`/api/v1/models/${model}/versions/${version.version}/artifact`);
  expect(download.status()).toBe(200);
  expect(Buffer.compare(await download.body(), legacy)).toBe(0);
});

test("the same bytes twice is a 409 naming the version; wrong content types are 415", async () => {
  const filesBefore = storeFiles();
  const again = await api.post(`/api/v1/models/${model}/versions?description=again`, {
    headers: { "content-type": "application/octet-stream" },
    data: legacy,
  });
  expect(again.status()).toBe(409);
  expect((await again.json()).error.message).toMatch(/already version 1/);
  const json = await api.post(`/api/v1/models/${model}/versions`, {
    data: { file: "not like this" },
  });
  expect(json.status()).toBe(415);
  const missing = await api.post(`/api/v1/models/${model}/versions`, {
    multipart: { description: "no file" },
  });
  expect(missing.status()).toBe(400);
  expect(await versionCount()).toBe(1);
  expect(storeFiles()).toEqual(filesBefore);
});

test("the third-party model's signature is read exactly", async () => {
  const res = await api.get(`/api/v1/models/${model}/versions/1`);
  const { signature } = (await res.json()).version;
  const shape = (name: string) =>
    [...signature.inputs, ...signature.outputs].find((v: { name: string }) => v.name === name);
  expect(signature.inputs.map((v: { name: string }) => v.name)).toEqual(["input", "sr", "h", "c"]);
  expect(shape("input")).toMatchObject({ dtype: "float32", shape: ["batch", "sequence"] });
  expect(shape("sr")).toMatchObject({ dtype: "int64", elementType: "INT64", shape: [] });
  expect(shape("h")).toMatchObject({ dtype: "float32", shape: [2, "batch", 64] });
  expect(shape("output")).toMatchObject({ dtype: "float32", shape: ["batch", 1] });
  expect(signature.opsets).toContainEqual({ domain: "", version: 16 });
  expect(signature.producerName).toBe("pytorch");
});

test("unknown model is 404 before the body is read; a viewer cannot upload", async () => {
  const res = await api.post("/api/v1/models/no-such-model/versions", {
    multipart: { file: { name: "m.onnx", mimeType: "application/octet-stream", buffer: legacy } },
  });
  expect(res.status()).toBe(404);
  const session = await request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  const viewerToken = (
    await (
      await session.post("/api/v1/tokens", { data: { name: "registry-viewer", role: "viewer" } })
    ).json()
  ).secret;
  await session.dispose();
  const viewer = await request.newContext({
    baseURL: state.baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${viewerToken}` },
  });
  const denied = await viewer.post(`/api/v1/models/${model}/versions`, {
    multipart: { file: { name: "m.onnx", mimeType: "application/octet-stream", buffer: legacy } },
  });
  expect(denied.status()).toBe(403);
  const promote = await viewer.put(`/api/v1/models/${model}/aliases/production`, {
    data: { version: 1 },
  });
  expect(promote.status()).toBe(403);
  expect((await viewer.get(`/api/v1/models/${model}`)).status()).toBe(200);
  await viewer.dispose();
});
