/**
 * A database stall never reaches the predict path: a serving process with two workers and
 * 16 clients with known tokens, while Postgres itself is frozen (SIGSTOP on the postmaster
 * and every backend) for 30 s. No request fails or waits on the database, and every
 * prediction answered is in prediction_log once Postgres resumes (or counted as dropped). A
 * token first seen during the freeze is not held for the freeze's length: it gets a prompt 503
 * (auth_unavailable, retry-after) and works once Postgres is back.
 *
 * The test freezes a Postgres cluster of its own, not the run's shared one, so the test files
 * running beside it are not frozen too.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import {
  findFreePort,
  startEmbeddedPostgres,
  type DbLogger,
  type EmbeddedPostgres,
} from "../../../lib/db/embedded-postgres";
import type { PrismaClient } from "../../../lib/db/generated/client";
import { applyMigrations } from "../../../lib/db/migrations";
import { createTestPrisma } from "../helpers/db";
import {
  classifierBytes,
  createClassifier,
  startServingProcess,
  storeFor,
  tempDataDir,
  type ServingProcess,
} from "./harness";
import { everyWorkerServes, infer, sleep } from "./load";

const CLIENTS = 16;
const STALL_MS = 30_000;
const quiet: DbLogger = { info: () => {}, warn: () => {}, error: console.error };

let dir: string;
let server: EmbeddedPostgres;
let prisma: PrismaClient;
let data: Awaited<ReturnType<typeof tempDataDir>>;
let serving: ServingProcess | undefined;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-stall-pg-"));
  await fs.chmod(dir, 0o755);
  server = await startEmbeddedPostgres({
    dataDir: path.join(dir, "data"),
    port: await findFreePort(),
    log: quiet,
    database: "modeldeck",
    settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" },
  });
  await applyMigrations(server.connectionString, { log: quiet });
  prisma = createTestPrisma(server.connectionString);
  data = await tempDataDir();
}, 120_000);

afterAll(async () => {
  await serving?.stop();
  await prisma?.$disconnect();
  await server?.stop();
  await data?.cleanup();
  await fs.rm(dir, { recursive: true, force: true });
});

/** The postmaster and every process it started (backends, checkpointer, WAL writer...). */
async function postgresProcesses(postmaster: number): Promise<number[]> {
  const children: number[] = [];
  for (const name of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fs.readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === postmaster) children.push(Number(name));
  }
  return [postmaster, ...children];
}

function signalAll(pids: number[], signal: NodeJS.Signals) {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}

it("16 clients are answered at full speed through a 30 s Postgres freeze, and every prediction is logged after it", async () => {
  await createClassifier(prisma, storeFor(data.dir), "steady", [classifierBytes(1)]);
  const tokens = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) =>
      createApiToken(prisma, SYSTEM_ACTOR, { name: `client-${i}`, role: "viewer" }),
    ),
  );
  const unseen = await createApiToken(prisma, SYSTEM_ACTOR, { name: "unseen", role: "viewer" });
  serving = await startServingProcess({
    databaseUrl: server.connectionString,
    dataDir: data.dir,
    port: await findFreePort(),
    env: { MODELDECK_SERVING_AUTH: "on", MODELDECK_SERVING_WORKERS: "2" },
  });
  const url = `${serving.url}/v2/models/steady/infer`;
  await everyWorkerServes(prisma, url, tokens[0]!.secret);
  // A log row's time is when serving recorded it, just after the answer went out: wait so the
  // warm-up's rows fall before the load's first request and are not counted with it.
  await sleep(200);
  const loadStartedAt = new Date();

  const samples: { startedAt: number; ms: number; status: number }[] = [];
  let phase: "warm" | "stall" | "after" = "warm";
  let stopAt = Number.POSITIVE_INFINITY;
  const stalled: typeof samples = [];
  const client = async (token: string) => {
    while (Date.now() < stopAt) {
      const startedAt = Date.now();
      const status = await infer(url, token, 5_000);
      const sample = { startedAt, ms: Date.now() - startedAt, status };
      samples.push(sample);
      if (phase === "stall") stalled.push(sample);
    }
  };
  const clients = tokens.map((t) => client(t.secret));
  // Every token is looked up by both workers before the freeze ("known tokens").
  await sleep(3_000);

  const pids = await postgresProcesses(server.pid);
  expect(pids.length).toBeGreaterThan(3);
  phase = "stall";
  signalAll(pids, "SIGSTOP");
  let unseenDuringFreeze = { status: -1, ms: 0 };
  try {
    await sleep(2_000);
    const startedAt = Date.now();
    const status = await infer(url, unseen.secret, 10_000);
    unseenDuringFreeze = { status, ms: Date.now() - startedAt };
    await sleep(STALL_MS - 2_000 - unseenDuringFreeze.ms);
  } finally {
    phase = "after";
    signalAll([...pids].reverse(), "SIGCONT");
  }
  stopAt = Date.now() + 1_000;
  await Promise.all(clients);

  // Its lookup waits for the database at most the verifier's 2 s, then a clear 503.
  expect(unseenDuringFreeze.status, "a token first seen during the freeze").toBe(503);
  expect(unseenDuringFreeze.ms).toBeLessThan(4_000);
  let unseenAfter = 0;
  for (let i = 0; i < 20 && unseenAfter !== 200; i++) {
    unseenAfter = await infer(url, unseen.secret, 10_000);
    if (unseenAfter !== 200) await sleep(250);
  }
  expect(unseenAfter, "the same token once Postgres is back").toBe(200);

  const failed = samples.filter((s) => s.status !== 200);
  expect(failed, `${failed.length} of ${samples.length} requests failed`).toEqual([]);
  expect(stalled.length).toBeGreaterThan(CLIENTS * 10);
  const slowest = Math.max(...stalled.map((s) => s.ms));
  expect(slowest, "the slowest request during the freeze (ms)").toBeLessThan(1_000);

  // Every prediction answered during the run is written once Postgres resumes, or counted as
  // dropped under the buffer bound.
  // The load's answers and the unseen token's one 200 (refusals are not predictions).
  const answered = samples.length + 1;
  const since = { at: { gte: loadStartedAt } };
  let logged = 0;
  let dropped = 0;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    logged = await prisma.predictionLog.count({ where: since });
    const metrics = await (await fetch(`${serving.url}/metrics`)).text();
    dropped = Number(/^modeldeck_prediction_log_dropped_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    if (logged + dropped >= answered) break;
    await sleep(500);
  }
  expect(logged + dropped).toBe(answered);
  expect(dropped, "dropped under the bound (50,000 per worker)").toBe(0);
}, 180_000);
