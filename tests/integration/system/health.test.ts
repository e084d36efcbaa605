import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../lib/config";
import { findFreePort } from "../../../lib/db/embedded-postgres";
import { checkHealth } from "../../../lib/system/health";
import { createTestPrisma, useTestDatabase } from "../helpers/db";

describe("checkHealth", () => {
  const db = useTestDatabase();
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function configWithServingPort(port?: number) {
    const servingPort = port ?? (await findFreePort()); // nothing listens there
    return loadConfig({ MODELDECK_HOST: "127.0.0.1", MODELDECK_SERVING_PORT: String(servingPort) });
  }

  async function beat(instanceId: string, kind: string, lastSeenAt = new Date()) {
    await db.client.processHeartbeat.create({
      data: { instanceId, kind, hostname: "h", pid: 1, startedAt: lastSeenAt, lastSeenAt },
    });
  }

  /** A stand-in serving process answering its liveness probe with `status`. */
  async function fakeServing(status: number): Promise<{ port: number; hits: string[] }> {
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? "");
      res.statusCode = req.url === "/v2/health/live" ? status : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("no address");
    return { port: address.port, hits };
  }

  it("reports the database up, serving down when nothing listens, and the scheduler down", async () => {
    const config = await configWithServingPort();
    const report = await checkHealth(db.client, config);
    expect(report.status).toBe("degraded");
    expect(report.components.web).toMatchObject({ status: "up", pid: process.pid });
    expect(report.components.database.status).toBe("up");
    expect(report.components.database.latencyMs).toEqual(expect.any(Number));
    expect(report.components.serving).toMatchObject({
      status: "down",
      url: `http://127.0.0.1:${config.servingPort}`,
      instances: 0,
      error: expect.any(String),
    });
    expect(report.components.scheduler).toEqual({ status: "down", instances: 0 });
    expect(Math.abs(Date.parse(report.checkedAt) - Date.now())).toBeLessThan(10_000);
  });

  it("reports the scheduler up while a fresh heartbeat row exists, and down when it is stale", async () => {
    const config = await configWithServingPort();
    const seen = new Date();
    await beat("scheduler-1", "scheduler", seen);
    const up = await checkHealth(db.client, config);
    expect(up.components.scheduler).toEqual({
      status: "up",
      instances: 1,
      lastSeenAt: seen.toISOString(),
    });

    await db.client.processHeartbeat.update({
      where: { instanceId: "scheduler-1" },
      data: { lastSeenAt: new Date(Date.now() - 60_000) },
    });
    const stale = await checkHealth(db.client, config);
    expect(stale.components.scheduler).toEqual({ status: "down", instances: 0 });
  });

  it("is ok when serving answers its probe and the scheduler beats; counts serving instances", async () => {
    const serving = await fakeServing(200);
    const config = await configWithServingPort(serving.port);
    await beat("scheduler-1", "scheduler");
    await beat("serving-1", "serving");
    await beat("serving-2", "serving");
    const report = await checkHealth(db.client, config);
    expect(serving.hits).toEqual(["/v2/health/live"]);
    expect(report.components.serving).toEqual({
      status: "up",
      url: `http://127.0.0.1:${serving.port}`,
      instances: 2,
    });
    expect(report.status).toBe("ok");
  });

  it("reports serving down when its probe fails", async () => {
    const serving = await fakeServing(503);
    const config = await configWithServingPort(serving.port);
    await beat("scheduler-1", "scheduler");
    const report = await checkHealth(db.client, config);
    expect(report.components.serving).toMatchObject({ status: "down", error: "HTTP 503" });
    expect(report.status).toBe("degraded");
  });

  it("probes 127.0.0.1 when bound to every interface", async () => {
    const serving = await fakeServing(200);
    const config = loadConfig({
      MODELDECK_HOST: "0.0.0.0",
      MODELDECK_SERVING_PORT: String(serving.port),
    });
    const report = await checkHealth(db.client, config);
    expect(report.components.serving).toMatchObject({
      status: "up",
      url: `http://127.0.0.1:${serving.port}`,
    });
  });

  it("reports the database down (status down) when it does not answer", async () => {
    const deadPort = await findFreePort();
    const url = new URL(db.url);
    url.port = String(deadPort);
    const unreachable = createTestPrisma(url.toString());
    cleanups.push(() => unreachable.$disconnect());
    const report = await checkHealth(unreachable, await configWithServingPort());
    expect(report.status).toBe("down");
    expect(report.components.database).toMatchObject({ status: "down", error: expect.any(String) });
    expect(report.components.scheduler).toEqual({ status: "down", instances: 0 });
  });
});
