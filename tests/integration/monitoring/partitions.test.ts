import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import pg from "pg";
import { v4 as uuidv4, v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { applyMigrations, DEFAULT_MIGRATIONS_DIR } from "../../../lib/db/migrations";
import type { PrismaClient } from "../../../lib/db/generated/client";
import { joinPendingFeedback, submitFeedback } from "../../../lib/monitoring/feedback";
import {
  DAY_MS,
  dayStartOf,
  dropExpiredPartitions,
  ensurePartitions,
  partitionDay,
  partitionName,
  partitionTask,
} from "../../../lib/monitoring/partitions";
import { enforceRetention } from "../../../lib/monitoring/retention";
import { createLogger } from "../../../lib/log";
import { postgresPredictionSink, type PredictionRecord } from "../../../lib/serving/prediction-log";
import { LocalArtifactStore } from "../../../lib/storage";
import { adminQuery, createEmptyDatabase, createTestPrisma } from "../helpers/db";
import { classifierBytes, createClassifier, storeFor, tempDataDir } from "../serving/harness";
import { traffic, type Served } from "./helpers";

/**
 * The prediction log and its feedback partitioned by day (lib/monitoring/partitions.ts), each
 * test on a database of its own: they create and drop partitions for chosen days.
 */
const MIGRATION = "20261207165922_partition_prediction_log";
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function migratedDatabase(): Promise<{ url: string; client: PrismaClient }> {
  const db = await createEmptyDatabase("partitions");
  cleanups.push(db.drop);
  await applyMigrations(db.url, { log: silent });
  const client = createTestPrisma(db.url);
  cleanups.push(() => client.$disconnect());
  return { url: db.url, client };
}

/** Where each row lives: partition name per request id. */
async function placement(url: string, table: string): Promise<Map<string, string>> {
  const rows = await adminQuery<{ id: string; part: string }>(
    url,
    `SELECT "requestId"::text AS id, tableoid::regclass::text AS part FROM ${table}`,
  );
  return new Map(rows.map((r) => [r.id, r.part]));
}

async function attached(url: string, table: string): Promise<string[]> {
  const rows = await adminQuery<{ name: string }>(
    url,
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::regclass ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.name);
}

function logRow(requestId: string, modelId: string, at: Date): PredictionRecord {
  return { requestId, modelId, model: "m", status: 200, latencyMs: 1, predicted: '["z"]', at };
}

describe("partitioning migration", () => {
  it("moves rows logged before it into day partitions in place, stragglers into the default", async () => {
    const db = await createEmptyDatabase("partition_migration");
    cleanups.push(db.drop);
    const before = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-premigrations-"));
    cleanups.push(() => fs.rm(before, { recursive: true, force: true }));
    for (const entry of await fs.readdir(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name >= MIGRATION) continue;
      await fs.cp(path.join(DEFAULT_MIGRATIONS_DIR, entry.name), path.join(before, entry.name), {
        recursive: true,
      });
    }
    await applyMigrations(db.url, { log: silent, migrationsDir: before });

    // Three days of rows from before partitioning, and one id that is no UUIDv7.
    const today = dayStartOf(Date.now());
    const modelId = uuidv4();
    const ids = [
      uuidv7({ msecs: today - 3 * DAY_MS + 5 }),
      uuidv7({ msecs: today - DAY_MS - 1 }),
      uuidv7({ msecs: today + 1000 }),
    ];
    const strange = "00000000-0000-4000-8000-000000000001";
    const sink = postgresPredictionSink(db.url);
    await sink.insert(
      [...ids, strange].map((id) => logRow(id, modelId, new Date())),
      "before",
    );
    await sink.end();
    await adminQuery(
      db.url,
      `INSERT INTO prediction_feedback ("requestId", "modelId", version, "predictedAt", kind, truth,
         labelled, "submittedByType", "submittedByLabel")
       SELECT "requestId", "modelId", 1, at, 'label', '["z"]', 1, 'system', 'test'
         FROM prediction_log`,
    );

    // The partitioning migration first, then any written after it.
    const { applied } = await applyMigrations(db.url, { log: silent });
    expect(applied[0]).toBe(MIGRATION);
    expect(applied.every((name) => name >= MIGRATION)).toBe(true);

    for (const table of ["prediction_log", "prediction_feedback"] as const) {
      const where = await placement(db.url, table);
      expect(where.size).toBe(4);
      expect(where.get(ids[0]!)).toBe(partitionName(table, today - 3 * DAY_MS));
      expect(where.get(ids[1]!)).toBe(partitionName(table, today - 2 * DAY_MS));
      expect(where.get(ids[2]!)).toBe(partitionName(table, today));
      expect(where.get(strange)).toBe(`${table}_default`);
      // From the oldest row's day to a week ahead, plus the default.
      const parts = await attached(db.url, table);
      expect(parts).toHaveLength(11 + 1);
      expect(parts).toContain(partitionName(table, today + 7 * DAY_MS));
    }
    const [kind] = await adminQuery<{ kind: string; pkey: string; brin: string }>(
      db.url,
      `SELECT c.relkind::text AS kind,
              (SELECT conname FROM pg_constraint WHERE conrelid = c.oid AND contype = 'p') AS pkey,
              (SELECT indexdef FROM pg_indexes WHERE indexname = 'prediction_log_at_idx') AS brin
         FROM pg_class c WHERE relname = 'prediction_log'`,
    );
    expect(kind).toEqual({
      kind: "p",
      pkey: "prediction_log_pkey",
      brin: expect.stringContaining("USING brin (at)"),
    });
    // The partition task agrees with the migration on names: nothing left to create.
    const client = createTestPrisma(db.url);
    try {
      const result = await ensurePartitions(client, { retentionDays: 30 });
      expect(result).toEqual({ created: [], movedFromDefault: 0 });
    } finally {
      await client.$disconnect();
    }
  });
});

describe("partitions ahead and stragglers", () => {
  it("creates days ahead idempotently, two schedulers at once, and moves default rows into their new day", async () => {
    const db = await migratedDatabase();
    const other = createTestPrisma(db.url);
    cleanups.push(() => other.$disconnect());
    const now = dayStartOf(Date.now()) + 20 * DAY_MS + 12 * 3600_000; // past the week ahead
    const modelId = uuidv4();

    // Written before the scheduler made their day: caught by the default, never lost.
    const early = Array.from({ length: 50 }, (_, i) => uuidv7({ msecs: now + i * 1000 }));
    const sink = postgresPredictionSink(db.url);
    await sink.insert(
      early.map((id) => logRow(id, modelId, new Date(now))),
      "serving",
    );
    await sink.end();
    const before = await placement(db.url, "prediction_log");
    expect(new Set(before.values())).toEqual(new Set(["prediction_log_default"]));

    const task = partitionTask({
      db: db.client,
      log: createLogger("test", "silent"),
      retentionDays: 30,
    });
    expect(task.schedule).toBe("20 7 * * * *");
    const [a, b] = await Promise.all([
      ensurePartitions(db.client, { now, retentionDays: 30 }),
      ensurePartitions(other, { now, retentionDays: 30 }),
    ]);
    const created = [...a.created, ...b.created];
    expect(new Set(created).size).toBe(created.length); // each day made once
    expect(a.movedFromDefault + b.movedFromDefault).toBe(50);
    for (const table of ["prediction_log", "prediction_feedback"] as const) {
      const parts = await attached(db.url, table);
      for (let d = -1; d <= 7; d++) expect(parts).toContain(partitionName(table, now + d * DAY_MS));
    }
    const after = await placement(db.url, "prediction_log");
    expect(after.size).toBe(50);
    expect(new Set(after.values())).toEqual(new Set([partitionName("prediction_log", now)]));

    const again = await ensurePartitions(db.client, { now, retentionDays: 30 });
    expect(again).toEqual({ created: [], movedFromDefault: 0 });
  });
});

describe("retention by whole days", () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let served: Served;
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  const NOW = dayStartOf(Date.now()) + 34 * DAY_MS + 3 * 3600_000;

  beforeAll(async () => {
    db = await migratedDatabase();
    data = await tempDataDir();
    cleanups.push(() => data.cleanup());
    await createClassifier(db.client, storeFor(data.dir), "days", [classifierBytes(2)]);
    const m = await db.client.model.findUniqueOrThrow({
      where: { name: "days" },
      include: { versions: true },
    });
    served = { modelId: m.id, model: m.name, versionId: m.versions[0]!.id, version: 1 };
  });

  it("drops days past the cutoff whole, with their feedback, exporting them first when asked", async () => {
    // 35 days of partitions with traffic and feedback, as 35 days of serving would leave.
    await ensurePartitions(db.client, { now: NOW - 34 * DAY_MS, retentionDays: 30 });
    for (let d = 34; d >= 0; d -= 1) {
      await ensurePartitions(db.client, { now: NOW - d * DAY_MS, retentionDays: 30, daysAhead: 0 });
    }
    const sink = postgresPredictionSink(db.url);
    const perDay = 40;
    for (let d = 34; d >= 0; d--) {
      const records = traffic(served, {
        startMs: dayStartOf(NOW - d * DAY_MS),
        spanMs: DAY_MS - 1,
        count: perDay,
        seed: d + 1,
        predict: (rows) => Array.from({ length: rows }, () => "z"),
      });
      await sink.insert(records, "t");
      const ok = records.filter((r) => r.status === 200);
      await submitFeedback(
        db.client,
        SYSTEM_ACTOR,
        ok.map((r) => ({ request_id: r.requestId, label: "z" })),
        { now: NOW - d * DAY_MS + DAY_MS },
      );
    }
    await sink.end();
    const count = async (table: string) =>
      Number((await adminQuery<{ n: string }>(db.url, `SELECT count(*) AS n FROM ${table}`))[0]!.n);
    expect(await count("prediction_log")).toBe(35 * perDay);
    expect(await count("prediction_feedback")).toBe(35 * perDay);
    const rollupsBefore = await count("metric_rollup");

    const store = new LocalArtifactStore({ root: path.join(data.dir, "artifacts") });
    const result = await enforceRetention(
      db.client,
      { predictionLogDays: 30, rollupDays: 400 },
      { now: new Date(NOW), exportTo: { store, connectionString: db.url }, pauseMs: 0 },
    );
    // Cutoff NOW - 30 d falls 3 h into a day: days -34 … -31 go (and the empty days the
    // migration made before them), the cutoff's own day stays.
    const cutoff = NOW - 30 * DAY_MS;
    const gone = [34, 33, 32, 31].map((d) => dayStartOf(NOW - d * DAY_MS));
    for (const day of gone) {
      expect(result.partitionsDropped).toContain(partitionName("prediction_log", day));
      expect(result.partitionsDropped).toContain(partitionName("prediction_feedback", day));
    }
    for (const name of result.partitionsDropped) {
      const table = name.startsWith("prediction_log") ? "prediction_log" : "prediction_feedback";
      expect(partitionDay(table, name)! + DAY_MS).toBeLessThanOrEqual(cutoff);
    }
    expect(result.partitionsExported).toBe(result.partitionsDropped.length);
    expect(result).toMatchObject({ predictionLog: 0, feedback: 0, rollups: 0 });
    expect(await count("prediction_log")).toBe(31 * perDay);
    expect(await count("prediction_feedback")).toBe(31 * perDay);
    expect(await count("metric_rollup")).toBe(rollupsBefore); // rollups keep their own retention
    const leftover = await adminQuery(
      db.url,
      `SELECT relname FROM pg_class WHERE relname = ANY($1::text[])`,
      [result.partitionsDropped],
    );
    expect(leftover).toEqual([]);

    // Each export: a gzipped CSV (header + one line per row) under its sha256, recorded.
    const exports = await db.client.predictionLogExport.findMany({ orderBy: { partition: "asc" } });
    expect(exports.map((e) => e.partition).sort()).toEqual([...result.partitionsDropped].sort());
    for (const e of exports) {
      expect(Number(e.rows)).toBe(gone.includes(e.rangeStart.getTime()) ? perDay : 0);
      const chunks: Buffer[] = [];
      for await (const c of await store.openRead(e.storageKey)) chunks.push(c as Buffer);
      const bytes = Buffer.concat(chunks);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(e.sha256);
      expect(bytes.length).toBe(Number(e.sizeBytes));
      const lines = gunzipSync(bytes).toString("utf8").trimEnd().split("\n");
      expect(lines[0]).toMatch(/^requestId,/);
      expect(lines).toHaveLength(Number(e.rows) + 1);
      expect(e.rangeEnd.getTime() - e.rangeStart.getTime()).toBe(DAY_MS);
    }

    // A second pass has nothing to do.
    const again = await enforceRetention(
      db.client,
      { predictionLogDays: 30, rollupDays: 400 },
      { now: new Date(NOW), pauseMs: 0 },
    );
    expect(again.partitionsDropped).toEqual([]);
  });

  it("joins feedback that arrives after midnight with a prediction made before it", async () => {
    const midnight = dayStartOf(NOW);
    const late = traffic(served, {
      startMs: midnight - 200,
      spanMs: 100,
      count: 2,
      seed: 99,
      predict: (rows) => Array.from({ length: rows }, () => "z"),
    }).map((r) => ({ ...r, status: 200, rows: 1, predicted: '["z"]', error: null }));
    // Both made before midnight; the second is logged (its batch written) after it.
    late[1]!.at = new Date(midnight + 300);
    const labelledAroundMidnight = async () =>
      Number(
        (
          await adminQuery<{ labelled: string | null }>(
            db.url,
            `SELECT sum(labelled)::text AS labelled FROM metric_rollup WHERE minute BETWEEN $1 AND $2`,
            [new Date(midnight - 60_000), new Date(midnight)],
          )
        )[0]!.labelled ?? 0,
      );
    const labelledBefore = await labelledAroundMidnight();
    const sink = postgresPredictionSink(db.url);
    await sink.insert([late[0]!], "t");

    // Feedback for the first arrives after midnight: applied at once.
    const direct = await submitFeedback(
      db.client,
      SYSTEM_ACTOR,
      [{ request_id: late[0]!.requestId, label: "z" }],
      { now: midnight + 1000 },
    );
    expect(direct.applied).toBe(1);
    // Feedback for the second arrives before its log row: pending, then joined when it lands.
    const early = await submitFeedback(
      db.client,
      SYSTEM_ACTOR,
      [{ request_id: late[1]!.requestId, label: "z" }],
      { now: midnight + 100 },
    );
    expect(early.pending).toBe(1);
    await sink.insert([late[1]!], "t");
    await sink.end();
    const joined = await joinPendingFeedback(db.client, { requestIds: [late[1]!.requestId] });
    expect(joined.joined).toBe(1);

    const dayBefore = midnight - DAY_MS;
    for (const table of ["prediction_log", "prediction_feedback"] as const) {
      const where = await placement(db.url, table);
      for (const r of late) expect(where.get(r.requestId)).toBe(partitionName(table, dayBefore));
    }
    expect(await labelledAroundMidnight()).toBe(labelledBefore + 2);
  });
});

describe("retention that cannot finish a day", () => {
  const today = dayStartOf(Date.now());
  const later = today + 40 * DAY_MS; // every day the migration made is expired by then
  const day = today + 2 * DAY_MS;

  async function databaseWithRows() {
    const db = await migratedDatabase();
    const sink = postgresPredictionSink(db.url);
    await sink.insert(
      [1, 2, 3].map((i) => logRow(uuidv7({ msecs: day + i }), uuidv4(), new Date())),
      "t",
    );
    await sink.end();
    return db;
  }
  const count = async (url: string, table: string) =>
    Number((await adminQuery<{ n: string }>(url, `SELECT count(*) AS n FROM ${table}`))[0]!.n);

  it("keeps a day it could not export detached (out of every query) and finishes it on the next run", async () => {
    const db = await databaseWithRows();
    const data = await tempDataDir();
    cleanups.push(() => data.cleanup());
    const store = new LocalArtifactStore({ root: path.join(data.dir, "artifacts") });
    const unreachable = new LocalArtifactStore({ root: path.join(data.dir, "artifacts") });
    unreachable.stage = () => Promise.reject(new Error("the bucket does not answer"));
    const name = partitionName("prediction_log", day);

    const first = await dropExpiredPartitions(db.client, {
      now: later,
      retentionDays: 30,
      exportTo: { store: unreachable, connectionString: db.url },
    });
    expect(first.failed).toContain(name);
    expect(first.dropped).toEqual([]);
    expect(await count(db.url, "prediction_log")).toBe(0); // detached: no query sees it
    expect(await count(db.url, name)).toBe(3); // and nothing is lost
    expect(await db.client.predictionLogExport.count()).toBe(0);

    const second = await dropExpiredPartitions(db.client, {
      now: later,
      retentionDays: 30,
      exportTo: { store, connectionString: db.url },
    });
    expect(second.failed).toEqual([]);
    expect(second.dropped).toContain(name);
    const exported = await db.client.predictionLogExport.findUniqueOrThrow({
      where: { partition: name },
    });
    expect(Number(exported.rows)).toBe(3);
    expect(await store.exists(exported.storageKey)).toBe(true);
  });

  it("gives up a detach after its lock wait instead of holding writers back, and retries next run", async () => {
    const db = await databaseWithRows();
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    cleanups.push(() => writer.end());
    // A serving flush in progress: an open transaction that wrote to the log.
    await writer.query("BEGIN");
    await writer.query(
      `INSERT INTO prediction_log ("requestId", at, "modelId", model, status, "latencyMs", "instanceId")
       VALUES ($1, now(), $2, 'm', 200, 1, 'writer')`,
      [uuidv7(), uuidv4()],
    );
    const started = Date.now();
    const blocked = await dropExpiredPartitions(db.client, { now: later, retentionDays: 30 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(blocked.failed).toHaveLength(1); // the log's first day; feedback's days went
    expect(blocked.dropped.every((n) => n.startsWith("prediction_feedback_"))).toBe(true);
    await writer.query("COMMIT");

    const next = await dropExpiredPartitions(db.client, { now: later, retentionDays: 30 });
    expect(next.failed).toEqual([]);
    expect(next.dropped).toContain(partitionName("prediction_log", day));
    // The writer's row (made today) was committed into its day, which is past retention too.
    expect(await count(db.url, "prediction_log")).toBe(0);
  });
});
