import pg from "pg";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { loadConfig } from "../../../lib/config";
import { submitFeedback } from "../../../lib/monitoring/feedback";
import { enforceRetention, retentionTask, uuidV7Floor } from "../../../lib/monitoring/retention";
import { postgresPredictionSink } from "../../../lib/serving/prediction-log";
import { createLogger } from "../../../lib/log";
import { truncateAll, useTestDatabase } from "../helpers/db";
import { classifierBytes, createClassifier, storeFor, tempDataDir } from "../serving/harness";
import { traffic, type Served } from "./helpers";

/** Retention: old raw logs, feedback and rollups go, in small batches, without blocking writers. */
const db = useTestDatabase({ truncate: false });
const sink = postgresPredictionSink(db.url);
let data: Awaited<ReturnType<typeof tempDataDir>>;
let served: Served;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const policy = { predictionLogDays: 30, rollupDays: 400 };

async function counts() {
  const [r] = await db.client.$queryRawUnsafe<
    { logs: number; feedback: number; rollups: number; rollupRequests: number }[]
  >(
    `SELECT (SELECT count(*) FROM prediction_log)::int AS logs,
            (SELECT count(*) FROM prediction_feedback)::int AS feedback,
            (SELECT count(*) FROM metric_rollup)::int AS rollups,
            (SELECT coalesce(sum(requests), 0) FROM metric_rollup)::int AS "rollupRequests"`,
  );
  return r!;
}

async function logged(startMs: number, count: number, seed: number) {
  const records = traffic(served, {
    startMs,
    spanMs: 3 * 3600_000,
    count,
    seed,
    predict: (rows) => Array.from({ length: rows }, () => "z"),
  });
  for (let i = 0; i < records.length; i += 500) await sink.insert(records.slice(i, i + 500), "t");
  return records;
}

beforeAll(async () => {
  await truncateAll(db.url);
  data = await tempDataDir();
  await createClassifier(db.client, storeFor(data.dir), "ret", [classifierBytes(2)]);
  const m = await db.client.model.findUniqueOrThrow({
    where: { name: "ret" },
    include: { versions: true },
  });
  served = { modelId: m.id, model: m.name, versionId: m.versions[0]!.id, version: 1 };
});

afterAll(async () => {
  await sink.end();
  await data?.cleanup();
});

describe("monitoring retention", () => {
  it("deletes raw logs and feedback past their retention and rollups past theirs, in batches", async () => {
    const ancient = await logged(NOW - 500 * DAY, 150, 1); // past both retentions
    const old = await logged(NOW - 35 * DAY, 1200, 2); // past the log's only
    const recent = await logged(NOW - 2 * DAY, 300, 3); // kept
    const ok = (r: { status: number }) => r.status === 200;
    for (const set of [old, recent]) {
      const outcome = await submitFeedback(
        db.client,
        SYSTEM_ACTOR,
        set.filter(ok).map((r) => ({ request_id: r.requestId, label: "z" })),
      );
      expect(outcome.rejected).toBe(0);
    }
    const before = await counts();
    expect(before.logs).toBe(1650);
    expect(before.feedback).toBe(1500);

    const result = await enforceRetention(db.client, policy, {
      now: new Date(NOW),
      batchSize: 200,
      pauseMs: 0,
    });
    expect(result).toMatchObject({ predictionLog: 1350, feedback: 1200 });
    // 1350 rows in batches of 200: 7 deletes (the last one short); 1200: 6 full + 1 empty
    expect(result.batches).toBeGreaterThanOrEqual(7 + 7);
    const after = await counts();
    expect(after.logs).toBe(300);
    expect(after.feedback).toBe(300);
    // Rollups of the 35-day-old traffic stay (with their feedback counts); 500-day-old ones go.
    expect(after.rollupRequests).toBe(1500);
    expect(result.rollups).toBe(before.rollups - after.rollups);
    const left = await db.client.$queryRawUnsafe<{ n: number; labelled: number }[]>(
      `SELECT count(*)::int AS n, sum(labelled)::int AS labelled FROM metric_rollup
        WHERE minute < now() - interval '400 days'`,
    );
    expect(left[0]!.n).toBe(0);
    const oldLabels = old.filter(ok).reduce((n, r) => n + (r.rows ?? 1), 0);
    const recentLabels = recent.filter(ok).reduce((n, r) => n + (r.rows ?? 1), 0);
    const labelled = await db.client.metricRollup.aggregate({ _sum: { labelled: true } });
    expect(Number(labelled._sum.labelled)).toBe(oldLabels + recentLabels);
    expect(ancient.length).toBe(150);

    // A second run finds nothing.
    expect(await enforceRetention(db.client, policy, { now: new Date(NOW) })).toMatchObject({
      predictionLog: 0,
      feedback: 0,
      rollups: 0,
    });
  });

  it("never waits for a writer's open transaction (no table lock), and runs as a system task", async () => {
    await logged(NOW - 40 * DAY, 400, 4);
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    try {
      // A serving flush in progress: an uncommitted insert into prediction_log.
      await writer.query("BEGIN");
      await writer.query(
        `INSERT INTO prediction_log ("requestId", at, "modelId", model, status, "latencyMs", "instanceId")
         VALUES ($1, now(), $2, 'ret', 200, 1, 'writer')`,
        [uuidv7(), served.modelId],
      );
      const task = retentionTask({ db: db.client, log: createLogger("test", "silent"), policy });
      expect(task.schedule).toBe("40 */10 * * * *");
      const run = task.run({ at: new Date(NOW), signal: new AbortController().signal });
      const done = await Promise.race([
        run.then(() => "done"),
        new Promise((r) => setTimeout(() => r("blocked"), 5000)),
      ]);
      expect(done).toBe("done");
      await writer.query("COMMIT");
    } finally {
      await writer.end();
    }
    expect((await counts()).logs).toBe(301);
  });

  it("reads its days from the configuration, rollups at least as long as logs", () => {
    expect(loadConfig({}).retention).toEqual({
      predictionLogDays: 30,
      rollupDays: 400,
      exportLog: false,
    });
    expect(loadConfig({ MODELDECK_LOG_EXPORT: "true" }).retention.exportLog).toBe(true);
    expect(
      loadConfig({
        MODELDECK_PREDICTION_LOG_RETENTION_DAYS: "7",
        MODELDECK_ROLLUP_RETENTION_DAYS: "90",
      }).retention,
    ).toEqual({ predictionLogDays: 7, rollupDays: 90, exportLog: false });
    expect(() => loadConfig({ MODELDECK_ROLLUP_RETENTION_DAYS: "10" })).toThrow(
      /MODELDECK_ROLLUP_RETENTION_DAYS must be at least/,
    );
    expect(() => loadConfig({ MODELDECK_PREDICTION_LOG_RETENTION_DAYS: "soon" })).toThrow(
      /MODELDECK_PREDICTION_LOG_RETENTION_DAYS/,
    );
  });

  it("bounds time-ordered ids by the millisecond", () => {
    const ms = Date.UTC(2026, 0, 1);
    const floor = uuidV7Floor(ms);
    expect(uuidv7({ msecs: ms - 1 }) < floor).toBe(true);
    expect(uuidv7({ msecs: ms }) >= floor).toBe(true);
  });
});
