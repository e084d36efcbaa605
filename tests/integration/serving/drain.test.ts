/**
 * Graceful stop behind a load balancer: two real serving processes behind a keep-alive
 * round-robin proxy that polls readiness (as a Kubernetes Service does); SIGTERM to one
 * under steady load loses no request.
 */
import { afterAll, expect, it } from "vitest";
import { startLoad, sleep } from "../../support/load";
import { startRoundRobinProxy, type RoundRobinProxy } from "../../support/round-robin-proxy";
import { classifierBytes, createClassifier, oneRow, serveTestModels, storeFor } from "./harness";

const fixture = serveTestModels("SIGKILL");
let proxy: RoundRobinProxy | undefined;
afterAll(() => proxy?.close());

it("SIGTERM to one of two serving instances under keep-alive load: 0 failed requests", async () => {
  await createClassifier(db().client, storeFor(fixture.dataDir), "drain-lb", [classifierBytes(0)]);
  // The drain delay outlasts the proxy's readiness polling (100 ms) several times over.
  const env = {
    MODELDECK_SERVING_DRAIN_DELAY_SECONDS: "1",
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
  const last = samples.slice(-50);
  expect(last.every((s) => s.upstream === "b")).toBe(true);
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
