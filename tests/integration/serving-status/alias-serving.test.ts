import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../lib/config";
import { setAlias } from "../../../lib/registry";
import { getAliasServing, SWITCH_GRACE_MS } from "../../../lib/serving/alias-serving";
import { checkHealth } from "../../../lib/system/health";
import { useRegistryDb } from "../registry/fixtures";

describe("getAliasServing: which alias targets are not served, on how many instances, and why", () => {
  const r = useRegistryDb();
  const db = () => r.db.client;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function beat(instanceId: string, models: Record<string, Record<string, number>>) {
    const now = new Date();
    await db().processHeartbeat.create({
      data: {
        instanceId,
        kind: "serving",
        hostname: "h",
        pid: 1,
        startedAt: now,
        lastSeenAt: now,
        info: { models: Object.entries(models).map(([model, aliases]) => ({ model, aliases })) },
      },
    });
  }

  async function event(
    versionId: string,
    modelId: string,
    instanceId: string,
    status: string,
    secondsAgo: number,
    message: string | null = null,
  ) {
    await db().servingLoadEvent.create({
      data: {
        versionId,
        modelId,
        instanceId,
        status,
        message,
        at: new Date(Date.now() - secondsAgo * 1000),
        durationMs: 3,
      },
    });
  }

  /** Moves happened long enough ago that an instance not serving them is not "switching". */
  async function ageAliases() {
    await db().modelAlias.updateMany({
      data: { updatedAt: new Date(Date.now() - SWITCH_GRACE_MS - 60_000) },
    });
  }

  async function setup() {
    const admin = await r.seedActor("admin");
    const model = await r.seedModel(admin, "churn");
    const versions = await r.seedVersions(admin, "churn", 3);
    for (const [alias, version] of [
      ["production", 3],
      ["staging", 1],
    ] as const) {
      await setAlias(db(), admin, { modelName: "churn", alias, version });
    }
    await ageAliases();
    return { admin, model, versions };
  }

  it("reports no_instances when no serving instance is reporting", async () => {
    await setup();
    const states = await getAliasServing(db());
    expect(states.map((s) => [s.alias, s.state, s.instances])).toEqual([
      ["production", "no_instances", 0],
      ["staging", "no_instances", 0],
    ]);
  });

  it("a version that failed on one of two instances: not served on 1 of 2, with the error and what answers instead", async () => {
    const { model, versions } = await setup();
    const [, v2, v3] = versions;
    await beat("serving-a", { churn: { production: 3, staging: 1 } });
    await beat("serving-b", { churn: { production: 2, staging: 1 } });
    await event(v3!.id, model.id, "serving-a", "loaded", 50);
    await event(v3!.id, model.id, "serving-b", "failed", 40, "old failure");
    await event(v3!.id, model.id, "serving-b", "failed", 30, "No Op registered for Score");
    // A failure of v2 elsewhere says nothing about production.
    await event(v2!.id, model.id, "serving-a", "failed", 10, "unrelated");

    const states = await getAliasServing(db());
    expect(states).toEqual([
      {
        model: "churn",
        alias: "production",
        version: 3,
        versionId: v3!.id,
        state: "not_served",
        instances: 2,
        notServedOn: 1,
        switchingOn: 0,
        servedInstead: [2],
        error: {
          message: "No Op registered for Score",
          at: expect.any(String),
          instanceId: "serving-b",
        },
      },
      expect.objectContaining({ alias: "staging", state: "served", notServedOn: 0, error: null }),
    ]);

    // serving-b retries and loads it (a warm-up warning still serves it): served everywhere.
    await event(v3!.id, model.id, "serving-b", "warning", 5, "synthetic warm-up failed");
    await db().processHeartbeat.update({
      where: { instanceId: "serving-b" },
      data: { info: { models: [{ model: "churn", aliases: { production: 3, staging: 1 } }] } },
    });
    expect((await getAliasServing(db()))[0]).toMatchObject({ state: "served", error: null });
  });

  it("an instance that reports the alias but whose newest load of it failed does not serve it", async () => {
    const { model, versions } = await setup();
    await beat("serving-a", { churn: { production: 3, staging: 1 } });
    await event(versions[2]!.id, model.id, "serving-a", "loaded", 60);
    await event(versions[2]!.id, model.id, "serving-a", "failed", 20, "reload failed");
    expect((await getAliasServing(db()))[0]).toMatchObject({
      state: "not_served",
      notServedOn: 1,
      instances: 1,
      servedInstead: [],
      error: { message: "reload failed" },
    });
  });

  it("just moved and not reported yet: switching; long after with no error: not served, no error", async () => {
    const { admin } = await setup();
    await beat("serving-a", { churn: { production: 3, staging: 1 } });
    await setAlias(db(), admin, { modelName: "churn", alias: "production", version: 2 });
    expect((await getAliasServing(db()))[0]).toMatchObject({
      alias: "production",
      version: 2,
      state: "switching",
      switchingOn: 1,
      notServedOn: 0,
    });
    await ageAliases();
    expect((await getAliasServing(db()))[0]).toMatchObject({
      state: "not_served",
      notServedOn: 1,
      servedInstead: [3],
      error: null,
    });
  });

  it("only the models asked for", async () => {
    const { admin } = await setup();
    const other = await r.seedModel(admin, "other");
    await r.seedVersions(admin, "other", 1);
    await setAlias(db(), admin, { modelName: "other", alias: "production", version: 1 });
    await beat("serving-a", { churn: { production: 3, staging: 1 }, other: { production: 1 } });
    const states = await getAliasServing(db(), { modelIds: [other.id] });
    expect(states.map((s) => [s.model, s.alias, s.state])).toEqual([
      ["other", "production", "served"],
    ]);
    expect(await getAliasServing(db(), { modelIds: [] })).toEqual([]);
  });

  it("system health: serving is degraded, with the reason, while an alias target is not served", async () => {
    const { model, versions } = await setup();
    const server = http.createServer((_req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as { port: number }).port;
    const config = loadConfig({
      MODELDECK_HOST: "127.0.0.1",
      MODELDECK_SERVING_PORT: String(port),
    });

    await beat("serving-a", { churn: { production: 3, staging: 1 } });
    expect((await checkHealth(db(), config)).components.serving).toMatchObject({
      status: "up",
      instances: 1,
    });

    await db().processHeartbeat.update({
      where: { instanceId: "serving-a" },
      data: { info: { models: [{ model: "churn", aliases: { production: 2, staging: 1 } }] } },
    });
    await event(versions[2]!.id, model.id, "serving-a", "failed", 5, "No Op registered for Score");
    const report = await checkHealth(db(), config);
    expect(report.status).toBe("degraded");
    expect(report.components.serving).toMatchObject({
      status: "degraded",
      instances: 1,
      reason:
        "churn production → v3 is not served on 1 of 1 serving instance: No Op registered for Score",
      notServed: [
        {
          model: "churn",
          alias: "production",
          version: 3,
          notServedOn: 1,
          instances: 1,
          servedInstead: [2],
          error: { message: "No Op registered for Score" },
        },
      ],
      notServedCount: 1,
    });
  });
});
