/**
 * lib/jobs against real Postgres: job mutations (audited, validated, notified), the
 * Postgres RunCoordinator, fires and the run queue (no overlap, exactly one taker), leases.
 */
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { createPostgresRunCoordinator } from "../../../lib/jobs/coordinator";
import { JOB_EVENTS_CHANNEL } from "../../../lib/jobs/events";
import {
  createJob,
  deleteJob,
  getJob,
  getRun,
  listJobs,
  listRuns,
  runJobNow,
  setJobEnabled,
  updateJob,
} from "../../../lib/jobs/jobs";
import {
  claimNextRun,
  endAttempt,
  failExpiredLeases,
  fireKey,
  parseFireKey,
  recordFire,
  renewLease,
} from "../../../lib/jobs/runs";
import { createTestPrisma, truncateAll, useTestDatabase } from "../helpers/db";
import { OPERATOR, seedModel, storeFor, tempDataDir } from "./harness";

const db = useTestDatabase({ truncate: false });
let data: Awaited<ReturnType<typeof tempDataDir>>;

beforeAll(async () => {
  data = await tempDataDir();
});
afterAll(() => data.cleanup());
beforeEach(async () => {
  await truncateAll(db.url);
  await seedModel(db.client, storeFor(data.dir));
});

const importJob = (over: Record<string, unknown> = {}) => ({
  name: "nightly-import",
  model: "churn",
  schedule: "0 3 * * *",
  timezone: "Europe/Berlin",
  action: { type: "import" as const, directory: "incoming" },
  ...over,
});

async function refused(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

const jobAudits = () =>
  db.client.auditEntry.findMany({
    where: { action: { startsWith: "job." } },
    orderBy: { id: "asc" },
  });

describe("job mutations", () => {
  it("creates a job with its schedule in words, the next five fire times and a job.create entry", async () => {
    const job = await createJob(db.client, OPERATOR, importJob(), "10.0.0.9");
    expect(job).toMatchObject({
      name: "nightly-import",
      model: { name: "churn" },
      schedule: "0 3 * * *",
      timezone: "Europe/Berlin",
      enabled: true,
      action: { type: "import", directory: "incoming" },
      scheduleDescription: "At 03:00",
      lastRun: null,
      activeRun: null,
      createdBy: { type: "user", id: "op-1", label: "op@example.com" },
    });
    expect(job.nextRuns).toHaveLength(5);
    expect(job.nextRunsLocal[0]).toMatch(/ 03:00:00 CES?T$/);
    const audits = await jobAudits();
    expect(audits.map((a) => a.action)).toEqual(["job.create"]);
    expect(audits[0]).toMatchObject({ resourceId: job.id, ipAddress: "10.0.0.9" });
  });

  it("refuses an invalid cron (400 naming the field), unknown model, bad directory and duplicates, writing nothing", async () => {
    const cron = await refused(
      createJob(db.client, OPERATOR, importJob({ schedule: "61 * * * *" })),
    );
    expect(cron.status).toBe(400);
    expect(cron.details).toEqual({
      fields: [{ field: "schedule", message: expect.stringMatching(/minutes field \("61"\)/) }],
    });
    const tz = await refused(createJob(db.client, OPERATOR, importJob({ timezone: "Mars/Base" })));
    expect((tz.details as { fields: { field: string }[] }).fields[0]!.field).toBe("timezone");
    const model = await refused(createJob(db.client, OPERATOR, importJob({ model: "nope" })));
    expect(model.status).toBe(400);
    expect(model.message).toMatch(/model names no registered model \("nope"\)/);
    const dir = await refused(
      createJob(
        db.client,
        OPERATOR,
        importJob({ action: { type: "import", directory: "../etc" } }),
      ),
    );
    expect(dir.details).toEqual({
      fields: [
        { field: "action.directory", message: expect.stringMatching(/must not contain '\.\.'/) },
      ],
    });
    const name = await refused(createJob(db.client, OPERATOR, importJob({ name: "Bad Name" })));
    expect((name.details as { fields: { field: string }[] }).fields[0]!.field).toBe("name");
    expect(await db.client.refreshJob.count()).toBe(0);
    await createJob(db.client, OPERATOR, importJob());
    const dup = await refused(createJob(db.client, OPERATOR, importJob()));
    expect(dup.status).toBe(409);
    expect(await db.client.refreshJob.count()).toBe(1);
    expect((await jobAudits()).map((a) => a.action)).toEqual(["job.create"]);
  });

  it("updates, disables and deletes with audit entries, and notifies the schedulers in each transaction", async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const events: string[] = [];
    listener.on("notification", (m) => events.push(JSON.parse(m.payload!).type as string));
    await listener.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    try {
      const job = await createJob(db.client, OPERATOR, importJob());
      const same = await updateJob(db.client, OPERATOR, job.id, { schedule: "0 3 * * *" });
      expect(same.updatedAt).toBe(job.updatedAt);
      const edited = await updateJob(db.client, OPERATOR, job.name, {
        schedule: "*/10 * * * *",
        timezone: "UTC",
      });
      expect(edited).toMatchObject({
        schedule: "*/10 * * * *",
        scheduleDescription: "Every 10 minutes",
      });
      const badEdit = await refused(
        updateJob(db.client, OPERATOR, job.id, { schedule: "* * 32 * *" }),
      );
      expect(badEdit.message).toMatch(/schedule has an invalid day of month field/);
      const disabled = await setJobEnabled(db.client, OPERATOR, job.id, false);
      expect(disabled).toMatchObject({ enabled: false, nextRuns: [] });
      await deleteJob(db.client, OPERATOR, job.id);
      await expect(getJob(db.client, job.id)).rejects.toMatchObject({ status: 404 });
      expect((await jobAudits()).map((a) => a.action)).toEqual([
        "job.create",
        "job.update",
        "job.disable",
        "job.delete",
      ]);
      const audit = (await jobAudits())[1]!;
      expect(audit.before).toMatchObject({ schedule: "0 3 * * *", timezone: "Europe/Berlin" });
      expect(audit.after).toMatchObject({ schedule: "*/10 * * * *", timezone: "UTC" });
      await new Promise((r) => setTimeout(r, 200));
      expect(events).toEqual(["job.created", "job.updated", "job.updated", "job.deleted"]);
    } finally {
      await listener.end();
    }
  });

  it("run now queues one manual run (job.run) and refuses a second while it is active", async () => {
    const job = await createJob(db.client, OPERATOR, importJob({ enabled: false }));
    const run = await runJobNow(db.client, OPERATOR, job.id);
    expect(run).toMatchObject({
      status: "queued",
      trigger: "manual",
      scheduledFor: null,
      attempt: 1,
      maxAttempts: 3,
      requestedBy: { label: "op@example.com" },
    });
    const again = await refused(runJobNow(db.client, OPERATOR, job.id));
    expect(again.status).toBe(409);
    expect(again.message).toMatch(/already queued/);
    const busy = await refused(deleteJob(db.client, OPERATOR, job.id));
    expect(busy.status).toBe(409);
    expect((await jobAudits()).map((a) => a.action)).toEqual(["job.create", "job.run"]);
    const listed = await listJobs(db.client);
    expect(listed.jobs[0]).toMatchObject({ activeRun: { id: run.id }, lastRun: { id: run.id } });
    expect((await listRuns(db.client, job.id)).runs.map((r) => r.id)).toEqual([run.id]);
  });
});

describe("the Postgres RunCoordinator", () => {
  it("lets exactly one of many concurrent claimers win a key; others win other keys", async () => {
    const clients = [db.client, createTestPrisma(db.url), createTestPrisma(db.url)];
    try {
      const coordinators = clients.map((c, i) =>
        createPostgresRunCoordinator({ db: c, instanceId: `s${i}` }),
      );
      const wins = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          coordinators[i % 3]!.shouldRun("rollup:2026-01-01T00:00:00.000Z", 60_000),
        ),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await coordinators[0]!.shouldRun("rollup:2026-01-01T00:00:01.000Z", 60_000)).toBe(
        true,
      );
      // an expired lease may be claimed again (node-cron's lease semantics)
      expect(await coordinators[1]!.shouldRun("short", 1)).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(await coordinators[2]!.shouldRun("short", 60_000)).toBe(true);
    } finally {
      await Promise.all(clients.slice(1).map((c) => c.$disconnect()));
    }
  });

  it("creates the fire's run in the claim's transaction; a second claim of the fire gets nothing", async () => {
    const job = await createJob(
      db.client,
      OPERATOR,
      importJob({ schedule: "* * * * * *", timezone: "UTC" }),
    );
    const slot = new Date("2030-01-01T00:00:05.000Z");
    const key = fireKey(job.id, slot);
    expect(parseFireKey(key)).toEqual({ jobId: job.id, slot });
    const coordinator = createPostgresRunCoordinator({
      db: db.client,
      instanceId: "s1",
      onClaim: async (tx, k) => {
        const f = parseFireKey(k)!;
        await recordFire(tx, f.jobId, f.slot);
      },
    });
    expect(await coordinator.shouldRun(key, 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    // The claim's lease has expired, but the run for this fire exists: still no second run.
    expect(await coordinator.shouldRun(key, 60_000)).toBe(false);
    const runs = await db.client.jobRun.findMany({ where: { jobId: job.id } });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: "schedule", status: "queued", scheduledFor: slot });
  });
});

describe("fires and the run queue", () => {
  async function fire(jobId: string, iso: string) {
    return db.client.$transaction((tx) => recordFire(tx, jobId, new Date(iso)));
  }

  it("skips a fire while a run of the job is running, saying which", async () => {
    const job = await createJob(
      db.client,
      OPERATOR,
      importJob({ schedule: "* * * * * *", timezone: "UTC" }),
    );
    const first = await fire(job.id, "2030-01-01T00:00:01.000Z");
    expect(first.kind).toBe("queued");
    const claimed = await claimNextRun(db.client, "s1", 30_000);
    expect(claimed).toMatchObject({ jobName: "nightly-import", modelName: "churn" });
    const second = await fire(job.id, "2030-01-01T00:00:02.000Z");
    expect(second).toMatchObject({
      kind: "skipped",
      reason: expect.stringMatching(/still running .* never overlap/),
    });
    const skipped = await getRun(db.client, (second as { runId: string }).runId);
    expect(skipped).toMatchObject({
      status: "skipped",
      reason: expect.stringContaining(claimed!.id),
    });
    // not a fire time of the schedule, or the job disabled: nothing recorded
    expect((await fire(job.id, "2030-01-01T00:00:02.500Z")).kind).toBe("ignored");
    await setJobEnabled(db.client, OPERATOR, job.id, false);
    expect((await fire(job.id, "2030-01-01T00:00:03.000Z")).kind).toBe("ignored");
    expect(await db.client.jobRun.count()).toBe(2);
  });

  it("hands a queued run to exactly one of several concurrent claimers, and never overlaps a job", async () => {
    const job = await createJob(db.client, OPERATOR, importJob());
    await runJobNow(db.client, OPERATOR, job.id);
    const clients = [db.client, createTestPrisma(db.url), createTestPrisma(db.url)];
    try {
      const claims = await Promise.all(
        Array.from({ length: 9 }, (_, i) => claimNextRun(clients[i % 3]!, `s${i}`, 30_000)),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      // A queued run of a job whose other run is running stays queued.
      await db.client.jobRun.create({
        data: {
          jobId: job.id,
          trigger: "manual",
          action: { type: "import", directory: "incoming" },
          requestedByType: "system",
          requestedByLabel: "test",
        },
      });
      expect(await claimNextRun(db.client, "s9", 30_000)).toBeNull();
    } finally {
      await Promise.all(clients.slice(1).map((c) => c.$disconnect()));
    }
  });

  it("renews, ends, retries with backoff, and fails runs whose lease expired", async () => {
    const job = await createJob(db.client, OPERATOR, importJob());
    const queued = await runJobNow(db.client, OPERATOR, job.id);
    const run = (await claimNextRun(db.client, "s1", 30_000))!;
    expect(run.id).toBe(queued.id);
    expect(await renewLease(db.client, run.id, "s1", 30_000)).toBe(true);
    expect(await renewLease(db.client, run.id, "someone-else", 30_000)).toBe(false);
    // a retryable failure with attempts left: back to the queue, attempt 2, not yet due
    expect(
      await endAttempt(
        db.client,
        run.id,
        "s1",
        { status: "failed", error: "disk busy.", retryable: true },
        60_000,
      ),
    ).toBe("retrying");
    expect(await getRun(db.client, run.id)).toMatchObject({
      status: "queued",
      attempt: 2,
      error: "disk busy.",
    });
    expect(await claimNextRun(db.client, "s1", 30_000)).toBeNull();
    await db.client.jobRun.update({
      where: { id: run.id },
      data: { availableAt: new Date(0), attempt: 3 },
    });
    // attempt 3 of 3 on a scheduler that "dies": the lease runs out and it ends failed
    const again = (await claimNextRun(db.client, "s2", 50))!;
    expect(again.attempt).toBe(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(await failExpiredLeases(db.client, 0)).toEqual([{ runId: run.id, endedAs: "failed" }]);
    const failed = await getRun(db.client, run.id);
    expect(failed).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/scheduler running this run \(s2\) stopped renewing its lease/),
    });
    expect(failed.log.map((l) => l.line).join("\n")).toMatch(/Attempt 1 of 3 failed: disk busy\./);
    // the dead scheduler cannot end it afterwards
    expect(await endAttempt(db.client, run.id, "s2", { status: "succeeded", result: {} }, 0)).toBe(
      "lost",
    );
  });
});
