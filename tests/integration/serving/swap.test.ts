/**
 * Zero-downtime hot swap under load, with real serving processes: 64 concurrent clients keep
 * calling while production is promoted to another version. No request may fail, and every
 * request that starts 1 s after the promotion committed must be answered by the new version,
 * on every serving process.
 */
import { expect, it } from "vitest";
import {
  classifierBytes,
  createClassifier,
  labelOf,
  oneRow,
  promote,
  storeFor,
  serveTestModels,
  type ServingProcess,
} from "./harness";

const fixture = serveTestModels();
const db = fixture.db;

type Sample = { server: number; startedAt: number; status: number; label: number | null };

/** `clients` loops calling the servers round-robin until `until()`; returns every answer. */
async function load(urls: string[], model: string, clients: number, until: () => boolean) {
  const samples: Sample[] = [];
  const body = JSON.stringify(oneRow());
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const server = i % urls.length;
      const url = `${urls[server]}/v2/models/${model}/infer`;
      while (!until()) {
        const startedAt = Date.now();
        try {
          const res = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          const json = (await res.json()) as Record<string, unknown>;
          samples.push({
            server,
            startedAt,
            status: res.status,
            label: res.status === 200 ? labelOf(json) : null,
          });
        } catch {
          samples.push({ server, startedAt, status: 0, label: null });
        }
      }
    }),
  );
  return samples;
}

async function swapUnderLoad(model: string, servers: number) {
  await createClassifier(
    db.client,
    storeFor(fixture.dataDir),
    model,
    [classifierBytes(0), classifierBytes(1)],
    1,
  );
  const procs: ServingProcess[] = [];
  for (let i = 0; i < servers; i++) {
    const proc = await fixture.spawn({ env: { MODELDECK_PREDICTION_LOG: "on" } });
    procs.push(proc);
  }
  // Every server must be serving the model (v1) before the clock starts.
  for (const p of procs) {
    for (;;) {
      const res = await fetch(`${p.url}/v2/models/${model}/infer`, {
        method: "POST",
        body: JSON.stringify(oneRow()),
      });
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  let stop = false;
  const running = load(
    procs.map((p) => p.url),
    model,
    64,
    () => stop,
  );
  await new Promise((r) => setTimeout(r, 1_500));
  await promote(db.client, model, 2);
  const committedAt = Date.now();
  await new Promise((r) => setTimeout(r, 2_500));
  stop = true;
  const samples = await running;

  const failures = samples.filter((s) => s.status !== 200);
  expect(failures, JSON.stringify(failures.slice(0, 5))).toHaveLength(0);
  for (let server = 0; server < servers; server++) {
    const mine = samples.filter((s) => s.server === server);
    const before = mine.filter((s) => s.startedAt < committedAt - 50);
    const late = mine.filter((s) => s.startedAt >= committedAt + 1_000);
    expect(before.length).toBeGreaterThan(100);
    expect(late.length).toBeGreaterThan(100);
    // v1 answers 0, v2 answers 1. Requests in flight around the commit may get either.
    expect(before.filter((s) => s.label === 0).length).toBeGreaterThan(100);
    const stale = late.filter((s) => s.label !== 1);
    expect(
      stale,
      `server ${server}: ${stale.length} late answers from the old version`,
    ).toHaveLength(0);
  }
  return samples.length;
}

it("one serving process: zero failed requests, the new version answers within 1 s", async () => {
  const total = await swapUnderLoad("swap-one", 1);
  expect(total).toBeGreaterThan(1_000);
});

it("two serving processes: both switch within 1 s, zero failed requests", async () => {
  const total = await swapUnderLoad("swap-two", 2);
  expect(total).toBeGreaterThan(1_000);
});
