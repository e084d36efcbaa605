/**
 * The serving data plane against a real registry: Open Inference Protocol requests from the
 * spec's examples, every class of bad input, a fuzz of malformed bodies, token auth, body
 * limits, the prediction log, metrics, hot swap on promotion and a version that cannot load.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken, revokeApiToken } from "../../../lib/auth/tokens";
import { createCachedTokenVerifier } from "../../../lib/auth/tokens";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { seededRandom } from "../../../lib/training/random";
import { updateServingSettings } from "../../../lib/serving/settings";
import { useTestDatabase } from "../helpers/db";
import {
  addVersion,
  classifierBytes,
  createClassifier,
  labelOf,
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
let token: string;
const MODEL = "serving-test";
const MAX_BODY = 64 * 1024;

beforeAll(async () => {
  const { truncateAll } = await import("../helpers/db");
  await truncateAll(db.url);
  data = await tempDataDir();
  const store = storeFor(data.dir);
  await createClassifier(db.client, store, MODEL, [classifierBytes(0), classifierBytes(1)], 1);
  const created = await createApiToken(db.client, SYSTEM_ACTOR, { name: "client", role: "viewer" });
  token = created.secret;
  const tokenCache = createCachedTokenVerifier(db.client);
  serving = await startInProcessServing({
    db: db.client,
    databaseUrl: db.url,
    dataDir: data.dir,
    authorize: async (t) => (await tokenCache.verify(t)) !== null,
    tokenCache,
    maxBodyBytes: MAX_BODY,
  });
});

afterAll(async () => {
  await serving?.stop();
  await data?.cleanup();
});

const auth = () => ({ authorization: `Bearer ${token}` });
const infer = (body: unknown, target = `/v2/models/${MODEL}`) =>
  postJson(`${serving.url}${target}/infer`, body, auth());

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not met in time");
}

describe("Open Inference Protocol", () => {
  it("health, server metadata and model metadata follow the spec", async () => {
    expect((await fetch(`${serving.url}/v2/health/live`)).status).toBe(200);
    const ready = await fetch(`${serving.url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      models: [{ model: MODEL, aliases: { production: 1 } }],
    });
    const server = await fetch(`${serving.url}/v2`, { headers: auth() });
    expect(await server.json()).toEqual({
      name: "modeldeck",
      version: "0.1.0",
      extensions: ["binary_tensor_data"],
    });
    const meta = await fetch(`${serving.url}/v2/models/${MODEL}`, { headers: auth() });
    expect(await meta.json()).toEqual({
      name: MODEL,
      versions: ["1"],
      platform: "onnx_onnxv1",
      inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
      outputs: [
        { name: "label", datatype: "INT64", shape: [-1] },
        { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
      ],
    });
    const v2 = await fetch(`${serving.url}/v2/models/${MODEL}/versions/2`, { headers: auth() });
    expect((await v2.json()).versions).toEqual(["2"]);
    const modelReady = await fetch(`${serving.url}/v2/models/${MODEL}/ready`, { headers: auth() });
    expect(await modelReady.json()).toMatchObject({ name: MODEL, ready: true });
  });

  it("answers the spec's inference example shape: id echoed, requested outputs only", async () => {
    // The spec's example request, with this model's input (it names input0/output0).
    const res = await infer({
      id: "42",
      inputs: [
        {
          name: "features",
          shape: [2, 4],
          datatype: "FP32",
          data: [
            [1, 2, 3, 4],
            [5, 6, 7, 8],
          ],
        },
      ],
      outputs: [{ name: "label" }],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      model_name: MODEL,
      model_version: "1",
      id: "42",
      outputs: [{ name: "label", shape: [2], datatype: "INT64", data: [0, 0] }],
    });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-model-version")).toBe("1");
  });

  it("without an id, the response id is the request id of the x-request-id header", async () => {
    const res = await infer(oneRow());
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(res.headers.get("x-request-id"));
    const probs = (res.body.outputs as Array<{ name: string; data: number[] }>)[1]!;
    expect(probs.name).toBe("probabilities");
    expect(probs.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it("serves a version by number and by alias name", async () => {
    expect(labelOf((await infer(oneRow(), `/v2/models/${MODEL}/versions/2`)).body)).toBe(1);
    await promote(db.client, MODEL, 2, "challenger");
    await waitFor(
      async () => (await infer(oneRow(), `/v2/models/${MODEL}/versions/challenger`)).status === 200,
    );
    const res = await infer(oneRow(), `/v2/models/${MODEL}/versions/challenger`);
    expect(res.body.model_version).toBe("2");
    const unknown = await infer(oneRow(), `/v2/models/${MODEL}/versions/canary`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toContain('no alias "canary"');
  });

  it("the simple JSON form takes rows of numbers or objects keyed by feature name", async () => {
    const url = `${serving.url}/v2/models/${MODEL}/predict`;
    const numbers = await postJson(
      url,
      {
        rows: [
          [1, 2, 3, 4],
          [4, 3, 2, 1],
        ],
      },
      auth(),
    );
    expect(numbers.status).toBe(200);
    expect(numbers.body).toMatchObject({ model_name: MODEL, model_version: "1" });
    const predictions = numbers.body.predictions as Array<{
      label: number;
      probabilities: number[];
    }>;
    expect(predictions).toHaveLength(2);
    expect(predictions[0]!.label).toBe(0);
    expect(predictions[0]!.probabilities).toHaveLength(3);
    const objects = await postJson(url, { rows: [{ a: 1, b: 2, c: 3, d: 4 }] }, auth());
    expect(objects.status).toBe(200);
    const missing = await postJson(url, { rows: [{ a: 1, b: 2, c: 3 }] }, auth());
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/"d"/);
  });
});

describe("bad input gets a 4xx that names the problem", () => {
  const good = oneRow().inputs[0]!;
  const cases: Array<[string, unknown, number, RegExp]> = [
    ["malformed JSON", "{not json", 400, /Malformed JSON/],
    ["empty body", "", 400, /empty/],
    ["not an object", "[1,2]", 400, /object/i],
    ["no inputs", { inputs: [] }, 400, /inputs/],
    ["missing input", { inputs: [{ ...good, name: "other" }] }, 400, /"features"/],
    ["extra input", { inputs: [good, { ...good, name: "extra" }] }, 400, /"extra"/],
    ["wrong datatype", { inputs: [{ ...good, datatype: "FP64" }] }, 400, /FP64.*FP32/],
    ["unknown datatype", { inputs: [{ ...good, datatype: "FLOAT" }] }, 400, /"features"/],
    [
      "bad shape",
      { inputs: [{ ...good, shape: [1, 5], data: [1, 2, 3, 4, 5] }] },
      400,
      /dimension 1 must be 4/,
    ],
    ["wrong rank", { inputs: [{ ...good, shape: [4] }] }, 400, /"features"/],
    ["data length", { inputs: [{ ...good, shape: [2, 4] }] }, 400, /needs 8 values, got 4/],
    [
      "non-finite",
      '{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,1e400]}]}',
      400,
      /"features"/,
    ],
    ["string in floats", { inputs: [{ ...good, data: [1, 2, "3", 4] }] }, 400, /"features"/],
    ["unknown output", { ...oneRow(), outputs: [{ name: "logits" }] }, 400, /"logits"/],
    ["unknown field", { ...oneRow(), extra: 1 }, 400, /extra/],
  ];
  for (const [what, body, status, message] of cases) {
    it(what, async () => {
      const res = await infer(body);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(String(res.body.error)).toMatch(message);
    });
  }

  it("unknown model or version is a 404", async () => {
    const model = await infer(oneRow(), "/v2/models/nope");
    expect(model.status).toBe(404);
    expect(model.body.error).toContain('"nope"');
    const version = await infer(oneRow(), `/v2/models/${MODEL}/versions/99`);
    expect(version.status).toBe(404);
    expect(version.body.error).toContain("no version 99");
  });

  it("a body over the limit is a 413, declared or streamed", async () => {
    const big = JSON.stringify({
      inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
      pad: "x".repeat(MAX_BODY),
    });
    const declared = await infer(big);
    expect(declared.status).toBe(413);
    // Chunked (no content-length): the limit is enforced while reading.
    const res = await fetch(`${serving.url}/v2/models/${MODEL}/infer`, {
      method: "POST",
      headers: auth(),
      body: new Blob([big]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("wrong methods and paths are JSON 405 / 404", async () => {
    const get = await fetch(`${serving.url}/v2/models/${MODEL}/infer`, { headers: auth() });
    expect(get.status).toBe(405);
    const path404 = await fetch(`${serving.url}/v3/whatever`, { headers: auth() });
    expect(path404.status).toBe(404);
    expect((await path404.json()).error).toContain("No route");
  });

  it("a fuzz of 1,000 random malformed bodies yields no 5xx, and the server stays up", async () => {
    const random = seededRandom(20261201);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
    const junkValues = [null, true, -1, 1.5, 1e308, "", "x", [], {}, [[1]], [1, [2]], { a: 1 }];
    const mutate = (): unknown => {
      const base: Record<string, unknown> = structuredClone(oneRow().inputs[0]!);
      const key = pick(["name", "shape", "datatype", "data", "parameters", "extra"]);
      base[key] = pick([
        ...junkValues,
        [0, 4],
        [-1, 4],
        [1e9, 4],
        [1, 4, 1, 1, 1, 1, 1, 1, 1],
        Array.from({ length: 4 }, () => pick(junkValues)),
        "FP16",
        "BYTES",
        "INT64",
      ]);
      if (random() < 0.2) delete base[key];
      const body: Record<string, unknown> = { inputs: random() < 0.1 ? pick(junkValues) : [base] };
      if (random() < 0.2) body.outputs = pick(junkValues);
      if (random() < 0.1) body.id = pick(junkValues);
      if (random() < 0.05) return pick(junkValues);
      return body;
    };
    const raw = (): string => {
      const text = JSON.stringify(mutate()) ?? "null";
      // Some bodies are cut or corrupted bytes, not JSON at all.
      if (random() < 0.15) return text.slice(0, Math.floor(random() * text.length));
      if (random() < 0.05) return text.replace(/[0-9]/, "\u0000");
      return text;
    };
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 50; batch++) {
      const results = await Promise.all(Array.from({ length: 20 }, () => infer(raw())));
      for (const r of results) {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
        expect(typeof r.body.error === "string" || r.status === 200).toBe(true);
      }
    }
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(1000);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(800);
    expect((await infer(oneRow())).status).toBe(200);
  });
});

describe("access", () => {
  it("inference needs a valid token; health and metrics stay open", async () => {
    const none = await postJson(`${serving.url}/v2/models/${MODEL}/infer`, oneRow());
    expect(none.status).toBe(401);
    expect(none.body.error).toContain("Authorization: Bearer");
    const wrong = await postJson(`${serving.url}/v2/models/${MODEL}/infer`, oneRow(), {
      authorization: "Bearer mdk_not-a-real-token-at-all-000000000",
    });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${serving.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${serving.url}/v2/health/ready`)).status).toBe(200);
  });

  it("a revoked token is refused within a second (the revoke is pushed to the cache)", async () => {
    const created = await createApiToken(db.client, SYSTEM_ACTOR, {
      name: "short",
      role: "viewer",
    });
    const headers = { authorization: `Bearer ${created.secret}` };
    const url = `${serving.url}/v2/models/${MODEL}/infer`;
    expect((await postJson(url, oneRow(), headers)).status).toBe(200);
    await revokeApiToken(db.client, SYSTEM_ACTOR, created.token.id);
    await waitFor(async () => (await postJson(url, oneRow(), headers)).status === 401, 1_000);
  });
});

describe("observability", () => {
  it("every request lands in the prediction log with its request id, status and latency", async () => {
    await updateServingSettings(db.client, SYSTEM_ACTOR, MODEL, { payloadSampleRate: 1 });
    await waitFor(async () => serving.router.sampleRate(MODEL) === 1);
    const ok = await infer(oneRow([9, 9, 9, 9]));
    const bad = await infer({ inputs: [{ ...oneRow().inputs[0]!, datatype: "FP64" }] });
    const okId = ok.headers.get("x-request-id")!;
    const badId = bad.headers.get("x-request-id")!;
    await waitFor(
      async () =>
        (await db.client.predictionLog.count({ where: { requestId: { in: [okId, badId] } } })) ===
        2,
    );
    const okRow = await db.client.predictionLog.findFirstOrThrow({ where: { requestId: okId } });
    expect(okRow).toMatchObject({
      model: MODEL,
      version: 1,
      alias: "production",
      status: 200,
      rows: 1,
    });
    expect(okRow.latencyMs).toBeGreaterThan(0);
    expect(okRow.batchSize).toBeGreaterThanOrEqual(1);
    expect(okRow.inputs).toEqual([
      { name: "features", shape: [1, 4], datatype: "FP32", data: [9, 9, 9, 9] },
    ]);
    expect((okRow.outputs as unknown[]).length).toBe(2);
    const badRow = await db.client.predictionLog.findFirstOrThrow({ where: { requestId: badId } });
    expect(badRow).toMatchObject({ status: 400, inputs: null });
    expect(badRow.error).toContain("FP32");
  });

  it("records after the answer is written: a failing record costs neither the answer nor the process", async () => {
    const log = serving.predictionLog;
    const record = log.record.bind(log);
    let calls = 0;
    log.record = () => {
      calls++;
      throw new Error("bookkeeping bug");
    };
    try {
      const res = await infer(oneRow());
      expect(res.status).toBe(200); // written before the record ran (and threw)
      await waitFor(async () => calls === 1);
    } finally {
      log.record = record;
    }
    // Still serving (an unhandled rejection here would also fail the run).
    expect((await infer(oneRow())).status).toBe(200);
  });

  it("logs every answer's prediction, ids in time order, and per-minute rollups equal to the log", async () => {
    const { default: pg } = await import("pg");
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const notified: unknown[] = [];
    listener.on("notification", (n) => notified.push(JSON.parse(n.payload ?? "null")));
    await listener.query("LISTEN modeldeck_metrics");
    try {
      const answers = [];
      for (let i = 0; i < 20; i++) answers.push(await infer(oneRow([i, 1, 2, 3])));
      await infer({ inputs: [{ ...oneRow().inputs[0]!, datatype: "FP64" }] }); // a 400
      const ids = answers.map((a) => a.headers.get("x-request-id")!);
      expect(ids.every((id) => id[14] === "7")).toBe(true); // UUID version 7
      expect([...ids].sort()).toEqual(ids); // time-ordered (one process, increasing clock)
      await waitFor(
        async () =>
          (await db.client.predictionLog.count({ where: { requestId: { in: ids } } })) === 20,
      );
      const rows = await db.client.predictionLog.findMany({ where: { requestId: { in: ids } } });
      const byId = new Map(rows.map((r) => [r.requestId, r]));
      answers.forEach((answer, i) => {
        // the label output is a class index; the model names its classes x, y, z
        const label = ["x", "y", "z"][labelOf(answer.body as Record<string, unknown>)];
        expect(JSON.parse(byId.get(ids[i]!)!.predicted!)).toEqual([label]);
      });
      await waitFor(async () => notified.length > 0);
      const model = await db.client.model.findUniqueOrThrow({ where: { name: MODEL } });
      expect(notified[0]).toEqual({ type: "metrics.updated", models: [model.id] });
      // What the charts read equals what the raw log says, minute by minute (one snapshot:
      // the writer may commit another batch between two separate reads).
      const [fromLog, rollups] = await db.client.$transaction(
        [
          db.client.$queryRaw<
            { minute: Date; version: number; requests: bigint; client: bigint; max: number }[]
          >`SELECT date_trunc('minute', at) AS minute, coalesce(version, 0) AS version,
                   count(*) AS requests,
                   count(*) FILTER (WHERE status BETWEEN 400 AND 499) AS client,
                   max("latencyMs") AS max
              FROM prediction_log WHERE "modelId" = ${model.id}::uuid
             GROUP BY 1, 2 ORDER BY 1, 2`,
          db.client.metricRollup.findMany({
            where: { modelId: model.id },
            orderBy: [{ minute: "asc" }, { version: "asc" }],
          }),
        ],
        { isolationLevel: "RepeatableRead" },
      );
      expect(
        rollups.map((r) => ({
          minute: r.minute,
          version: r.version,
          requests: r.requests,
          client: r.clientErrors,
          max: r.latencyMaxMs,
          counted: r.latencyBuckets.reduce((a, b) => a + b, 0n),
        })),
      ).toEqual(fromLog.map((l) => ({ ...l, counted: l.requests })));
    } finally {
      await listener.end();
    }
  });

  it("exposes Prometheus metrics by model and version", async () => {
    const text = await (await fetch(`${serving.url}/metrics`)).text();
    expect(text).toMatch(
      /modeldeck_inference_requests_total\{model="serving-test",version="1",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /modeldeck_inference_request_duration_seconds_bucket\{le="[\d.]+",model="serving-test",version="1"\}/,
    );
    expect(text).toContain("modeldeck_inference_queue_duration_seconds_bucket");
    expect(text).toContain("modeldeck_inference_compute_duration_seconds_bucket");
    expect(text).toContain("modeldeck_inference_batch_size_bucket");
    expect(text).toMatch(/modeldeck_serving_loaded_models\{model="serving-test",version="1"\} 1/);
    expect(text).toContain("modeldeck_prediction_log_dropped_total");
  });

  it("concurrent requests are batched into shared onnxruntime calls", async () => {
    const batchSizes = async () => {
      const text = await (await fetch(`${serving.url}/metrics`)).text();
      const read = (series: string) =>
        Number(new RegExp(`modeldeck_inference_batch_size_${series} (\\d+)`).exec(text)?.[1] ?? 0);
      return {
        calls: read('count\\{model="serving-test",version="1"\\}'),
        rows: read('sum\\{model="serving-test",version="1"\\}'),
      };
    };
    const before = await batchSizes();
    const results = await Promise.all(Array.from({ length: 64 }, () => infer(oneRow())));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const after = await batchSizes();
    // One observation per onnxruntime call: the 64 rows ran in fewer than 64 calls.
    expect(after.rows - before.rows).toBe(64);
    expect(after.calls - before.calls).toBeLessThan(64);
    expect(after.calls - before.calls).toBeGreaterThan(0);
  });
});

describe("hot swap", () => {
  it("a promotion switches the served version; rollback switches back", async () => {
    await promote(db.client, MODEL, 2);
    await waitFor(async () => labelOf((await infer(oneRow())).body) === 1, 2_000);
    expect((await infer(oneRow())).body.model_version).toBe("2");
    await promote(db.client, MODEL, 1);
    await waitFor(async () => labelOf((await infer(oneRow())).body) === 0, 2_000);
  });

  it("a version that cannot load is recorded, and the previous version keeps serving", async () => {
    const store = storeFor(data.dir);
    const v3 = await addVersion(db.client, store, MODEL, classifierBytes(2, 7));
    // Damage the stored artifact after upload (a bad disk, a partial restore…).
    const row = await db.client.modelVersion.findFirstOrThrow({
      where: { version: v3, model: { name: MODEL } },
    });
    await fs.writeFile(path.join(data.dir, "artifacts", row.storageKey), "not an onnx model");
    await promote(db.client, MODEL, v3);
    await waitFor(
      async () =>
        (await db.client.servingLoadEvent.count({
          where: { versionId: row.id, status: "failed" },
        })) > 0,
    );
    const event = await db.client.servingLoadEvent.findFirstOrThrow({
      where: { versionId: row.id },
    });
    expect(event.message).toBeTruthy();
    const res = await infer(oneRow());
    expect(res.status).toBe(200);
    expect(res.body.model_version).toBe("1");
    const ready = await (await fetch(`${serving.url}/v2/health/ready`)).json();
    expect(ready.models[0].aliases.production).toBe(1);
    await promote(db.client, MODEL, 1);
  });
});
