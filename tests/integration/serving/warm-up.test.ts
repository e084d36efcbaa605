/**
 * Warm-up never blocks a valid model, and a version that cannot serve says so. Models whose
 * graphs refuse the synthetic warm-up request (zeros, dynamic dimensions set to 1) are
 * registered through the real upload path, served by the real serving stack, answer proper
 * requests exactly as onnxruntime does in-process, and carry a warm-up warning until a stored
 * sample request replaces it (and becomes Try-it's example). A version onnxruntime cannot load
 * gets 503 model_unavailable with the reason and Retry-After, is retried on schedule, and
 * unknown models and aliases stay 404.
 */
import fs from "node:fs/promises";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createModel, getVersion, setSampleRequest } from "../../../lib/registry";
import { registerVersionBytes, uploadVersion } from "../../../lib/registry/upload";
import type { SampleRequest } from "../../../lib/serving/sample-request";
import { getServingStatus } from "../../../lib/serving/status";
import { exampleFor, prettyJson, trySignatureOf } from "../../../lib/serving/try-example";
import { startHeartbeat } from "../../../lib/system/heartbeat";
import { useTestDatabase } from "../helpers/db";
import { VAD_DIR } from "../onnx/helpers";
import { CONSTRAINED_MODELS, unknownDomainModel } from "./constrained-models";
import {
  ADMIN,
  classifierBytes,
  oneRow,
  postJson,
  promote,
  startInProcessServing,
  storeFor,
  tempDataDir,
  type InProcessServing,
} from "./harness";

const db = useTestDatabase({ truncate: false });
let data: Awaited<ReturnType<typeof tempDataDir>>;
let serving: InProcessServing;
/** Short, so a scheduled retry is seen within the test. */
const RETRY_MS = 1_500;

beforeAll(async () => {
  const { truncateAll } = await import("../helpers/db");
  await truncateAll(db.url);
  data = await tempDataDir();
  const store = storeFor(data.dir);
  for (const m of CONSTRAINED_MODELS) {
    await createModel(db.client, SYSTEM_ACTOR, { name: m.name, task: "other" });
    await registerVersionBytes(db.client, store, SYSTEM_ACTOR, m.bytes, {
      modelName: m.name,
      lineage: { kind: "upload" },
    });
    await promote(db.client, m.name, 1);
  }
  serving = await startInProcessServing({
    db: db.client,
    databaseUrl: db.url,
    dataDir: data.dir,
    failedRetryMs: RETRY_MS,
  });
});

afterAll(async () => {
  await serving?.stop();
  await data?.cleanup();
});

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not met in time");
}

const infer = (model: string, body: unknown, selector = "") =>
  postJson(`${serving.url}/v2/models/${model}${selector}/infer`, body);

const servedVersion = (model: string, version: number) =>
  serving.router
    .snapshot()
    .find((m) => m.model === model)
    ?.versions.find((v) => v.version === version);

/** What onnxruntime answers in this process, as OIP outputs. */
async function inProcess(bytes: Buffer, request: SampleRequest) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of request.inputs) {
      const values = (input.data as number[]).flat();
      feeds[input.name] =
        input.datatype === "INT64"
          ? new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), input.shape)
          : new ort.Tensor("float32", Float32Array.from(values), input.shape);
    }
    const results = await session.run(feeds);
    return session.outputNames.map((name) => ({
      name,
      shape: [...results[name]!.dims],
      datatype: "FP32",
      data: Array.from(results[name]!.data as Float32Array),
    }));
  } finally {
    await session.release();
  }
}

describe.each(CONSTRAINED_MODELS)("a model with $what", (m) => {
  it("is served, answers like onnxruntime in-process, and carries the warm-up warning", async () => {
    await waitFor(() => servedVersion(m.name, 1) !== undefined);
    const ready = await (await fetch(`${serving.url}/v2/models/${m.name}/ready`)).json();
    expect(ready).toMatchObject({ name: m.name, version: "1", ready: true });

    const res = await infer(m.name, m.request);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.outputs).toEqual(await inProcess(m.bytes, m.request));

    const served = servedVersion(m.name, 1)!;
    expect(served.warmUp).toBe("synthetic");
    expect(served.warning).toMatch(/^The warm-up with a synthetic request .* failed: .+/);
    // The load event is written off the serving path (fire and forget): wait for it.
    const loadedEvent = () =>
      db.client.servingLoadEvent.findFirst({
        where: { model: { name: m.name }, status: "loaded" },
        orderBy: { at: "desc" },
      });
    await waitFor(async () => (await loadedEvent()) !== null);
    const event = await loadedEvent();
    expect(event).toMatchObject({ warmUp: "synthetic", warning: served.warning });
    const status = await getServingStatus(db.client, m.name);
    expect(status.warmUpWarnings).toEqual([
      expect.objectContaining({ version: 1, warning: served.warning }),
    ]);

    // Try it does not offer the synthetic request that fails; it says why.
    const version = await getVersion(db.client, m.name, 1);
    const example = exampleFor(
      {
        signature: trySignatureOf(version.signature),
        sampleRequest: version.sampleRequest,
        warmUpWarning: status.warmUpWarnings[0]!.warning,
      },
      "infer",
    );
    expect(example).toMatchObject({ source: "none", body: "" });
    expect(example.note).toMatch(/^No example: the warm-up with a synthetic request/);
  });

  it("a sample request that onnxruntime refuses is not stored (422)", async () => {
    await expect(
      setSampleRequest(db.client, storeFor(data.dir), ADMIN, {
        modelName: m.name,
        version: 1,
        sampleRequest: m.refused,
      }),
    ).rejects.toMatchObject({
      status: 422,
      details: expect.objectContaining({ reason: "sample_failed" }),
    });
    expect((await getVersion(db.client, m.name, 1)).sampleRequest).toBeNull();
  });

  it("a stored sample request reloads the version, removes the warning and becomes Try-it's example", async () => {
    const before = servedVersion(m.name, 1)!;
    const version = await setSampleRequest(db.client, storeFor(data.dir), ADMIN, {
      modelName: m.name,
      version: 1,
      sampleRequest: m.request,
    });
    expect(version.sampleRequest).toEqual(m.request);
    await waitFor(() => servedVersion(m.name, 1)?.warmUp === "sample");
    const after = servedVersion(m.name, 1)!;
    expect(after.warning).toBeNull();
    expect(after.loadedAt >= before.loadedAt).toBe(true);

    const res = await infer(m.name, m.request);
    expect(res.status).toBe(200);
    expect(res.body.outputs).toEqual(await inProcess(m.bytes, m.request));

    await waitFor(
      async () => (await getServingStatus(db.client, m.name)).warmUpWarnings.length === 0,
    );
    const status = await getServingStatus(db.client, m.name);
    const example = exampleFor(
      {
        signature: trySignatureOf(version.signature),
        sampleRequest: version.sampleRequest,
        warmUpWarning: status.warmUpWarnings[0]?.warning ?? null,
      },
      "infer",
    );
    expect(example).toEqual({ body: prettyJson(m.request), source: "sample", note: null });
    // ...and what Try it sends with it is answered.
    expect((await infer(m.name, JSON.parse(example.body))).status).toBe(200);

    const audit = await db.client.auditEntry.findFirstOrThrow({
      where: { action: "version.sample_request.set", resourceId: version.id },
    });
    expect(audit.after).toMatchObject({ sampleRequest: { sha256: expect.any(String) } });
  });
});

describe("a real third-party model: Silero VAD v5, whose reflect pad needs 512 samples", () => {
  const MODEL = "silero-vad";
  let bytes: Buffer;
  const request: SampleRequest = {
    inputs: [
      {
        name: "input",
        shape: [1, 512],
        datatype: "FP32",
        data: Array.from({ length: 512 }, (_, i) => Math.round(Math.sin(i / 8) * 1e4) / 1e5),
      },
      { name: "state", shape: [2, 1, 128], datatype: "FP32", data: new Array(256).fill(0) },
      { name: "sr", shape: [], datatype: "INT64", data: [16000] },
    ],
  };

  beforeAll(async () => {
    bytes = await fs.readFile(path.join(VAD_DIR, "silero_vad_v5.onnx"));
    await createModel(db.client, SYSTEM_ACTOR, { name: MODEL, task: "other" });
    await registerVersionBytes(db.client, storeFor(data.dir), SYSTEM_ACTOR, bytes, {
      modelName: MODEL,
      lineage: { kind: "upload" },
    });
    await promote(db.client, MODEL, 1);
  });

  it("is served with a warm-up warning and answers a 512-sample chunk like onnxruntime", async () => {
    await waitFor(() => servedVersion(MODEL, 1) !== undefined);
    expect(servedVersion(MODEL, 1)!.warning).toMatch(/Pad/);
    const res = await infer(MODEL, request);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.outputs).toEqual(await inProcess(bytes, request));
  });

  it("warms up with that chunk once it is its sample request", async () => {
    await setSampleRequest(db.client, storeFor(data.dir), ADMIN, {
      modelName: MODEL,
      version: 1,
      sampleRequest: request,
    });
    await waitFor(() => servedVersion(MODEL, 1)?.warmUp === "sample");
    expect(servedVersion(MODEL, 1)!.warning).toBeNull();
  });
});

describe("sample requests", () => {
  it("one that does not fit the signature is a 400 naming the input", async () => {
    const m = CONSTRAINED_MODELS[1]!;
    await expect(
      setSampleRequest(db.client, storeFor(data.dir), ADMIN, {
        modelName: m.name,
        version: 1,
        sampleRequest: {
          inputs: [{ name: "row", shape: [1, 3], datatype: "FP64", data: [1, 2, 3] }],
        },
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/"row".*FP32|FP64/) });
    await expect(
      setSampleRequest(db.client, storeFor(data.dir), ADMIN, {
        modelName: m.name,
        version: 1,
        sampleRequest: { inputs: "none" },
      }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("sampleRequest.inputs"),
    });
  });

  it("given at upload, it is checked, stored, and the first warm-up uses it", async () => {
    const m = CONSTRAINED_MODELS[0]!;
    const store = storeFor(data.dir);
    await createModel(db.client, SYSTEM_ACTOR, { name: "uploaded-pad", task: "other" });
    const upload = (sample: unknown) => {
      const form = new FormData();
      form.append("sampleRequest", JSON.stringify(sample));
      form.append("file", new Blob([new Uint8Array(m.bytes)]), "pad.onnx");
      return uploadVersion(db.client, store, SYSTEM_ACTOR, {
        modelName: "uploaded-pad",
        request: new Request("http://localhost/upload", { method: "POST", body: form }),
        maxBytes: 10 * 1024 * 1024,
      });
    };
    await expect(upload(m.refused)).rejects.toMatchObject({ status: 422 });
    await expect(upload({ inputs: [] })).rejects.toMatchObject({ status: 400 });
    expect(await db.client.modelVersion.count({ where: { model: { name: "uploaded-pad" } } })).toBe(
      0,
    );

    const created = await upload(m.request);
    expect(created).toMatchObject({ version: 1, sampleRequest: m.request });
    await promote(db.client, "uploaded-pad", 1);
    await waitFor(() => servedVersion("uploaded-pad", 1) !== undefined);
    expect(servedVersion("uploaded-pad", 1)).toMatchObject({ warmUp: "sample", warning: null });
  });

  it("clearing it goes back to the synthetic warm-up and its warning", async () => {
    const m = CONSTRAINED_MODELS[2]!;
    await setSampleRequest(db.client, storeFor(data.dir), ADMIN, {
      modelName: m.name,
      version: 1,
      sampleRequest: null,
    });
    await waitFor(() => servedVersion(m.name, 1)?.warmUp === "synthetic");
    expect(servedVersion(m.name, 1)!.warning).toBeTruthy();
    await expect(
      setSampleRequest(db.client, storeFor(data.dir), ADMIN, {
        modelName: m.name,
        version: 1,
        sampleRequest: null,
      }),
    ).rejects.toMatchObject({ status: 409 });
  });
});

describe("a version onnxruntime cannot load", () => {
  const MODEL = "unloadable";
  let storageFile: string;
  let good: Buffer;

  beforeAll(async () => {
    const store = storeFor(data.dir);
    good = classifierBytes(0);
    await createModel(db.client, SYSTEM_ACTOR, { name: MODEL, task: "classification" });
    const version = await registerVersionBytes(db.client, store, SYSTEM_ACTOR, good, {
      modelName: MODEL,
      lineage: { kind: "upload" },
    });
    // Upload refuses an unknown operator domain, so the stored artifact is replaced by one
    // (a bad restore, a tampered bucket): onnxruntime cannot create a session for it.
    storageFile = path.join(data.dir, "artifacts", version.storageKey);
    await fs.writeFile(storageFile, unknownDomainModel());
    await promote(db.client, MODEL, 1);
  });

  it("answers 503 model_unavailable naming the version and the load error, with Retry-After", async () => {
    await waitFor(
      () =>
        serving.router.snapshot().find((m) => m.model === MODEL)?.unavailable[0]?.state ===
        "failed",
    );
    const res = await infer(MODEL, oneRow());
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      code: "model_unavailable",
      version: "1",
      error: expect.stringMatching(
        /alias "production" points at version 1, which cannot be served: .*Mystery|org\.example\.unknown/,
      ),
    });
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(RETRY_MS / 1000));
    // The same through the simple form and with the alias named.
    expect(
      (await postJson(`${serving.url}/v2/models/${MODEL}/predict`, { rows: [[1, 2, 3, 4]] }))
        .status,
    ).toBe(503);
    expect((await infer(MODEL, oneRow(), "/versions/production")).status).toBe(503);

    // Monitoring counts those 503s against the version that cannot answer.
    const requestId = res.headers.get("x-request-id")!;
    await waitFor(
      async () =>
        (await db.client.predictionLog.count({ where: { requestId, status: 503 } })) === 1,
    );
    const logged = await db.client.predictionLog.findUniqueOrThrow({ where: { requestId } });
    expect(logged).toMatchObject({ version: 1, status: 503 });
  });

  it("is not ready, with the reason; metadata is 503 too", async () => {
    const ready = await (await fetch(`${serving.url}/v2/models/${MODEL}/ready`)).json();
    expect(ready).toMatchObject({ name: MODEL, version: "1", ready: false });
    expect(ready.reason).toMatch(/cannot be served/);
    expect((await fetch(`${serving.url}/v2/models/${MODEL}`)).status).toBe(503);
  });

  it("still answers 404 for an unknown model and an unknown alias", async () => {
    const model = await infer("no-such-model", oneRow());
    expect(model).toMatchObject({ status: 404, body: { code: "model_not_found" } });
    const alias = await infer(MODEL, oneRow(), "/versions/canary");
    expect(alias).toMatchObject({ status: 404, body: { code: "model_not_found" } });
    expect(alias.body.error).toContain('no alias "canary"');
    const ready = await (await fetch(`${serving.url}/v2/models/no-such-model/ready`)).json();
    expect(ready).toMatchObject({ ready: false, reason: expect.stringContaining("no-such-model") });
  });

  it("the status the web reads says it is not served on 1 of 1 instances, and why", async () => {
    const heartbeat = startHeartbeat(
      db.client,
      "serving",
      () => ({ models: serving.router.snapshot() }),
      () => undefined,
      "serving-test-heartbeat",
    );
    try {
      await waitFor(async () => (await getServingStatus(db.client, MODEL)).instances.length === 1);
      const status = await getServingStatus(db.client, MODEL);
      expect(status.versions).toEqual([
        expect.objectContaining({
          version: 1,
          aliases: ["production"],
          instances: 1,
          servedOn: 0,
          notServedOn: 1,
          reason: expect.stringMatching(/Mystery|org\.example\.unknown/),
          notServed: [
            expect.objectContaining({
              instanceId: "serving-test-heartbeat",
              alias: "production",
              state: "failed",
              servedInstead: null,
              retryAt: expect.any(String),
            }),
          ],
        }),
      ]);
      expect(status.loadFailures.map((f) => f.version)).toEqual([1]);
      // A version served with a warning is reported too.
      const warned = await getServingStatus(db.client, CONSTRAINED_MODELS[2]!.name);
      expect(warned.versions[0]).toMatchObject({
        notServedOn: 0,
        warmUpWarning: expect.any(String),
      });
    } finally {
      await heartbeat.stop();
    }
  });

  it("is retried on schedule, without any registry event, and then served", async () => {
    await fs.writeFile(storageFile, good);
    await waitFor(async () => (await infer(MODEL, oneRow())).status === 200, RETRY_MS * 4);
    expect(
      await db.client.servingLoadEvent.count({
        where: { model: { name: MODEL }, status: "failed" },
      }),
    ).toBeGreaterThanOrEqual(1);
  });
});
