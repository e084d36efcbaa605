/**
 * ModelDeck scaled out on one machine: one PostgreSQL, one S3-compatible server process,
 * 2 web, 3 serving and 2 scheduler processes on loopback ports, and a round-robin proxy in
 * front of serving (tests/support/round-robin-proxy.ts: keep-alive, readiness-polled like a
 * Kubernetes Service, retries nothing). Each step prints its figures.
 *
 * The steps run in order and share the installation: upload through web #1, promote through
 * web #2 under 64 clients, kill -9 a serving instance under load, feedback through web #2
 * joined to serving #3's predictions, a new serving instance with an empty cache, and the
 * cron coordinator's fires counted over 60 s (the job fires through all the steps before),
 * and last a 1 GiB model uploaded through web #1's API into the bucket with web #1's memory
 * watched.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../lib/audit";
import { createApiToken } from "../../lib/auth/tokens";
import { createJob, setJobEnabled } from "../../lib/jobs/jobs";
import { requestIdTime } from "../../lib/serving/request-id";
import { truncateAll, useTestDatabase } from "../integration/helpers/db";
import { classifierBytes, oneRow } from "../integration/serving/harness";
import { startLoad, sleep, type LoadSample } from "../support/load";
import { writeLargeMatMulModel } from "../support/large-model";
import { startRoundRobinProxy, type RoundRobinProxy } from "../support/round-robin-proxy";
import { listBucketKeys, startS3Server, type S3TestServer } from "../support/s3-server";
import { Cluster, filesUnder } from "./cluster";

const MODEL = "scaleout";
const CLIENTS = 64;
const SERVING = ["serving-1", "serving-2", "serving-3"];
const ADMIN = { ...SYSTEM_ACTOR, role: "admin" as const };

const db = useTestDatabase({ truncate: false });
let s3: S3TestServer;
let cluster: Cluster;
let proxy: RoundRobinProxy;
let token: string;
let job: { id: string };
/** Samples of the kill step: the feedback step labels some of serving #3's predictions. */
let killStepSamples: LoadSample[] = [];

const log = (step: string, text: string) => console.log(`[scaleout] ${step}: ${text}`);
const auth = () => ({ authorization: `Bearer ${token}` });
const inferUrl = (base: string) => `${base}/v2/models/${MODEL}/infer`;

async function api(base: string, method: string, route: string, body?: unknown) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { ...auth(), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  return { status: res.status, body: json };
}

async function upload(base: string, bytes: Buffer) {
  const res = await fetch(`${base}/api/v1/models/${MODEL}/versions?filename=model.onnx`, {
    method: "POST",
    headers: { ...auth(), "content-type": "application/octet-stream" },
    body: new Uint8Array(bytes),
  });
  const body = (await res.json()) as { version?: { version: number; sha256: string } };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.version!;
}

async function until<T>(check: () => Promise<T> | T, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve(check()).catch(() => undefined);
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** The version a serving instance answers with, asked directly (not through the proxy). */
async function versionOn(base: string): Promise<string | null> {
  const res = await fetch(inferUrl(base), {
    method: "POST",
    headers: { ...auth(), "content-type": "application/json" },
    body: JSON.stringify(oneRow()),
  });
  const body = (await res.json()) as { model_version?: string };
  return res.status === 200 ? (body.model_version ?? null) : null;
}

/** How long the instance took to load and warm `version`, from its own log line. */
function loadMs(name: string, version: number): string {
  for (const line of cluster.get(name).output().split("\n")) {
    if (!line.includes('"msg":"version loaded')) continue;
    try {
      const entry = JSON.parse(line) as { model?: string; version?: number; durationMs?: number };
      if (entry.model === MODEL && entry.version === version) return String(entry.durationMs);
    } catch {
      // not a JSON log line
    }
  }
  return "?";
}

beforeAll(async () => {
  const started = Date.now();
  await truncateAll(db.url);
  s3 = await startS3Server();
  token = (await createApiToken(db.client, ADMIN, { name: "scaleout", role: "admin" })).secret;
  cluster = await Cluster.create({
    databaseUrl: db.url,
    s3,
    authSecret: randomBytes(32).toString("hex"),
  });
  await Promise.all([
    cluster.start("web", "web-1"),
    cluster.start("web", "web-2"),
    ...SERVING.map((name) => cluster.start("serving", name)),
    cluster.start("scheduler", "scheduler-1"),
    cluster.start("scheduler", "scheduler-2"),
  ]);
  proxy = await startRoundRobinProxy({ healthIntervalMs: 100 });
  for (const name of SERVING) proxy.add(name, cluster.get(name).url);

  const web1 = cluster.get("web-1").url;
  const web2 = cluster.get("web-2").url;
  expect(
    (await api(web1, "POST", "/api/v1/models", { name: MODEL, task: "classification" })).status,
  ).toBe(201);
  await upload(web1, classifierBytes(0));
  expect(
    (await api(web2, "PUT", `/api/v1/models/${MODEL}/aliases/production`, { version: 1 })).status,
  ).toBe(200);
  for (const name of SERVING) {
    await until(async () => (await versionOn(cluster.get(name).url)) === "1", 30_000, name);
  }
  await until(() => proxy.stats().every((u) => u.inRotation), 10_000, "proxy rotation");
  // Fires every second from now on, through every step; the last step counts them.
  job = await createJob(db.client, ADMIN, {
    name: "every-second",
    model: MODEL,
    schedule: "* * * * * *",
    timezone: "UTC",
    action: { type: "import", directory: "incoming" },
  });
  log(
    "setup",
    `2 web, 3 serving, 2 scheduler, S3 server, proxy up in ${Date.now() - started} ms; ` +
      `artifact store: ${s3.storeUrl}`,
  );
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
  await s3?.stop();
});

describe("scaled out on one machine", () => {
  it("an upload through web #1 lands in the artifact store, and on no local disk but caches", async () => {
    const t = Date.now();
    const v2 = await upload(cluster.get("web-1").url, classifierBytes(1));
    expect(v2.version).toBe(2);
    const onDisk = (await Promise.all(cluster.dataDirs().map(filesUnder)))
      .flat()
      .filter((f) => f.includes(v2.sha256));
    const keys = await listBucketKeys(s3);
    expect(keys.some((k) => k.endsWith(v2.sha256))).toBe(true);
    const caches = cluster.processes.map((p) => p.cacheDir + path.sep);
    const outsideCaches = onDisk.filter((f) => !caches.some((c) => f.startsWith(c)));
    expect(outsideCaches).toEqual([]);
    log(
      "upload",
      `version 2 in ${Date.now() - t} ms; bucket has ${keys.length} objects; ` +
        `local copies: ${onDisk.length}, all in caches`,
    );
  });

  it("a promotion through web #2 reaches all 3 serving instances within 1 s; 64 clients see 0 failures", async () => {
    const load = startLoad({
      url: inferUrl(proxy.url),
      clients: CLIENTS,
      body: oneRow(),
      headers: auth(),
    });
    await sleep(2_000);
    const promote = await api(
      cluster.get("web-2").url,
      "PUT",
      `/api/v1/models/${MODEL}/aliases/production`,
      { version: 2 },
    );
    const promotedAt = Date.now();
    expect(promote.status).toBe(200);
    const newAnswers = (name: string) =>
      load.samples.filter((s) => s.upstream === name && s.modelVersion === "2");
    await until(() => SERVING.every((n) => newAnswers(n).length > 0), 15_000, "the switch");
    await sleep(1_000);
    const samples = await load.stop();

    const failures = samples.filter((s) => s.status !== 200);
    // When the instance began answering with version 2: the arrival, on the instance, of the
    // earliest request it answered with it (its request id is a UUIDv7 stamped on arrival,
    // before the version is chosen). The client receiving that answer comes a queue later,
    // which on a loaded machine is most of a second by itself: printed, not asserted.
    const switchMs = SERVING.map((n) =>
      Math.max(0, Math.min(...newAnswers(n).map((s) => requestIdTime(s.requestId!)!)) - promotedAt),
    );
    const receivedMs = SERVING.map((n) =>
      Math.max(0, Math.round(Math.min(...newAnswers(n).map((s) => s.at)) - promotedAt)),
    );
    log(
      "promote",
      `${samples.length} requests, ${failures.length} failed; after the promote response, ` +
        `answering with version 2: ` +
        SERVING.map(
          (n, i) =>
            `${n} ${switchMs[i]} ms (load ${loadMs(n, 2)} ms, first answer received ${receivedMs[i]} ms)`,
        ).join(", "),
    );
    expect(failures).toEqual([]);
    for (const ms of switchMs) expect(ms).toBeLessThanOrEqual(1_000);
    // Each instance served its share before and after.
    for (const n of SERVING)
      expect(samples.filter((s) => s.upstream === n).length).toBeGreaterThan(0);
  });

  it("kill -9 of a serving instance under load: the others keep answering; only its in-flight requests fail", async () => {
    const load = startLoad({
      url: inferUrl(proxy.url),
      clients: CLIENTS,
      body: oneRow(),
      headers: auth(),
    });
    await sleep(1_500);
    const victim = cluster.get("serving-1");
    const before = proxy.upstream("serving-1");
    const killedAt = Date.now();
    victim.child.kill("SIGKILL");
    await sleep(3_000);
    const samples = await load.stop();
    killStepSamples = samples;
    const after = proxy.upstream("serving-1");

    const failures = samples.filter((s) => s.status !== 200);
    // What can fail is what was in flight on it when the proxy took it out (at its first
    // failed request, or a failed readiness probe): requests sent before its connections
    // dropped. On a loaded machine the kernel takes a while to tear a big process down, and
    // requests sent meanwhile are in flight on it too; the proxy sends it nothing after.
    const sentAfterKill = (after.dispatchedWhenTakenOut ?? after.dispatched) - before.dispatched;
    const inFlightWhenOut = after.inFlightWhenTakenOut ?? 0;
    const answeredAfter = (n: string) =>
      samples.filter((s) => s.upstream === n && s.status === 200 && s.at > killedAt).length;
    log(
      "kill -9",
      `${samples.length} requests, ${failures.length} failed; in flight on serving-1 at the ` +
        `signal ${before.inFlight}, sent to it after the signal ${sentAfterKill}, in flight on it ` +
        `when it left the rotation ${inFlightWhenOut}; answered after the kill: serving-2 ` +
        `${answeredAfter("serving-2")}, serving-3 ${answeredAfter("serving-3")}`,
    );
    for (const f of failures) {
      expect(f.upstream).toBe("serving-1");
      // 502 from the proxy; 0 when the answer had begun when the connection died.
      expect([0, 502]).toContain(f.status);
    }
    expect(failures.length).toBeLessThanOrEqual(inFlightWhenOut);
    expect(proxy.upstream("serving-1").dispatched).toBe(after.dispatchedWhenTakenOut);
    expect(answeredAfter("serving-2")).toBeGreaterThan(0);
    expect(answeredAfter("serving-3")).toBeGreaterThan(0);
    expect(after.inRotation).toBe(false);
  });

  it("feedback posted to web #2 joins the predictions serving #3 served", async () => {
    const ids = killStepSamples
      .filter((s) => s.upstream === "serving-3" && s.status === 200 && s.requestId)
      .slice(-20)
      .map((s) => s.requestId!);
    expect(ids.length).toBe(20);
    const posted = await api(cluster.get("web-2").url, "POST", "/api/v1/feedback", {
      items: ids.map((request_id) => ({ request_id, label: "y" })),
    });
    expect(posted.status).toBe(200);
    const joined = await until(
      async () => {
        const rows = await db.client.predictionFeedback.findMany({
          where: { requestId: { in: ids } },
        });
        return rows.length === ids.length ? rows : null;
      },
      15_000,
      "the feedback join",
    );
    const logged = await db.client.predictionLog.findMany({
      where: { requestId: { in: ids } },
      select: { instanceId: true, version: true },
    });
    const instances = new Set(logged.map((r) => r.instanceId));
    log(
      "feedback",
      `${ids.length} labels through web-2: applied ${String(posted.body?.applied)}, pending ` +
        `${String(posted.body?.pending)}; joined ${joined.length}, correct ` +
        `${joined.reduce((n, r) => n + r.correct, 0)}; logged by ${[...instances].join(", ")}`,
    );
    expect(logged.length).toBe(ids.length);
    expect(instances.size).toBe(1);
    expect(logged.every((r) => r.version === 2)).toBe(true);
    // Version 2 answers class "y" for every input: every label matches.
    expect(joined.every((r) => r.labelled === 1 && r.correct === 1)).toBe(true);
  });

  it("a new serving instance with an empty cache starts, loads from the store and serves", async () => {
    const t = Date.now();
    const fresh = await cluster.start("serving", "serving-4");
    const startMs = Date.now() - t;
    expect(await versionOn(fresh.url)).toBe("2");
    proxy.add("serving-4", fresh.url);
    await until(() => proxy.upstream("serving-4").inRotation, 5_000, "serving-4 in rotation");
    const load = startLoad({
      url: inferUrl(proxy.url),
      clients: 8,
      body: oneRow(),
      headers: auth(),
    });
    await sleep(1_000);
    const samples = await load.stop();
    const viaProxy = samples.filter((s) => s.upstream === "serving-4" && s.status === 200).length;
    const cached = await filesUnder(fresh.cacheDir);
    log(
      "new instance",
      `serving-4 ready in ${startMs} ms, answered ${viaProxy} of ${samples.length} through the proxy` +
        `; cache files ${cached.length}`,
    );
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(viaProxy).toBeGreaterThan(0);
    // Its cache directory did not exist before it started: what is there came from the bucket.
    expect(cached.length).toBeGreaterThan(0);
  });

  it("the cron coordinator fires exactly once per tick across both schedulers for 60 s", async () => {
    const first = await until(
      () =>
        db.client.jobRun.findFirst({ where: { jobId: job.id }, orderBy: { scheduledFor: "asc" } }),
      30_000,
      "the first fire",
    );
    const windowStart = first.scheduledFor!.getTime() + 2_000;
    const windowEnd = windowStart + 60_000;
    const wait = windowEnd + 1_500 - Date.now();
    if (wait > 0) await sleep(wait);
    await setJobEnabled(db.client, ADMIN, job.id, false);
    const runs = await db.client.jobRun.findMany({
      where: {
        jobId: job.id,
        scheduledFor: { gte: new Date(windowStart), lt: new Date(windowEnd) },
      },
      orderBy: { scheduledFor: "asc" },
    });
    const claims = await db.client.schedulerClaim.findMany({
      where: { key: { startsWith: `job:${job.id}:` } },
    });
    const perTick = new Map<number, number>();
    for (const r of runs) {
      const t = r.scheduledFor!.getTime();
      perTick.set(t, (perTick.get(t) ?? 0) + 1);
    }
    const byInstance = new Map<string, number>();
    for (const c of claims) byInstance.set(c.instanceId, (byInstance.get(c.instanceId) ?? 0) + 1);
    const names = new Map(
      ["scheduler-1", "scheduler-2"].map((n) => [cluster.instanceIdOf(n) ?? n, n] as const),
    );
    const counts = [...perTick.values()];
    log(
      "cron",
      `60 ticks from ${new Date(windowStart).toISOString()}: ${runs.length} runs, fires per tick ` +
        `min ${Math.min(...counts)} max ${Math.max(...counts)}; claims by ` +
        [...byInstance].map(([id, n]) => `${names.get(id) ?? id} ${n}`).join(", "),
    );
    const expected = Array.from({ length: 60 }, (_, i) => windowStart + i * 1_000);
    expect([...perTick.keys()]).toEqual(expected);
    expect(counts.every((n) => n === 1)).toBe(true);
    const claimed = new Set(claims.map((c) => c.key));
    for (const t of expected)
      expect(claimed.has(`job:${job.id}:${new Date(t).toISOString()}`)).toBe(true);
  });

  it("a 1 GiB model uploads through web #1's API into the bucket with web's RSS growth under 100 MB", async () => {
    const MIB = 2 ** 20;
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-1gib-"));
    const file = path.join(dir, "large.onnx");
    try {
      // One MatMul whose weight is a 1 GiB initializer: a real model onnxruntime loads.
      await writeLargeMatMulModel(file, { mib: 1_024, columns: 1_024 });
      const { size } = await fs.stat(file);
      expect(size).toBeGreaterThan(1_024 * MIB);
      const sha256 = createHash("sha256");
      for await (const chunk of createReadStream(file)) sha256.update(chunk as Buffer);
      const digest = sha256.digest("hex");

      const web1 = cluster.get("web-1");
      const rss = () =>
        fs
          .readFile(`/proc/${web1.child.pid}/status`, "utf8")
          .then((status) => Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024);
      expect(
        (await api(web1.url, "POST", "/api/v1/models", { name: "large", task: "other" })).status,
      ).toBe(201);
      const before = await rss();
      let peak = before;
      const sampler = setInterval(
        () =>
          void rss().then(
            (v) => (peak = Math.max(peak, v)),
            () => {},
          ),
        25,
      );
      const t = Date.now();
      let res: Response;
      try {
        res = await fetch(`${web1.url}/api/v1/models/large/versions?filename=large.onnx`, {
          method: "POST",
          headers: {
            ...auth(),
            "content-type": "application/octet-stream",
            "content-length": String(size),
          },
          body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
          duplex: "half",
        } as RequestInit);
      } finally {
        clearInterval(sampler);
      }
      const body = (await res.json()) as { version?: { sha256: string; sizeBytes: number } };
      expect(res.status, JSON.stringify(body)).toBe(201);
      expect(body.version).toMatchObject({ sha256: digest, sizeBytes: size });
      const keys = await listBucketKeys(s3);
      expect(keys.some((k) => k.endsWith(digest))).toBe(true);
      const caches = cluster.processes.map((p) => p.cacheDir + path.sep);
      const local = (await Promise.all(cluster.dataDirs().map(filesUnder)))
        .flat()
        .filter((f) => f.includes(digest) && !caches.some((c) => f.startsWith(c)));
      expect(local).toEqual([]);
      const growth = peak - before;
      log(
        "1 GiB upload",
        `${(size / MIB).toFixed(0)} MiB through POST /api/v1/models/large/versions in ${Date.now() - t} ms ` +
          `(${(size / MIB / ((Date.now() - t) / 1000)).toFixed(0)} MiB/s, stored in the bucket); ` +
          `web-1 RSS ${(before / MIB).toFixed(0)} → peak ${(peak / MIB).toFixed(0)} MiB (+${(growth / MIB).toFixed(1)} MiB)`,
      );
      expect(growth).toBeLessThanOrEqual(100 * 1_000_000);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
