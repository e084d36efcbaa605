/**
 * Graceful stop behind a load balancer: two real serving processes behind a keep-alive
 * round-robin proxy that polls readiness (as a Kubernetes Service does); SIGTERM to one
 * under steady load loses no request.
 */
import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import { afterAll, expect, it } from "vitest";
import { createLogger } from "../../../lib/log";
import { drainServingServer } from "../../../lib/serving/http-server";
import { startLoad, sleep } from "../../support/load";
import { startRoundRobinProxy, type RoundRobinProxy } from "../../support/round-robin-proxy";
import {
  classifierBytes,
  createClassifier,
  oneRow,
  serveTestModels,
  startInProcessServing,
  storeFor,
} from "./harness";

const fixture = serveTestModels("SIGKILL");
let proxy: RoundRobinProxy | undefined;
afterAll(() => proxy?.close());

it("SIGTERM to one of two serving instances under keep-alive load: 0 failed requests", async () => {
  await createClassifier(db().client, storeFor(fixture.dataDir), "drain-lb", [classifierBytes(0)]);
  // The drain delay outlasts the proxy's readiness polling (every 100 ms) many times over, with
  // room for a loaded machine.
  const env = {
    MODELDECK_SERVING_DRAIN_DELAY_SECONDS: "2",
    MODELDECK_SERVING_DRAIN_TIMEOUT_SECONDS: "5",
  };
  const [a, b] = await Promise.all([fixture.spawn({ env }), fixture.spawn({ env })]);
  proxy = await startRoundRobinProxy({ healthIntervalMs: 100 });
  proxy.add("a", a!.url);
  proxy.add("b", b!.url);
  const p = proxy;
  await waitFor(() => p.stats().every((u) => u.inRotation), 10_000);

  const load = startLoad({
    url: `${proxy.url}/v2/models/drain-lb/infer`,
    clients: 16,
    body: oneRow(),
  });
  await sleep(1_500);
  const beforeStop = proxy.upstream("a").answered;
  const stopping = a!.stop("SIGTERM");
  // The instance says "not ready" while it still answers: readiness fails before the port closes.
  const readiness = () =>
    fetch(`${a!.url}/v2/health/ready`).then(
      async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }),
      () => ({ status: 0, body: {} }),
    );
  let readyDuringDrain = await readiness();
  for (let i = 0; i < 40 && readyDuringDrain.status === 200; i++) {
    await sleep(20);
    readyDuringDrain = await readiness();
  }
  const code = await stopping;
  const exitedAt = Date.now();
  await sleep(1_000);
  const samples = await load.stop();

  const failures = samples.filter((s) => s.status !== 200);
  const stats = proxy.stats();
  console.log(
    `[drain] requests ${samples.length}, failed ${failures.length}; per upstream: ` +
      stats.map((u) => `${u.name} answered ${u.answered} failed ${u.failed}`).join(", "),
  );
  expect(failures).toEqual([]);
  expect(readyDuringDrain).toMatchObject({ status: 503, body: { ready: false, draining: true } });
  expect(code).toBe(0);
  expect(beforeStop).toBeGreaterThan(0);
  // b carried the load after a left.
  const afterExit = samples.filter((s) => s.at > exitedAt);
  expect(afterExit.length).toBeGreaterThan(0);
  expect(afterExit.every((s) => s.upstream === "b")).toBe(true);
  expect(a!.output()).toContain('"msg":"drained"');
}, 90_000);

const db = () => fixture.db;

async function waitFor(check: () => boolean, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await sleep(50);
  }
}

it("the drain: answers say Connection: close, idle connections close, the timeout cuts a request that never ends", async () => {
  await createClassifier(db().client, storeFor(fixture.dataDir), "drain-steps", [
    classifierBytes(0),
  ]);
  const serving = await startInProcessServing({
    db: db().client,
    databaseUrl: db().url,
    dataDir: fixture.dataDir,
  });
  const { port } = new URL(serving.url);
  const path = "/v2/models/drain-steps/infer";
  // An idle keep-alive connection, and a request whose body never finishes arriving.
  const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
  expect((await post(port, path, idle)).status).toBe(200);
  const idleSocket = Object.values(idle.freeSockets).flat()[0]!;
  const idleClosed = once(idleSocket, "close");
  const hanging = net.connect(Number(port), "127.0.0.1");
  hanging.on("error", () => undefined);
  hanging.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
  );
  await waitFor(() => serving.handler.inFlight() === 1, 5_000);

  const quiet = createLogger("drain-test", "silent");
  const drained = drainServingServer(
    serving.server,
    serving.handler,
    { drainDelayMs: 500, drainTimeoutMs: 500 },
    quiet,
  );
  // During the delay: not ready, still answering, and asking the client to close.
  const ready = await fetch(`${serving.url}/v2/health/ready`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ ready: false, draining: true });
  const during = await post(port, path, false);
  expect(during.status).toBe(200);
  expect(during.connection).toBe("close");

  const outcome = await drained;
  expect(outcome.abandoned).toBe(1);
  expect(outcome.durationMs).toBeGreaterThanOrEqual(1_000);
  await idleClosed;
  if (!hanging.closed) await once(hanging, "close");
  idle.destroy();
  await serving.stop();
});

function post(port: string, path: string, agent: http.Agent | false) {
  return new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    const body = JSON.stringify(oneRow());
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({ status: res.statusCode!, connection: res.headers.connection }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
