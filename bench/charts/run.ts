/**
 * Charts benchmark: the 7-day per-version latency and accuracy series of a model with 10
 * million logged predictions over 30 days, read the way the chart API reads it
 * (getModelMetrics over the per-minute rollups: the function GET /api/v1/models/{name}/metrics
 * calls), against the same figures computed from the raw logs in SQL (prediction_log joined
 * with prediction_feedback), in the same run, on the same database. Run on demand, not in CI.
 *
 *   node --import tsx bench/charts/run.ts [--rows 10000000] [--days 30] [--repeat 20]
 *        [--raw-repeat 3] [--feedback 0.2] [--keep /var/tmp/modeldeck-bench-charts] [--http true]
 *
 * --keep reuses (or creates) that data directory: a second run with the same --rows and
 * --days skips generation (minutes on 2 cores). Without it, a temporary one is removed.
 * Generation is SQL inside Postgres (bench/charts/generate.ts). Every measured call is
 * checked against the raw figures (requests per bucket equal, percentiles within one
 * histogram bucket, accuracy equal) before its time counts. Progress goes to stderr, the
 * markdown table to stdout.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { SYSTEM_ACTOR } from "../../lib/audit";
import { createApiToken } from "../../lib/auth/tokens";
import { findFreePort, startEmbeddedPostgres, type DbLogger } from "../../lib/db/embedded-postgres";
import { PrismaClient } from "../../lib/db/generated/client";
import { applyMigrations } from "../../lib/db/migrations";
import { BLOCK_GRACE_MS, compactRollups } from "../../lib/monitoring/blocks";
import { LATENCY_GROWTH } from "../../lib/monitoring/histogram";
import { getModelMetrics, type MetricsSeries } from "../../lib/monitoring/series";
import { buildLogisticRegressionModel } from "../../lib/onnx/build";
import { createModel } from "../../lib/registry";
import { registerVersionBytes } from "../../lib/registry/upload";
import { LocalArtifactStore } from "../../lib/storage";
import { generate } from "./generate";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "10000000" },
    days: { type: "string", default: "30" },
    repeat: { type: "string", default: "20" },
    "raw-repeat": { type: "string", default: "3" },
    feedback: { type: "string", default: "0.2" },
    keep: { type: "string" },
    http: { type: "string", default: "true" },
  },
});
const ROWS = Number(values.rows);
const DAYS = Number(values.days);
const REPEAT = Number(values.repeat);
const RAW_REPEAT = Number(values["raw-repeat"]);
const WINDOW_MS = 7 * 86_400_000;
const MODEL = "bench-charts";

const progress = (m: string) => process.stderr.write(`[bench-charts] ${m}\n`);
const quiet: DbLogger = { info: () => {}, warn: () => {}, error: (o, m) => console.error(m, o) };
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const pct = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.ceil(q * xs.length) - 1]!;

type RawBucket = {
  version: number;
  bucket: number;
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  maxMs: number;
};
type RawAccuracy = { version: number; bucket: number; labelled: number; correct: number };

/**
 * The same figures from the raw logs: per version and step bucket, requests, errors,
 * latency percentiles (exact order statistics) and max; live accuracy from the join with
 * feedback, row by row (a request may carry several rows).
 */
async function rawFigures(
  client: pg.Client,
  modelId: string,
  fromMs: number,
  toMs: number,
  step: number,
) {
  const range = `p.at >= to_timestamp(${fromMs} / 1000.0) AT TIME ZONE 'UTC'
             AND p.at < to_timestamp(${toMs} / 1000.0) AT TIME ZONE 'UTC'`;
  const bucket = `(floor(extract(epoch FROM p.at) / ${step}) * ${step} * 1000)::float8`;
  const latency = await client.query<RawBucket>(
    `SELECT p.version, ${bucket} AS bucket, count(*)::int AS requests,
            (count(*) FILTER (WHERE p.status >= 500))::int AS errors,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY p."latencyMs") AS p50,
            percentile_disc(0.95) WITHIN GROUP (ORDER BY p."latencyMs") AS p95,
            percentile_disc(0.99) WITHIN GROUP (ORDER BY p."latencyMs") AS p99,
            max(p."latencyMs") AS "maxMs"
       FROM prediction_log p WHERE p."modelId" = $1 AND ${range}
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [modelId],
  );
  const accuracy = await client.query<RawAccuracy>(
    `SELECT p.version, ${bucket} AS bucket, count(*)::int AS labelled,
            (count(*) FILTER (WHERE pr.v = t.v))::int AS correct
       FROM prediction_log p
       JOIN prediction_feedback f ON f."requestId" = p."requestId"
       CROSS JOIN LATERAL jsonb_array_elements_text(p.predicted::jsonb) WITH ORDINALITY AS pr(v, i)
       JOIN LATERAL jsonb_array_elements_text(f.truth) WITH ORDINALITY AS t(v, i) ON t.i = pr.i
      WHERE p."modelId" = $1 AND ${range}
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [modelId],
  );
  return { latency: latency.rows, accuracy: accuracy.rows };
}

/** Throws unless the series carries the raw figures (exact counts, percentiles within a bucket). */
function check(series: MetricsSeries, raw: Awaited<ReturnType<typeof rawFigures>>) {
  const point = (version: number, time: number) =>
    series.versions.find((v) => v.version === version)?.points.find((p) => p.time === time);
  let worst = 1;
  for (const r of raw.latency) {
    const p = point(r.version, r.bucket);
    if (!p || p.requests !== r.requests || p.errors !== r.errors) {
      throw new Error(`v${r.version} ${new Date(r.bucket).toISOString()}: counts differ`);
    }
    if (Math.abs(p.latencyMaxMs! - r.maxMs) > 1e-9 * r.maxMs) throw new Error("max differs");
    for (const [est, truth] of [
      [p.latencyP50Ms!, r.p50],
      [p.latencyP95Ms!, r.p95],
      [p.latencyP99Ms!, r.p99],
    ] as const) {
      const ratio = Math.max(est / truth, truth / est);
      worst = Math.max(worst, ratio);
      if (ratio > LATENCY_GROWTH + 1e-9) throw new Error(`percentile off by ${ratio}`);
    }
  }
  for (const a of raw.accuracy) {
    const p = point(a.version, a.bucket);
    if (!p || p.labelled !== a.labelled || Math.abs(p.accuracy! - a.correct / a.labelled) > 1e-12) {
      throw new Error(`v${a.version} ${new Date(a.bucket).toISOString()}: accuracy differs`);
    }
  }
  const points = series.versions.reduce((n, v) => n + v.points.length, 0);
  if (points !== raw.latency.length) throw new Error(`${points} points, ${raw.latency.length} raw`);
  return { worstPercentileRatio: worst, points };
}

async function setupModel(db: PrismaClient, store: LocalArtifactStore) {
  const existing = await db.model.findUnique({
    where: { name: MODEL },
    include: { versions: { orderBy: { version: "asc" } } },
  });
  if (existing) return existing;
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

async function main() {
  const dir = values.keep
    ? path.resolve(values.keep)
    : await mkdtemp(path.join(os.tmpdir(), "modeldeck-bench-charts-"));
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  const fresh = !existsSync(path.join(dir, "postgres", "PG_VERSION"));
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, "postgres"),
    port: await findFreePort(),
    log: quiet,
    // Durability off to generate fast; memory as a small production database would have.
    settings: {
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
      shared_buffers: "1GB",
      work_mem: "64MB",
      max_wal_size: "8GB",
      max_parallel_workers_per_gather: "2",
    },
  });
  const url = server.connectionString;
  const client = new pg.Client({ connectionString: url });
  const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  try {
    await applyMigrations(url, { log: quiet });
    await client.connect();
    const store = new LocalArtifactStore({ root: path.join(dir, "artifacts"), durable: false });
    const model = await setupModel(db, store);
    const versions = model.versions.map((v) => ({ id: v.id, version: v.version }));

    const {
      rows: [have],
    } = await client.query<{ n: string; first: number | null; last: number | null }>(
      `SELECT count(*) AS n, (extract(epoch FROM min(at)) * 1000)::float8 AS first,
              (extract(epoch FROM max(at)) * 1000)::float8 AS last FROM prediction_log`,
    );
    const haveDays = have!.last && have!.first ? (have!.last - have!.first) / 86_400_000 : 0;
    let endMs: number;
    if (Number(have!.n) === ROWS && Math.round(haveDays) === DAYS) {
      endMs = Math.ceil((have!.last! + 1) / 60_000) * 60_000;
      progress(`reusing ${ROWS} rows in ${dir} (data ends ${new Date(endMs).toISOString()})`);
    } else {
      endMs = Math.floor(Date.now() / 60_000) * 60_000;
      const t = Date.now();
      progress(`generating ${ROWS} rows over ${DAYS} days in ${dir} …`);
      await generate(
        client,
        {
          modelId: model.id,
          versions,
          rows: ROWS,
          endMs,
          days: DAYS,
          feedbackShare: Number(values.feedback),
        },
        progress,
      );
      progress(`generated in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
    // The scheduler's compaction task, caught up to the end of the data (as it would be).
    const tc = Date.now();
    await client.query("TRUNCATE metric_rollup_block, rollup_compaction"); // a full backfill
    const compaction = await compactRollups(db, { now: new Date(endMs + BLOCK_GRACE_MS) });
    progress(
      `30-minute blocks up to ${new Date(compaction.until).toISOString()} (${compaction.chunks} chunks, ${((Date.now() - tc) / 1000).toFixed(1)} s)`,
    );
    await client.query("ANALYZE metric_rollup_block"); // as autovacuum would after the backfill
    const sizes = await client.query<{ name: string; rows: string; size: string }>(
      `SELECT relname AS name, reltuples::bigint::text AS rows, pg_size_pretty(pg_total_relation_size(oid)) AS size
         FROM pg_class WHERE relname IN ('prediction_log', 'prediction_feedback', 'metric_rollup', 'metric_rollup_block') ORDER BY relname`,
    );

    // The chart's 7-day window, ending where the data ends; the API picks the step itself.
    const toMs = endMs;
    const fromMs = toMs - WINDOW_MS;
    const query = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
    const first = await getModelMetrics(db, MODEL, query);
    const stepSeconds = first.step;
    // Raw figures over the same (step-aligned) buckets.
    const alignedFrom = Date.parse(first.from);

    const rawTimes: number[] = [];
    let raw: Awaited<ReturnType<typeof rawFigures>> | undefined;
    for (let i = 0; i < RAW_REPEAT; i++) {
      const t = performance.now();
      raw = await rawFigures(client, model.id, alignedFrom, toMs, stepSeconds);
      rawTimes.push(performance.now() - t);
      progress(`raw SQL ${i + 1}/${RAW_REPEAT}: ${rawTimes.at(-1)!.toFixed(0)} ms`);
    }
    const checked = check(first, raw!);

    const seriesTimes: number[] = [];
    for (let i = 0; i < 3; i++) await getModelMetrics(db, MODEL, query); // warm-up
    for (let i = 0; i < REPEAT; i++) {
      const t = performance.now();
      const series = await getModelMetrics(db, MODEL, query);
      seriesTimes.push(performance.now() - t);
      check(series, raw!);
    }
    progress(`series: median ${median(seriesTimes).toFixed(1)} ms`);

    const httpTimes: number[] = [];
    let httpBytes = 0;
    if (values.http !== "false") {
      // The real route handler (authentication, query validation, serialisation) behind a
      // plain node:http server, called with a viewer token.
      process.env.DATABASE_URL = url;
      process.env.BETTER_AUTH_SECRET ??= "bench-charts-secret-".padEnd(48, "x");
      const { GET } = await import("../../app/api/v1/models/[name]/metrics/route");
      const { secret } = await createApiToken(db, SYSTEM_ACTOR, {
        name: `bench-${Date.now()}`,
        role: "viewer",
      });
      const httpServer = http.createServer((req, res) => {
        const request = new Request(`http://127.0.0.1${req.url}`, {
          headers: req.headers as Record<string, string>,
        });
        void GET(request, { params: Promise.resolve({ name: MODEL }) }).then(async (response) => {
          res.writeHead(response.status, Object.fromEntries(response.headers));
          res.end(Buffer.from(await response.arrayBuffer()));
        });
      });
      await new Promise<void>((r) => httpServer.listen(0, "127.0.0.1", r));
      const { port } = httpServer.address() as AddressInfo;
      const target = `http://127.0.0.1:${port}/api/v1/models/${MODEL}/metrics?from=${encodeURIComponent(query.from)}&to=${encodeURIComponent(query.to)}`;
      const call = async () => {
        const res = await fetch(target, { headers: { authorization: `Bearer ${secret}` } });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.slice(0, 300)}`);
        httpBytes = body.length;
        return JSON.parse(body) as MetricsSeries;
      };
      for (let i = 0; i < 3; i++) await call();
      for (let i = 0; i < REPEAT; i++) {
        const t = performance.now();
        const series = await call();
        httpTimes.push(performance.now() - t);
        check(series, raw!);
      }
      httpServer.close();
      progress(`http: median ${median(httpTimes).toFixed(1)} ms`);
    }

    const rawMedian = median(rawTimes);
    const lines = [
      `Data (row counts: planner estimates): ${sizes.rows.map((s) => `${s.name} ≈${Number(s.rows).toLocaleString("en-US")} rows (${s.size})`).join(", ")}.`,
      `Window: 7 days ending ${new Date(toMs).toISOString()}, step ${first.stepLabel} (chosen by the API): ` +
        `${checked.points} points over ${first.versions.length} versions; every measured answer checked ` +
        `against the raw figures (counts and accuracy equal, percentiles within ${(checked.worstPercentileRatio * 100 - 100).toFixed(1)} % ≤ one histogram bucket).`,
      "",
      "| path | runs | median ms | p90 ms | vs raw SQL |",
      "| ---- | ---- | --------- | ------ | ---------- |",
      `| raw logs: SQL over prediction_log + prediction_feedback (percentiles, max, errors; accuracy by join) | ${RAW_REPEAT} | ${rawMedian.toFixed(0)} | ${pct(rawTimes, 0.9).toFixed(0)} | 1× |`,
      `| \`getModelMetrics\` (what the route calls) over metric_rollup_block + metric_rollup | ${REPEAT} | ${median(seriesTimes).toFixed(1)} | ${pct(seriesTimes, 0.9).toFixed(1)} | ${(rawMedian / median(seriesTimes)).toFixed(0)}× faster |`,
      ...(httpTimes.length
        ? [
            `| HTTP: GET /api/v1/models/{name}/metrics (route handler, token auth, ${(httpBytes / 1024).toFixed(0)} KiB JSON) | ${REPEAT} | ${median(httpTimes).toFixed(1)} | ${pct(httpTimes, 0.9).toFixed(1)} | ${(rawMedian / median(httpTimes)).toFixed(0)}× faster |`,
          ]
        : []),
    ];
    console.log(lines.join("\n"));
    if (fresh && !values.keep) progress("temporary data is removed");
  } finally {
    await client.end().catch(() => {});
    await db.$disconnect();
    await server.stop();
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

await main();
