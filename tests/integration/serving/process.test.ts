/**
 * A real serving process through a database outage and through a graceful shutdown. The
 * outage is real: the process reaches Postgres through a TCP relay the test cuts and restores.
 */
import net from "node:net";
import { expect, it } from "vitest";
import { findFreePort } from "../../../lib/db/embedded-postgres";
import {
  classifierBytes,
  createClassifier,
  labelOf,
  oneRow,
  postJson,
  promote,
  storeFor,
  serveTestModels,
} from "./harness";

const fixture = serveTestModels("SIGKILL");
const db = fixture.db;

/** A TCP relay to the test database that can drop every connection and refuse new ones. */
async function startRelay(target: URL) {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  const port = await findFreePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

async function until(check: () => Promise<boolean>, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

it("keeps answering while Postgres is unreachable, and catches up after it returns", async () => {
  await createClassifier(db.client, storeFor(fixture.dataDir), "outage", [
    classifierBytes(0),
    classifierBytes(1),
  ]);
  const relay = await startRelay(new URL(db.url));
  const proc = await fixture.spawn({
    databaseUrl: relay.url,
    env: { MODELDECK_SERVING_RECONCILE_SECONDS: "1" },
  });
  const url = `${proc.url}/v2/models/outage/infer`;
  expect((await postJson(url, oneRow())).status).toBe(200);

  relay.cut();
  // Promote while this server cannot hear about it.
  await promote(db.client, "outage", 2);
  for (let i = 0; i < 20; i++) {
    const res = await postJson(url, oneRow());
    expect(res.status).toBe(200);
    expect(labelOf(res.body)).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
  }
  const ready = await (await fetch(`${proc.url}/v2/health/ready`)).json();
  expect(ready).toMatchObject({ ready: true, registryListener: false });
  expect(ready.models[0].aliases.production).toBe(1);

  relay.restore();
  // The listener reconnects and re-reads the registry: the promotion is picked up.
  expect(await until(async () => labelOf((await postJson(url, oneRow())).body) === 1, 20_000)).toBe(
    true,
  );
  await proc.stop();
  await relay.close();
});

it("a metrics scrape does not count as a request still in flight at shutdown", async () => {
  const proc = await fixture.spawn();
  expect((await fetch(`${proc.url}/metrics`)).status).toBe(200);
  const started = Date.now();
  expect(await proc.stop("SIGTERM")).toBe(0);
  // Nothing is in flight: no wait for the 10 s drain deadline (it did wait before the fix).
  expect(Date.now() - started).toBeLessThan(5_000);
});

it("SIGTERM drains in-flight requests and flushes the prediction log", async () => {
  await createClassifier(db.client, storeFor(fixture.dataDir), "drain", [classifierBytes(0)]);
  const proc = await fixture.spawn();
  const url = `${proc.url}/v2/models/drain/infer`;
  expect((await postJson(url, oneRow())).status).toBe(200);

  // 64 requests in flight, then SIGTERM: every one that was accepted must be answered.
  const bodies = Array.from({ length: 64 }, () => postJson(url, oneRow()).catch(() => null));
  await new Promise((r) => setTimeout(r, 5));
  const code = proc.stop("SIGTERM");
  const answers = await Promise.all(bodies);
  expect(await code).toBe(0);
  const answered = answers.filter((a) => a !== null);
  expect(answered.every((a) => a!.status === 200)).toBe(true);
  expect(answered.length).toBeGreaterThan(0);
  const ids = answered.map((a) => a!.headers.get("x-request-id")!);
  // Nothing answered is missing from the log: the buffer was flushed before exit.
  expect(await db.client.predictionLog.count({ where: { requestId: { in: ids } } })).toBe(
    ids.length,
  );
  expect(proc.output()).toContain("shutting down");
});
