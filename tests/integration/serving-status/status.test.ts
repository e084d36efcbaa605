import http from "node:http";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { findFreePort } from "../../../lib/db/embedded-postgres";
import { tryItKey } from "../../../lib/serving/internal-key";
import { DEFAULT_SERVING_SETTINGS, updateServingSettings } from "../../../lib/serving/settings";
import { getAliasServing } from "../../../lib/serving/alias-serving";
import { getServingStatus, tryPrediction } from "../../../lib/serving/status";
import { setAlias } from "../../../lib/registry";
import { useRegistryDb } from "../registry/fixtures";

const SECRET = "s".repeat(40);

describe("getServingStatus", () => {
  const r = useRegistryDb();
  const db = () => r.db.client;

  async function beat(
    instanceId: string,
    info: unknown,
    lastSeenAt = new Date(),
    kind = "serving",
  ) {
    await db().processHeartbeat.create({
      data: {
        instanceId,
        kind,
        hostname: "h",
        pid: 1,
        startedAt: lastSeenAt,
        lastSeenAt,
        info: info as object,
      },
    });
  }

  async function event(
    versionId: string,
    modelId: string,
    status: string,
    at: Date,
    instanceId = "serving-a",
    message: string | null = null,
  ) {
    await db().servingLoadEvent.create({
      data: { versionId, modelId, status, at, instanceId, message, durationMs: 5 },
    });
  }

  it("reports settings, live instances for this model, and versions still failing to load", async () => {
    const admin = await r.seedActor("admin");
    const model = await r.seedModel(admin, "churn");
    await r.seedModel(admin, "other");
    const [v1, v2, v3, v4] = await r.seedVersions(admin, "churn", 4);
    await setAlias(db(), admin, { modelName: "churn", alias: "production", version: 3 });

    let status = await getServingStatus(db(), "churn");
    expect(status).toEqual({
      settings: DEFAULT_SERVING_SETTINGS,
      instances: [],
      versions: [
        {
          version: 3,
          versionId: v3!.id,
          aliases: ["production"],
          instances: 0,
          servedOn: 0,
          notServedOn: 0,
          notServed: [],
          reason: null,
          warmUpWarning: null,
          hasSampleRequest: false,
        },
      ],
      loadFailures: [],
      warmUpWarnings: [],
    });

    await updateServingSettings(db(), admin, "churn", { maxBatchSize: 8 });
    const now = new Date();
    await beat(
      "serving-b",
      {
        models: [
          { model: "other", aliases: { production: 9 } },
          { model: "churn", aliases: { production: 2, staging: "x" } },
        ],
      },
      now,
    );
    await beat("serving-a", { models: [] }, now);
    await beat(
      "serving-stale",
      { models: [{ model: "churn", aliases: { production: 1 } }] },
      new Date(now.getTime() - 60_000),
    );
    await beat("scheduler-1", {}, now, "scheduler");

    const t = (s: number) => new Date(now.getTime() - 100_000 + s * 1000);
    // v1 failed once, then loaded: fine now.
    await event(v1!.id, model.id, "failed", t(1), "serving-a", "boom");
    await event(v1!.id, model.id, "loaded", t(2));
    // v2 loaded, then failed on two instances: the newest failure counts.
    await event(v2!.id, model.id, "loaded", t(3));
    await event(v2!.id, model.id, "failed", t(4), "serving-a", "old failure");
    await event(v2!.id, model.id, "failed", t(6), "serving-b", "out of memory");
    // v3 failed most recently, and production points at it.
    await event(v3!.id, model.id, "failed", t(8), "serving-b", "bad opset");
    // v4 only ever loaded.
    await event(v4!.id, model.id, "loaded", t(9));

    status = await getServingStatus(db(), "churn", now);
    expect(status.settings).toEqual({ ...DEFAULT_SERVING_SETTINGS, maxBatchSize: 8 });
    expect(status.instances).toEqual([
      {
        instanceId: "serving-a",
        aliases: {},
        versions: [],
        unavailable: [],
        lastSeenAt: now.toISOString(),
      },
      {
        instanceId: "serving-b",
        aliases: { production: 2 },
        versions: [],
        unavailable: [],
        lastSeenAt: now.toISOString(),
      },
    ]);
    // production → v3 is answered by neither live instance: b still answers it with v2, a has
    // not reported it (heartbeats written before these fields existed read the same way).
    expect(status.versions).toEqual([
      expect.objectContaining({
        version: 3,
        instances: 2,
        servedOn: 0,
        notServedOn: 2,
        reason: "not reported by the instance yet",
        notServed: [
          expect.objectContaining({
            instanceId: "serving-a",
            state: "pending",
            servedInstead: null,
          }),
          expect.objectContaining({ instanceId: "serving-b", state: "pending", servedInstead: 2 }),
        ],
      }),
    ]);
    expect(status.loadFailures).toEqual([
      {
        version: 3,
        versionId: v3!.id,
        message: "bad opset",
        at: t(8).toISOString(),
        instanceId: "serving-b",
        aliases: ["production"],
      },
      {
        version: 2,
        versionId: v2!.id,
        message: "out of memory",
        at: t(6).toISOString(),
        instanceId: "serving-b",
        aliases: [],
      },
    ]);

    // A later successful load clears it.
    await event(v3!.id, model.id, "loaded", t(10), "serving-b");
    status = await getServingStatus(db(), "churn", now);
    expect(status.loadFailures.map((f) => f.version)).toEqual([2]);
  });

  it("is a 404 for an unknown model", async () => {
    await expect(getServingStatus(db(), "nope")).rejects.toMatchObject({ status: 404 });
  });

  it("reports warm-up warnings until a sample request is stored, and which models have problems", async () => {
    const admin = await r.seedActor("admin");
    const model = await r.seedModel(admin, "vad");
    await r.seedModel(admin, "healthy");
    const [v1, v2] = await r.seedVersions(admin, "vad", 2);
    await r.seedVersions(admin, "healthy", 1);
    await setAlias(db(), admin, { modelName: "vad", alias: "production", version: 1 });
    await setAlias(db(), admin, { modelName: "vad", alias: "staging", version: 2 });
    await setAlias(db(), admin, { modelName: "healthy", alias: "production", version: 1 });
    const now = new Date();
    const warning =
      "The warm-up with a synthetic request failed: Pad reflect requires axis length >= 2";
    await db().servingLoadEvent.create({
      data: {
        versionId: v1!.id,
        modelId: model.id,
        status: "loaded",
        at: new Date(now.getTime() - 5_000),
        instanceId: "serving-a",
        durationMs: 3,
        warmUp: "synthetic",
        warning,
      },
    });
    const report = (served: Record<string, number>, extra: object = {}) => ({
      models: [
        {
          model: "vad",
          aliases: served,
          versions: [
            {
              version: 1,
              versionId: v1!.id,
              loadedAt: now.toISOString(),
              loadMs: 3,
              batchable: false,
              warmUp: "synthetic",
              warning,
            },
          ],
          unavailable: [],
          ...extra,
        },
        { model: "healthy", aliases: { production: 1 }, versions: [], unavailable: [] },
      ],
    });
    await beat("serving-a", report({ production: 1, staging: 2 }), now);
    await beat(
      "serving-b",
      report(
        { production: 1 },
        {
          unavailable: [
            {
              alias: "staging",
              version: 2,
              versionId: v2!.id,
              state: "failed",
              error: "onnxruntime cannot create a session: out of memory",
              failedAt: now.toISOString(),
              retryAt: new Date(now.getTime() + 60_000).toISOString(),
              servedInstead: null,
            },
          ],
        },
      ),
      now,
    );

    let status = await getServingStatus(db(), "vad", now);
    expect(status.warmUpWarnings).toEqual([
      {
        version: 1,
        versionId: v1!.id,
        warning,
        at: new Date(now.getTime() - 5_000).toISOString(),
        instanceId: "serving-a",
      },
    ]);
    expect(status.versions).toEqual([
      expect.objectContaining({
        version: 2,
        aliases: ["staging"],
        instances: 2,
        servedOn: 1,
        notServedOn: 1,
        reason: "onnxruntime cannot create a session: out of memory",
        warmUpWarning: null,
      }),
      expect.objectContaining({
        version: 1,
        aliases: ["production"],
        servedOn: 2,
        notServedOn: 0,
        reason: null,
        warmUpWarning: warning,
      }),
    ]);
    // The summary every page shows reads the same heartbeat: staging is not served on
    // serving-b, with the error that instance reported (no load event needed).
    const vad = await db().model.findUniqueOrThrow({ where: { name: "vad" } });
    const summary = await getAliasServing(db(), { modelIds: [vad.id] }, now);
    expect(summary.map((a) => [a.alias, a.state, a.notServedOn, a.error?.message])).toEqual([
      ["production", "served", 0, undefined],
      ["staging", "not_served", 1, "onnxruntime cannot create a session: out of memory"],
    ]);

    // A stored sample request makes the recorded warning stale: serving reloads with it.
    await db().modelVersion.update({
      where: { id: v1!.id },
      data: { sampleRequest: { inputs: [] }, sampleRequestSha256: "x".repeat(64) },
    });
    status = await getServingStatus(db(), "vad", now);
    expect(status.warmUpWarnings).toEqual([]);
  });
});

describe("tryPrediction", () => {
  const r = useRegistryDb();
  const servers: http.Server[] = [];
  beforeAll(() => {
    process.env.BETTER_AUTH_SECRET = SECRET;
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
  });

  type Seen = { method?: string; url?: string; authorization?: string; body: string };
  async function fakeServing(
    reply: (seen: Seen, res: http.ServerResponse) => void,
  ): Promise<{ baseUrl: string; seen: Seen[] }> {
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const s = {
          method: req.method,
          url: req.url,
          authorization: req.headers.authorization,
          body,
        };
        seen.push(s);
        reply(s, res);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address() as { port: number };
    return { baseUrl: `http://127.0.0.1:${address.port}`, seen };
  }

  it("forwards the request with the internal key and reports serving's answer", async () => {
    const admin = await r.seedActor("admin");
    await r.seedModel(admin, "churn");
    const { baseUrl, seen } = await fakeServing((s, res) => {
      const ok = s.url!.endsWith("/infer");
      res.writeHead(ok ? 200 : 400, {
        "content-type": "application/json",
        "x-request-id": "req-1",
        ...(ok ? { "x-model-version": "2" } : {}),
      });
      res.end(JSON.stringify(ok ? { outputs: [] } : { error: "bad rows", code: "bad_data" }));
    });
    const db = r.db.client;

    const ok = await tryPrediction(db, {
      modelName: "churn",
      target: { alias: "production" },
      form: "infer",
      request: { inputs: [] },
      baseUrl,
    });
    expect(ok).toMatchObject({
      status: 200,
      body: { outputs: [] },
      servedVersion: 2,
      requestId: "req-1",
    });
    expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
    expect(seen[0]).toEqual({
      method: "POST",
      url: "/v2/models/churn/versions/production/infer",
      authorization: `Bearer ${tryItKey(SECRET)}`,
      body: '{"inputs":[]}',
    });

    const refused = await tryPrediction(db, {
      modelName: "churn",
      target: { version: 3 },
      form: "predict",
      request: { rows: [] },
      baseUrl,
    });
    expect(refused).toMatchObject({
      status: 400,
      body: { error: "bad rows", code: "bad_data" },
      servedVersion: null,
      requestId: "req-1",
    });
    expect(seen[1]!.url).toBe("/v2/models/churn/versions/3/predict");

    await tryPrediction(db, {
      modelName: "churn",
      target: {},
      form: "infer",
      request: {},
      baseUrl,
    });
    expect(seen[2]!.url).toBe("/v2/models/churn/infer");

    await expect(
      tryPrediction(db, { modelName: "nope", target: {}, form: "infer", request: {}, baseUrl }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it("passes a non-JSON answer on as text", async () => {
    const admin = await r.seedActor("admin");
    await r.seedModel(admin, "churn");
    const { baseUrl } = await fakeServing((_, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<h1>Bad gateway</h1>");
    });
    const result = await tryPrediction(r.db.client, {
      modelName: "churn",
      target: {},
      form: "infer",
      request: {},
      baseUrl,
    });
    expect(result).toMatchObject({
      status: 502,
      body: "<h1>Bad gateway</h1>",
      servedVersion: null,
    });
  });

  it("is a 503 when serving is not reachable and a 502 when it does not answer in time", async () => {
    const admin = await r.seedActor("admin");
    await r.seedModel(admin, "churn");
    const port = await findFreePort();
    const down = await tryPrediction(r.db.client, {
      modelName: "churn",
      target: {},
      form: "infer",
      request: {},
      baseUrl: `http://127.0.0.1:${port}`,
    }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ApiError);
    expect(down).toMatchObject({ status: 503 });
    expect((down as ApiError).message).toContain(
      `The serving process is not reachable at http://127.0.0.1:${port}`,
    );

    const { baseUrl } = await fakeServing(() => {
      // never answers
    });
    const slow = await tryPrediction(r.db.client, {
      modelName: "churn",
      target: {},
      form: "infer",
      request: {},
      baseUrl,
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect(slow).toMatchObject({ status: 502 });
    expect((slow as ApiError).message).toContain("did not answer within 0.2 s");
  });
});
