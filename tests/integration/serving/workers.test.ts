/**
 * A serving process with MODELDECK_SERVING_WORKERS=2 (node:cluster): two serving workers on
 * one port, each its own instance, that answer as one server: /metrics counts every worker's
 * requests whichever worker answers the scrape, and SIGTERM drains both and flushes both
 * prediction logs.
 */
import http from "node:http";
import { expect, it } from "vitest";
import { liveInstances } from "../../../lib/system/heartbeat";
import { createClassifier, classifierBytes, oneRow, storeFor, serveTestModels } from "./harness";

const fixture = serveTestModels();
const db = fixture.db;

/** One request on a connection of its own, so the cluster spreads requests over workers. */
function request(url: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: body === undefined ? "GET" : "POST",
        agent: false,
        headers: body === undefined ? {} : { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function until<T>(what: string, probe: () => Promise<T | null | false>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it("two workers on one port answer as one server and drain together", async () => {
  await createClassifier(db.client, storeFor(fixture.dataDir), "pair", [classifierBytes(1)]);
  const proc = await fixture.spawn({ env: { MODELDECK_SERVING_WORKERS: "2" } });
  // Each worker is its own serving instance (its own heartbeat, sessions and log writer).
  const instances = await until("two serving instances", async () => {
    const live = await liveInstances(db.client, "serving");
    return live.length === 2 && live;
  });
  expect(new Set(instances.map((i) => i.pid)).size).toBe(2);
  await until("both workers to serve the model", async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => request(`${proc.url}/v2/models/pair/ready`)),
    );
    return answers.every((a) => JSON.parse(a.text).ready === true);
  });

  const answers = await Promise.all(
    Array.from({ length: 40 }, () => request(`${proc.url}/v2/models/pair/infer`, oneRow())),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));

  // Whichever worker answers the scrape, the counter is the cluster's: all 40 requests.
  for (let i = 0; i < 4; i++) {
    const text = (await request(`${proc.url}/metrics`)).text;
    const served =
      /modeldeck_inference_requests_total\{model="pair",version="1",status="200"\} (\d+)/.exec(
        text,
      );
    expect(Number(served?.[1])).toBe(40);
    expect(text).toMatch(/modeldeck_serving_loaded_models\{model="pair",version="1"\} 1\b/);
  }

  expect(await proc.stop("SIGTERM")).toBe(0);
  // Both workers flushed their prediction logs before exiting.
  const model = await db.client.model.findUniqueOrThrow({ where: { name: "pair" } });
  expect(await db.client.predictionLog.count({ where: { modelId: model.id } })).toBe(40);
  expect(
    new Set(
      (
        await db.client.predictionLog.findMany({
          where: { modelId: model.id },
          select: { instanceId: true },
        })
      ).map((r) => r.instanceId),
    ).size,
  ).toBe(2);
}, 90_000);
