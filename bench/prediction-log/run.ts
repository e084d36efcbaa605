/**
 * Prediction log at scale: the day-partitioned prediction_log (lib/monitoring/partitions.ts)
 * under sustained ingestion, and its retention, against the unpartitioned table with the
 * batched DELETE retention it replaced, in the same run on the same PostgreSQL. Run on
 * demand, not in CI.
 *
 *   node --import tsx bench/prediction-log/run.ts [--phases retention,ingest]
 *        [--rate 7683] [--minutes 10] [--sizes 350000,3500000] [--dir /var/tmp/x]
 *
 * ingest: the real writer (PredictionLogWriter + postgresPredictionSink: COPY, rollups and
 *   NOTIFY per batch, default batch and flush settings) fed at --rate records per second
 *   (default: ModelDeck serving's req/s at 64 clients in bench/RESULTS.md) for --minutes.
 *   Request ids are made with a clock shifted so that a UTC midnight (a new day partition)
 *   comes a third of the way in; at two thirds, retention drops five expired days (100,000
 *   rows each) while the writer goes on. Reported per minute: flushes, rows, flush latency
 *   (one sink.insert: one transaction) p50/p99/max, records dropped; then first two minutes
 *   vs last two. Then rows per day, bytes per row (pg_total_relation_size over the
 *   partitions) and disk per retention day at 100 and 1,000 req/s.
 * retention: for each --sizes (rows over 35 days, generated in SQL by bench/charts/generate.ts
 *   with rollups and feedback), a copy of the log and its feedback in unpartitioned tables
 *   shaped like the old ones; then 30-day retention on both: dropping whole days vs the old
 *   batched DELETE (5,000 rows a statement, no pause); and read times before and after: the
 *   chart series (getModelMetrics over the rollups), a last-24-hours aggregate over the raw
 *   log, and a lookup of 1,000 request ids (what the feedback join does).
 */
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { SYSTEM_ACTOR } from "../../lib/audit";
import { findFreePort, startEmbeddedPostgres, type DbLogger } from "../../lib/db/embedded-postgres";
import { PrismaClient } from "../../lib/db/generated/client";
import { applyMigrations } from "../../lib/db/migrations";
import { createLogger } from "../../lib/log";
import { BLOCK_GRACE_MS, compactRollups } from "../../lib/monitoring/blocks";
import {
  DAY_MS,
  dayStartOf,
  dropExpiredPartitions,
  ensurePartitions,
} from "../../lib/monitoring/partitions";
import { enforceRetention, uuidV7Floor } from "../../lib/monitoring/retention";
import { getModelMetrics } from "../../lib/monitoring/series";
import { buildLogisticRegressionModel } from "../../lib/onnx/build";
import { createModel } from "../../lib/registry";
import { registerVersionBytes } from "../../lib/registry/upload";
import {
  PredictionLogWriter,
  postgresPredictionSink,
  type PredictionLogSink,
  type PredictionRecord,
} from "../../lib/serving/prediction-log";
import { newRequestId } from "../../lib/serving/request-id";
import { LocalArtifactStore } from "../../lib/storage";
import { generate } from "../charts/generate";

const { values } = parseArgs({
  options: {
    phases: { type: "string", default: "retention,ingest" },
    rate: { type: "string", default: "7683" },
    minutes: { type: "string", default: "10" },
    sizes: { type: "string", default: "350000,3500000" },
    dir: { type: "string" },
  },
});
const PHASES = new Set(values.phases.split(","));
const RATE = Number(values.rate);
const MINUTES = Number(values.minutes);
const SIZES = values.sizes.split(",").map(Number);
const MODEL = "bench-log";

const progress = (m: string) => process.stderr.write(`[bench-log] ${m}\n`);
const quiet: DbLogger = { info: () => {}, warn: () => {}, error: (o, m) => console.error(m, o) };
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], q: number) =>
  xs.length ? sorted(xs)[Math.max(0, Math.ceil(q * xs.length) - 1)]! : NaN;
const median = (xs: number[]) => pct(xs, 0.5);
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
const int = (n: number) => Math.round(n).toLocaleString("en-US");

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const value = await fn();
  return [value, performance.now() - t];
}

async function newDatabase(
  server: { connectionStringFor(db: string): string },
  admin: pg.Client,
  name: string,
) {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = server.connectionStringFor(name);
  await applyMigrations(url, { log: quiet });
  const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return { url, db, client };
}

async function setupModel(db: PrismaClient, store: LocalArtifactStore) {
  await createModel(db, SYSTEM_ACTOR, { name: MODEL, task: "classification" });
  for (const favourite of [0, 1]) {
    const bytes = buildLogisticRegressionModel({
      weights: Array.from({ length: 4 }, (_, f) => [0.1 * f, -0.1 * f, 0.05]),
      bias: [0, 1, 2].map((c) => (c === favourite ? 1 : 0)),
      classLabels: ["a", "b", "c"],
    });
    await registerVersionBytes(db, store, SYSTEM_ACTOR, bytes, {
      modelName: MODEL,
      lineage: { kind: "upload" },
    });
  }
  return db.model.findUniqueOrThrow({
    where: { name: MODEL },
    include: { versions: { orderBy: { version: "asc" } } },
  });
}

/** Creates every day partition from `fromMs` to `toMs` (as the scheduler would have). */
async function partitionsFor(db: PrismaClient, fromMs: number, toMs: number) {
  for (let day = dayStartOf(fromMs); day <= toMs; day += DAY_MS) {
    await ensurePartitions(db, { now: day, retentionDays: 10_000, daysAhead: 1 });
  }
}

/** Synthetic rows for whole days, in SQL (ids of those days, as serving makes them). */
async function fillDays(client: pg.Client, modelId: string, days: number[], perDay: number) {
  for (const day of days) {
    await client.query(
      `INSERT INTO prediction_log ("requestId", at, "modelId", model, version, status, "latencyMs", predicted, "instanceId")
       SELECT (lpad(to_hex(ms), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
              to_timestamp(ms / 1000.0) AT TIME ZONE 'UTC', $1, '${MODEL}', 1, 200, 4, '["a"]', 'old'
         FROM (SELECT ${day}::bigint + (i * ${DAY_MS}::bigint) / ${perDay} AS ms, md5(i::text) AS h
                 FROM generate_series(0, ${perDay - 1}) i) g`,
      [modelId],
    );
  }
}

// ---------------------------------------------------------------- retention

/** The retention this replaced (lib/monitoring/retention.ts before partitioning). */
async function batchedDelete(
  client: pg.Client,
  table: string,
  timeColumn: string,
  cutoffMs: number,
) {
  let total = 0;
  let statements = 0;
  for (;;) {
    const { rowCount } = await client.query(
      `DELETE FROM ${table} WHERE "requestId" = ANY(ARRAY(
         SELECT "requestId" FROM ${table}
          WHERE "requestId" < $1::uuid AND "${timeColumn}" < (to_timestamp($2 / 1000.0) AT TIME ZONE 'UTC')
          ORDER BY "requestId" LIMIT 5000))`,
      [uuidV7Floor(cutoffMs), cutoffMs],
    );
    statements++;
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < 5000) return { rows: total, statements };
  }
}

type Reads = {
  chartMs: number;
  dayAggregateMs: number;
  recentLookupMs: number;
  spreadLookupMs: number;
};

async function reads(
  db: PrismaClient,
  client: pg.Client,
  log: string,
  endMs: number,
  ids: { recent: string[]; spread: string[] },
): Promise<Reads> {
  const query = {
    from: new Date(endMs - 7 * DAY_MS).toISOString(),
    to: new Date(endMs).toISOString(),
  };
  const runs = async (fn: () => Promise<unknown>, n: number) => {
    for (let i = 0; i < 2; i++) await fn(); // warm
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push((await timed(fn))[1]);
    return median(times);
  };
  return {
    chartMs: await runs(() => getModelMetrics(db, MODEL, query), 9),
    dayAggregateMs: await runs(
      () =>
        client.query(
          `SELECT version, count(*), avg("latencyMs") FROM ${log}
            WHERE at >= to_timestamp($1 / 1000.0) AT TIME ZONE 'UTC' GROUP BY 1`,
          [endMs - DAY_MS],
        ),
      5,
    ),
    recentLookupMs: await runs(() => lookup(client, log, ids.recent), 9),
    spreadLookupMs: await runs(() => lookup(client, log, ids.spread), 9),
  };
}

/** What the feedback join does: the logged predictions of a batch of request ids. */
const lookup = (client: pg.Client, log: string, ids: string[]) =>
  client.query(
    `SELECT "requestId", at, predicted FROM ${log} WHERE "requestId" = ANY($1::uuid[])`,
    [ids],
  );

/** How many tables a lookup touched (EXPLAIN ANALYZE: scans that ran at least once). */
async function tablesScanned(client: pg.Client, ids: string[]): Promise<number> {
  const { rows } = await client.query<{ "QUERY PLAN": string }>(
    `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
     SELECT "requestId", at, predicted FROM prediction_log WHERE "requestId" = ANY($1::uuid[])`,
    [ids],
  );
  return rows.filter(
    (r) =>
      / on prediction_log_p\d{8} /.test(r["QUERY PLAN"]) && !/never executed/.test(r["QUERY PLAN"]),
  ).length;
}

async function retentionPhase(
  server: Parameters<typeof newDatabase>[0],
  admin: pg.Client,
  dir: string,
) {
  const rows: string[] = [];
  for (const size of SIZES) {
    const { url, db, client } = await newDatabase(server, admin, `bench_log_${size}`);
    try {
      const store = new LocalArtifactStore({
        root: path.join(dir, `artifacts-${size}`),
        durable: false,
      });
      const model = await setupModel(db, store);
      const endMs = Math.floor(Date.now() / 60_000) * 60_000;
      const DAYS = 35;
      await partitionsFor(db, endMs - DAYS * DAY_MS, endMs);
      const [, genMs] = await timed(() =>
        generate(
          client,
          {
            modelId: model.id,
            versions: model.versions.map((v) => ({ id: v.id, version: v.version })),
            rows: size,
            endMs,
            days: DAYS,
            feedbackShare: 0.2,
          },
          progress,
        ),
      );
      progress(`${size} rows generated in ${(genMs / 1000).toFixed(0)} s`);
      await client.query("TRUNCATE metric_rollup_block, rollup_compaction");
      await compactRollups(db, { now: new Date(endMs + BLOCK_GRACE_MS) });
      // The old shape: one table each, primary key on the id, BRIN on at.
      await client.query(`CREATE TABLE old_log (LIKE prediction_log INCLUDING DEFAULTS)`);
      await client.query(`INSERT INTO old_log SELECT * FROM prediction_log`);
      await client.query(`ALTER TABLE old_log ADD PRIMARY KEY ("requestId")`);
      await client.query(`CREATE INDEX ON old_log USING BRIN (at)`);
      await client.query(`CREATE TABLE old_feedback (LIKE prediction_feedback INCLUDING DEFAULTS)`);
      await client.query(`INSERT INTO old_feedback SELECT * FROM prediction_feedback`);
      await client.query(`ALTER TABLE old_feedback ADD PRIMARY KEY ("requestId")`);
      await client.query("VACUUM ANALYZE");
      // Feedback arrives within hours: ids of the last day; and, for contrast, ids spread
      // over the whole 30 days (a partition probe per day touched).
      const { rows: recent } = await client.query<{ id: string }>(
        `SELECT "requestId"::text AS id FROM old_log WHERE "requestId" >= $1::uuid
          ORDER BY md5("requestId"::text) LIMIT 1000`,
        [uuidV7Floor(endMs - DAY_MS)],
      );
      const { rows: spread } = await client.query<{ id: string }>(
        `SELECT "requestId"::text AS id FROM old_log WHERE "requestId" >= $1::uuid
          ORDER BY md5("requestId"::text) LIMIT 1000`,
        [uuidV7Floor(endMs - 29 * DAY_MS)],
      );
      const ids = { recent: recent.map((r) => r.id), spread: spread.map((r) => r.id) };
      const scanned = {
        recent: await tablesScanned(client, ids.recent),
        spread: await tablesScanned(client, ids.spread),
      };
      const before = {
        partitioned: await reads(db, client, "prediction_log", endMs, ids),
        old: await reads(db, client, "old_log", endMs, ids),
      };
      const now = endMs;
      const cutoffMs = now - 30 * DAY_MS;
      const [dropped, dropMs] = await timed(() =>
        dropExpiredPartitions(db, { now, retentionDays: 30 }),
      );
      const [deletedLog, deleteLogMs] = await timed(() =>
        batchedDelete(client, "old_log", "at", cutoffMs),
      );
      const [deletedFeedback, deleteFeedbackMs] = await timed(() =>
        batchedDelete(client, "old_feedback", "predictedAt", cutoffMs),
      );
      const after = {
        partitioned: await reads(db, client, "prediction_log", endMs, ids),
        old: await reads(db, client, "old_log", endMs, ids),
      };
      const deleteMs = deleteLogMs + deleteFeedbackMs;
      const expiredRows = deletedLog.rows + deletedFeedback.rows;
      rows.push(
        `| ${int(size)} | ${int(expiredRows)} (${dropped.dropped.length} day tables) | ${f1(dropMs)} | ${f1(deleteMs)} (${deletedLog.statements + deletedFeedback.statements} statements) | ${(deleteMs / dropMs).toFixed(2)}× | ` +
          `${f1(before.partitioned.chartMs)} → ${f1(after.partitioned.chartMs)} | ${f1(before.old.chartMs)} → ${f1(after.old.chartMs)} | ` +
          `${f1(before.partitioned.dayAggregateMs)} → ${f1(after.partitioned.dayAggregateMs)} | ${f1(before.old.dayAggregateMs)} → ${f1(after.old.dayAggregateMs)} | ` +
          `${f1(before.partitioned.recentLookupMs)} → ${f1(after.partitioned.recentLookupMs)} (${scanned.recent} day tables) | ${f1(before.old.recentLookupMs)} → ${f1(after.old.recentLookupMs)} | ` +
          `${f1(before.partitioned.spreadLookupMs)} → ${f1(after.partitioned.spreadLookupMs)} (${scanned.spread} day tables) | ${f1(before.old.spreadLookupMs)} → ${f1(after.old.spreadLookupMs)} |`,
      );
      progress(`retention at ${size}: drop ${f1(dropMs)} ms, delete ${f1(deleteMs)} ms`);
      void url;
    } finally {
      await client.end();
      await db.$disconnect();
    }
  }
  return [
    "| rows over 35 days | expired rows (log + feedback) | drop whole days ms | old batched DELETE ms | DELETE / drop | chart series ms, partitioned (before → after) | chart series ms, old | last-24 h aggregate ms, partitioned | last-24 h aggregate ms, old | 1,000 ids of the last day: lookup ms, partitioned | same, old | 1,000 ids over 30 days: lookup ms, partitioned | same, old |",
    "| ---- | ---- | ---- | ---- | ---- | ---- | ---- | ---- | ---- | ---- | ---- | ---- | ---- |",
    ...rows,
  ].join("\n");
}

// ---------------------------------------------------------------- ingestion

type Minute = { flushes: number[]; rows: number; dropped: number; maxBuffered: number };

async function ingestPhase(server: Parameters<typeof newDatabase>[0], admin: pg.Client) {
  const { url, db, client } = await newDatabase(server, admin, "bench_log_ingest");
  const runMs = MINUTES * 60_000;
  // Shift the ids' clock so that midnight UTC comes a third of the way into the run.
  const start = Date.now();
  const nextMidnight = dayStartOf(start) + DAY_MS;
  const shift = nextMidnight - (start + runMs / 3);
  const idNow = () => Date.now() + shift;
  await ensurePartitions(db, { now: idNow(), retentionDays: 30 });
  // Five expired days, for retention to drop while the writer goes on.
  const oldDays = [35, 34, 33, 32, 31].map((d) => dayStartOf(idNow() - d * DAY_MS));
  await partitionsFor(db, oldDays[0]!, oldDays.at(-1)!);
  const modelId = "0190b5c5-0000-7000-8000-000000000001";
  await fillDays(client, modelId, oldDays, 100_000);
  await client.query("VACUUM ANALYZE prediction_log");

  const minutes: Minute[] = Array.from({ length: MINUTES }, () => ({
    flushes: [],
    rows: 0,
    dropped: 0,
    maxBuffered: 0,
  }));
  const minuteOf = () => Math.min(MINUTES - 1, Math.floor((Date.now() - t0) / 60_000));
  const base = postgresPredictionSink(url);
  const sink: PredictionLogSink = {
    insert: async (batch) => {
      const [, ms] = await timed(() => base.insert(batch));
      const m = minutes[minuteOf()]!;
      m.flushes.push(ms);
      m.rows += batch.length;
    },
    ping: () => base.ping(),
  };
  const writer = new PredictionLogWriter(sink, "bench", createLogger("bench", "silent"), {
    onDropped: (n) => (minutes[minuteOf()]!.dropped += n),
  });
  const sampled = JSON.stringify({
    inputs: [{ name: "x", datatype: "FP32", shape: [1, 4], data: [0.1, 0.2, 0.3, 0.4] }],
  });
  const record = (i: number): PredictionRecord => {
    const latency = 2 + (i % 17) * 0.3;
    return {
      requestId: newRequestId(idNow()),
      modelId,
      model: MODEL,
      versionId: "0190b5c5-0000-7000-8000-000000000002",
      version: 1,
      alias: "production",
      status: 200,
      latencyMs: latency,
      queueMs: latency * 0.2,
      computeMs: latency * 0.5,
      batchSize: 8,
      rows: 1,
      inputs: i % 100 === 0 ? sampled : null,
      outputs:
        i % 100 === 0
          ? '{"outputs":[{"name":"label","datatype":"BYTES","shape":[1],"data":["a"]}]}'
          : null,
      predicted: '["a"]',
    };
  };

  writer.start();
  const t0 = Date.now();
  let sent = 0;
  let retention: { atMinute: number; ms: number; dropped: number } | null = null;
  let newDay: { atMinute: number } | null = null;
  const dayAtStart = dayStartOf(idNow());
  progress(
    `ingesting at ${RATE} records/s for ${MINUTES} min (midnight of the ids at minute ${(runMs / 3 / 60_000).toFixed(1)})`,
  );
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = Date.now() - t0;
      const due = Math.floor((Math.min(elapsed, runMs) * RATE) / 1000);
      for (; sent < due; sent++) writer.record(record(sent));
      const m = minutes[minuteOf()]!;
      m.maxBuffered = Math.max(m.maxBuffered, writer.stats.buffered);
      if (!newDay && dayStartOf(idNow()) > dayAtStart) newDay = { atMinute: elapsed / 60_000 };
      if (!retention && elapsed >= (2 * runMs) / 3) {
        retention = { atMinute: elapsed / 60_000, ms: NaN, dropped: 0 };
        const r = retention;
        void timed(() =>
          enforceRetention(
            db,
            { predictionLogDays: 30, rollupDays: 400 },
            { now: new Date(idNow()) },
          ),
        ).then(([result, ms]) => {
          r.ms = ms;
          r.dropped = result.partitionsDropped.length;
          progress(
            `retention during ingestion: ${result.partitionsDropped.length} day tables in ${f1(ms)} ms`,
          );
        });
      }
      if (elapsed >= runMs) {
        clearInterval(tick);
        resolve();
      }
    }, 10);
  });
  await writer.stop(30_000);
  await base.end();
  const written = minutes.reduce((n, m) => n + m.rows, 0);
  const dropped = minutes.reduce((n, m) => n + m.dropped, 0);

  const { rows: sizeRows } = await client.query<{ bytes: string; n: string }>(
    `SELECT (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits
              WHERE inhparent = 'prediction_log'::regclass)::text AS bytes,
            (SELECT count(*) FROM prediction_log WHERE "instanceId" = 'bench')::text AS n`,
  );
  // Only the ingested rows' partitions count: the old days are gone by now.
  const bytesPerRow = Number(sizeRows[0]!.bytes) / Number(sizeRows[0]!.n);
  await client.end();
  await db.$disconnect();

  const table = [
    "| minute | flushes | rows written | flush p50 ms | flush p99 ms | flush max ms | dropped | max buffered | note |",
    "| ---- | ---- | ---- | ---- | ---- | ---- | ---- | ---- | ---- |",
    ...minutes.map((m, i) => {
      const notes = [];
      if (newDay && Math.floor(newDay.atMinute) === i)
        notes.push("ids cross midnight UTC (new day partition)");
      if (retention && Math.floor(retention.atMinute) === i)
        notes.push(
          `retention dropped ${retention.dropped} day tables (${int(500_000)} rows) in ${f1(retention.ms)} ms`,
        );
      return `| ${i + 1} | ${m.flushes.length} | ${int(m.rows)} | ${f1(median(m.flushes))} | ${f1(pct(m.flushes, 0.99))} | ${f1(Math.max(...m.flushes))} | ${m.dropped} | ${int(m.maxBuffered)} | ${notes.join("; ")} |`;
    }),
  ];
  const firstTwo = minutes.slice(0, 2).flatMap((m) => m.flushes);
  const lastTwo = minutes.slice(-2).flatMap((m) => m.flushes);
  const flat = [
    `Flush latency, last two minutes vs first two: p50 ${f1(median(firstTwo))} → ${f1(median(lastTwo))} ms (${(median(lastTwo) / median(firstTwo)).toFixed(2)}×), ` +
      `p99 ${f1(pct(firstTwo, 0.99))} → ${f1(pct(lastTwo, 0.99))} ms (${(pct(lastTwo, 0.99) / pct(firstTwo, 0.99)).toFixed(2)}×). ` +
      `Written ${int(written)} of ${int(sent)} records (${int(written / (runMs / 1000))}/s), dropped ${dropped}.`,
  ];
  const sizing = [
    "",
    `Bytes per row (pg_total_relation_size of the day partitions, heap + TOAST + primary key + BRIN, 1 % of rows with sampled payloads): **${bytesPerRow.toFixed(0)} B**.`,
    "",
    "| steady rate | rows per day | disk per retention day | 30-day retention |",
    "| ---- | ---- | ---- | ---- |",
    ...[100, 1000, RATE].map((r) => {
      const perDay = r * 86_400;
      const gb = (perDay * bytesPerRow) / 1e9;
      return `| ${int(r)} req/s | ${int(perDay)} | ${gb.toFixed(1)} GB | ${(gb * 30).toFixed(0)} GB |`;
    }),
  ];
  return [...table, "", ...flat, ...sizing].join("\n");
}

async function main() {
  const dir = values.dir
    ? path.resolve(values.dir)
    : await mkdtemp(path.join(os.tmpdir(), "modeldeck-bench-log-"));
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, "postgres"),
    port: await findFreePort(),
    log: quiet,
    // A small production database's memory; durability as shipped (fsync on).
    settings: { shared_buffers: "512MB", work_mem: "32MB", max_wal_size: "4GB" },
  });
  const admin = new pg.Client({ connectionString: server.connectionString });
  await admin.connect();
  const out: string[] = [
    `${new Date().toISOString()}; nproc ${os.cpus().length}; load average ${os.loadavg()[0]!.toFixed(2)} at start; Node ${process.version}; embedded PostgreSQL (shared_buffers 512 MB, fsync on)`,
  ];
  try {
    if (PHASES.has("retention"))
      out.push("", "### Retention", "", await retentionPhase(server, admin, dir));
    if (PHASES.has("ingest"))
      out.push(
        "",
        `### Sustained ingestion (${int(RATE)} records/s, ${MINUTES} min)`,
        "",
        await ingestPhase(server, admin),
      );
    console.log(out.join("\n"));
  } finally {
    await admin.end().catch(() => {});
    await server.stop();
    if (!values.dir) await rm(dir, { recursive: true, force: true });
  }
}

await main();
