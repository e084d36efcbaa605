/**
 * Real scheduler processes (`workers/scheduler/main.ts`) against the test database: every
 * fire exactly once across three replicas, "Run now" taken once, overlapping fires skipped,
 * a scheduler killed with SIGKILL mid-run, and a graceful stop.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createJob, getRun, runJobNow, setJobEnabled } from "../../../lib/jobs/jobs";
import { truncateAll, useTestDatabase } from "../helpers/db";
import {
  onnxBytes,
  OPERATOR,
  seedDataset,
  seedModel,
  startScheduler,
  storeFor,
  tempDataDir,
  until,
  type SchedulerProcess,
} from "./harness";

const db = useTestDatabase({ truncate: false });
let data: Awaited<ReturnType<typeof tempDataDir>>;
let started: SchedulerProcess[] = [];

beforeAll(async () => {
  data = await tempDataDir();
});
afterAll(() => data.cleanup());
beforeEach(async () => {
  await truncateAll(db.url);
  await fs.rm(path.join(data.dir, "imports"), { recursive: true, force: true });
  await fs.mkdir(path.join(data.dir, "imports", "incoming"), { recursive: true });
  await seedModel(db.client, storeFor(data.dir));
});
afterEach(async () => {
  await Promise.all(started.map((s) => s.stop("SIGKILL")));
  started = [];
});

async function schedulers(n: number, env: Record<string, string> = {}) {
  const list = await Promise.all(
    Array.from({ length: n }, () =>
      startScheduler({ databaseUrl: db.url, dataDir: data.dir, env }),
    ),
  );
  started.push(...list);
  return list;
}

const attemptLines = async (runId: string) =>
  (await getRun(db.client, runId)).log.filter((l) => /^Attempt \d+ of \d+ on /.test(l.line));

/** Processes whose command line contains `marker` (the trainer's $0 in these tests). */
function processesWith(marker: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(marker) && !l.includes("ps -eo"));
}

describe("scheduler processes", () => {
  it("three schedulers and a job firing every second for 60 s: exactly one run per second", async () => {
    await schedulers(3);
    const job = await createJob(db.client, OPERATOR, {
      name: "every-second",
      model: "churn",
      schedule: "* * * * * *",
      timezone: "UTC",
      action: { type: "import", directory: "incoming" },
    });
    // A window of 60 whole seconds that starts once the job is being fired (one replica
    // firing is enough; the window must not include the seconds before any had the job).
    const first = await until(
      () =>
        db.client.jobRun.findFirst({ where: { jobId: job.id }, orderBy: { scheduledFor: "asc" } }),
      30_000,
      "the first fire",
    );
    const windowStart = first.scheduledFor!.getTime() + 2000;
    const windowEnd = windowStart + 60_000;
    await new Promise((r) => setTimeout(r, windowEnd + 1500 - Date.now()));
    await setJobEnabled(db.client, OPERATOR, job.id, false);
    await until(
      async () =>
        (await db.client.jobRun.count({ where: { status: { in: ["queued", "running"] } } })) === 0,
      60_000,
      "the last runs to end",
    );
    const runs = await db.client.jobRun.findMany({
      where: {
        jobId: job.id,
        scheduledFor: { gte: new Date(windowStart), lt: new Date(windowEnd) },
      },
      orderBy: { scheduledFor: "asc" },
    });
    const seconds = runs.map((r) => r.scheduledFor!.getTime());
    const expected = Array.from({ length: 60 }, (_, i) => windowStart + i * 1000);
    expect(seconds).toEqual(expected);
    for (const run of runs) {
      expect(run.trigger).toBe("schedule");
      expect(["succeeded", "skipped"]).toContain(run.status);
      if (run.status === "skipped") expect(run.reason).toMatch(/never overlap/);
      else {
        expect(run.attempt).toBe(1);
        expect(await attemptLines(run.id)).toHaveLength(1);
      }
    }
    expect(runs.filter((r) => r.status === "succeeded").length).toBeGreaterThan(0);
    // one claim per fire, by one of the three
    const claims = await db.client.schedulerClaim.findMany({
      where: { key: { startsWith: `job:${job.id}:` } },
    });
    const claimed = new Set(claims.map((c) => c.key));
    for (const t of expected)
      expect(claimed.has(`job:${job.id}:${new Date(t).toISOString()}`)).toBe(true);
  }, 180_000);

  it("a Run now is taken by exactly one of three schedulers, each time", async () => {
    await schedulers(3);
    const job = await createJob(db.client, OPERATOR, {
      name: "manual-import",
      model: "churn",
      schedule: "0 3 * * *",
      timezone: "UTC",
      enabled: false,
      action: { type: "import", directory: "incoming" },
    });
    for (let i = 0; i < 4; i++) {
      await fs.writeFile(
        path.join(data.dir, "imports", "incoming", `m${i}.onnx`),
        onnxBytes(10 + i),
      );
      const queued = await runJobNow(db.client, OPERATOR, job.id);
      const run = await until(
        async () => {
          const r = await getRun(db.client, queued.id);
          return r.status === "succeeded" || r.status === "failed" ? r : null;
        },
        30_000,
        "the manual run to end",
      );
      expect(run.status, run.error ?? "").toBe("succeeded");
      expect(await attemptLines(run.id)).toHaveLength(1);
      expect(run.result).toMatchObject({ imported: [{ file: `m${i}.onnx`, version: 3 + i }] });
    }
    const versions = await db.client.modelVersion.findMany({
      where: { model: { name: "churn" } },
      orderBy: { version: "asc" },
    });
    expect(versions.map((v) => [v.version, v.lineageKind])).toEqual([
      [1, "upload"],
      [2, "upload"],
      [3, "import"],
      [4, "import"],
      [5, "import"],
      [6, "import"],
    ]);
    expect(versions[2]!.createdByLabel).toBe("job:manual-import");
  });

  it("fires while a run is running are skipped, and runs of one job never overlap", async () => {
    const trainer = JSON.stringify([
      "/bin/sh",
      "-c",
      'sleep 2; cp "$MODEL_SOURCE" "$OUTPUT_PATH"',
      "overlap-trainer",
    ]);
    const source = path.join(data.dir, "trained.onnx");
    await fs.writeFile(source, onnxBytes(20));
    await seedDataset(db.client, storeFor(data.dir));
    await schedulers(2, {
      MODELDECK_TRAINER_COMMAND: trainer.replace("$MODEL_SOURCE", source),
    });
    const job = await createJob(db.client, OPERATOR, {
      name: "busy-retrain",
      model: "churn",
      schedule: "* * * * * *",
      timezone: "UTC",
      action: { type: "retrain", dataset: "holdout", timeLimitSeconds: 60 },
    });
    await until(
      async () =>
        (await db.client.jobRun.count({ where: { jobId: job.id, status: "skipped" } })) >= 3,
      60_000,
      "skipped fires",
    );
    await setJobEnabled(db.client, OPERATOR, job.id, false);
    await until(
      async () =>
        (await db.client.jobRun.count({ where: { status: { in: ["queued", "running"] } } })) === 0,
      60_000,
      "runs to end",
    );
    const runs = await db.client.jobRun.findMany({
      where: { jobId: job.id },
      orderBy: { scheduledFor: "asc" },
    });
    const executed = runs.filter((r) => r.status !== "skipped");
    expect(executed.length).toBeGreaterThan(0);
    for (const r of executed) expect(r.status, r.error ?? "").toBe("succeeded");
    for (const s of runs.filter((r) => r.status === "skipped")) {
      expect(s.reason).toMatch(
        /^Skipped: run [0-9a-f-]{36} of this job was still (running|queued)/,
      );
    }
    const spans = executed
      .map((r) => [r.startedAt!.getTime(), r.finishedAt!.getTime()] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++)
      expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    // the first retrain registered a version whose parent is production (v2); later ones
    // produced the same bytes and registered nothing
    const retrained = await db.client.modelVersion.findMany({
      where: { model: { name: "churn" }, lineageKind: "retrain" },
      include: { parentVersion: { select: { version: true } } },
    });
    expect(retrained.map((v) => [v.version, v.parentVersion?.version])).toEqual([[3, 2]]);
  }, 120_000);

  it("kill -9 of the scheduler during a long run: the run fails after the lease, production unchanged, trainer gone", async () => {
    const marker = `trainer-${Date.now()}`;
    await seedDataset(db.client, storeFor(data.dir));
    const env = {
      MODELDECK_TRAINER_COMMAND: JSON.stringify([
        "/bin/sh",
        "-c",
        "echo training; sleep 600",
        marker,
      ]),
    };
    const [doomed] = await schedulers(1, env);
    const job = await createJob(db.client, OPERATOR, {
      name: "long-retrain",
      model: "churn",
      schedule: "0 3 * * *",
      timezone: "UTC",
      enabled: false,
      action: { type: "retrain", dataset: "holdout", timeLimitSeconds: 3600 },
    });
    const queued = await runJobNow(db.client, OPERATOR, job.id);
    await until(
      async () => (await getRun(db.client, queued.id)).log.some((l) => l.line === "training"),
      30_000,
      "the trainer to start",
    );
    expect(processesWith(marker).length).toBeGreaterThan(0);
    const running = await getRun(db.client, queued.id);
    expect(running).toMatchObject({ status: "running", instanceId: doomed!.instanceId() });
    await schedulers(1, env);
    await doomed!.stop("SIGKILL");
    const failed = await until(
      async () => {
        const r = await getRun(db.client, queued.id);
        return r.status === "failed" ? r : null;
      },
      30_000,
      "the run to be failed by the other scheduler",
    );
    expect(failed.error).toContain(`(${doomed!.instanceId()}) stopped renewing its lease`);
    expect(failed.log.at(-1)!.line).toMatch(/stopped renewing its lease/);
    const production = await db.client.modelAlias.findFirstOrThrow({
      where: { model: { name: "churn" }, name: "production" },
      include: { version: true },
    });
    expect(production.version.version).toBe(2);
    expect(await db.client.modelVersion.count()).toBe(2);
    await until(async () => processesWith(marker).length === 0, 15_000, "the trainer to be killed");
  }, 120_000);

  it("SIGTERM lets a run finish within the grace period, else stops and fails it", async () => {
    const marker = `graceful-${Date.now()}`;
    await seedDataset(db.client, storeFor(data.dir));
    const [s] = await schedulers(1, {
      MODELDECK_TRAINER_COMMAND: JSON.stringify([
        "/bin/sh",
        "-c",
        "echo training; sleep 600",
        marker,
      ]),
      MODELDECK_SCHEDULER_SHUTDOWN_GRACE_SECONDS: "1",
    });
    const job = await createJob(db.client, OPERATOR, {
      name: "stopped-retrain",
      model: "churn",
      schedule: "0 3 * * *",
      timezone: "UTC",
      enabled: false,
      action: { type: "retrain", dataset: "holdout" },
    });
    const queued = await runJobNow(db.client, OPERATOR, job.id);
    await until(
      async () => (await getRun(db.client, queued.id)).log.some((l) => l.line === "training"),
      30_000,
      "the trainer to start",
    );
    expect(await s!.stop("SIGTERM")).toBe(0);
    const run = await getRun(db.client, queued.id);
    expect(run).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/scheduler shut down \(SIGTERM\) before the run finished/),
    });
    expect(processesWith(marker)).toEqual([]);
    expect(await db.client.processHeartbeat.count()).toBe(0);
  }, 60_000);
});
