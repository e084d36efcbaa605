import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { compactRollups, compactedUntil } from "../../../lib/monitoring/blocks";
import { LATENCY_GROWTH } from "../../../lib/monitoring/histogram";
import { submitFeedback } from "../../../lib/monitoring/feedback";
import { getMonitoringOverview } from "../../../lib/monitoring/overview";
import { getModelMetrics, type MetricsSeries } from "../../../lib/monitoring/series";
import { postgresPredictionSink, type PredictionRecord } from "../../../lib/serving/prediction-log";
import { truncateAll, useTestDatabase } from "../helpers/db";
import { classifierBytes, createClassifier, storeFor, tempDataDir } from "../serving/harness";
import { traffic, type Served } from "./helpers";

/**
 * The rollups the serving process writes, read back through the series the charts draw,
 * against the same figures recomputed from the raw prediction log and feedback in SQL.
 */
const db = useTestDatabase({ truncate: false });
const sink = postgresPredictionSink(db.url);
let data: Awaited<ReturnType<typeof tempDataDir>>;
let v1: Served;
let v2: Served;
const records: PredictionRecord[] = [];

const HOUR = 3600_000;
// A fixed, minute-aligned past start, so buckets are known in advance.
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);
const CLASSES = ["x", "y", "z"];
/** The truth the tests send for a request: a deterministic class per request id. */
const truthOf = (requestId: string, row: number) =>
  CLASSES[(parseInt(requestId.slice(-4), 16) + row) % 3]!;

/** A request no version answered, as the serving process logs it. */
function unresolved(atMs: number): PredictionRecord {
  return {
    requestId: uuidv7({ msecs: atMs }),
    modelId: v1.modelId,
    model: v1.model,
    versionId: null,
    version: null,
    alias: "canary",
    status: 404,
    latencyMs: 0.4,
    error: 'Model "clf" has no alias "canary" (it has "production").',
    at: new Date(atMs),
  };
}

async function write(batch: PredictionRecord[]) {
  for (let i = 0; i < batch.length; i += 500) await sink.insert(batch.slice(i, i + 500), "test");
  records.push(...batch);
}

beforeAll(async () => {
  await truncateAll(db.url);
  data = await tempDataDir();
  const store = storeFor(data.dir);
  // v1 always answers "x", v2 always "y" (their bias dominates): live accuracy is known.
  await createClassifier(db.client, store, "clf", [classifierBytes(0), classifierBytes(1)], 2);
  const model = await db.client.model.findUniqueOrThrow({
    where: { name: "clf" },
    include: { versions: { orderBy: { version: "asc" } } },
  });
  [v1, v2] = model.versions.map((v) => ({
    modelId: model.id,
    model: model.name,
    versionId: v.id,
    version: v.version,
  })) as [Served, Served];
  const always = (label: string) => (rows: number) => Array.from({ length: rows }, () => label);
  // Three hours; v1 is silent in the second hour (a gap), v2 serves throughout.
  await write([
    ...traffic(v1, {
      startMs: T0,
      spanMs: HOUR,
      count: 900,
      seed: 1,
      medianMs: 3,
      errorShare: 0.03,
      clientErrorShare: 0.02,
      multiRowShare: 0.2,
      predict: always("x"),
    }),
    ...traffic(v1, {
      startMs: T0 + 2 * HOUR,
      spanMs: HOUR,
      count: 600,
      seed: 2,
      medianMs: 3,
      errorShare: 0.03,
      predict: always("x"),
    }),
    ...traffic(v2, {
      startMs: T0,
      spanMs: 3 * HOUR,
      count: 2400,
      seed: 3,
      medianMs: 8,
      errorShare: 0.01,
      clientErrorShare: 0.04,
      multiRowShare: 0.1,
      predict: always("y"),
    }),
    // A spike in one minute of v2: 300 requests and one very slow one.
    ...traffic(v2, {
      startMs: T0 + 100 * 60_000,
      spanMs: 60_000,
      count: 300,
      seed: 4,
      medianMs: 8,
      predict: always("y"),
    }),
    {
      ...traffic(v2, {
        startMs: T0 + 101 * 60_000,
        spanMs: 1,
        count: 1,
        seed: 5,
        predict: always("y"),
      })[0]!,
      latencyMs: 5000,
    },
    // 404s for an alias the model does not have: serving logs them without a version.
    ...[20, 50, 140].flatMap((minute) =>
      Array.from({ length: 3 }, (_, i) => unresolved(T0 + minute * 60_000 + i * 1000)),
    ),
  ]);
  // Ground truth for every third successful request.
  const labelled = records.filter((r, i) => r.status === 200 && i % 3 === 0);
  for (let i = 0; i < labelled.length; i += 1000) {
    const outcome = await submitFeedback(
      db.client,
      SYSTEM_ACTOR,
      labelled.slice(i, i + 1000).map((r) => ({
        request_id: r.requestId,
        label: Array.from({ length: r.rows ?? 1 }, (_, row) => truthOf(r.requestId, row)),
      })),
    );
    expect(outcome.rejected).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  await sink.end();
  await data?.cleanup();
});

type RawBucket = {
  version: number;
  bucket: number;
  requests: number;
  errors: number;
  clientErrors: number;
  maxMs: number;
  p50: number;
  p95: number;
  p99: number;
};

/** The same buckets straight from prediction_log (percentile_disc: an actual order statistic). */
async function rawBuckets(stepSeconds: number): Promise<RawBucket[]> {
  return db.client.$queryRawUnsafe<RawBucket[]>(
    `SELECT version, (floor(extract(epoch FROM at) / $2) * $2 * 1000)::float8 AS bucket,
            count(*)::int AS requests, (count(*) FILTER (WHERE status >= 500))::int AS errors,
            (count(*) FILTER (WHERE status BETWEEN 400 AND 499))::int AS "clientErrors",
            max("latencyMs") AS "maxMs",
            percentile_disc(0.5) WITHIN GROUP (ORDER BY "latencyMs") AS p50,
            percentile_disc(0.95) WITHIN GROUP (ORDER BY "latencyMs") AS p95,
            percentile_disc(0.99) WITHIN GROUP (ORDER BY "latencyMs") AS p99
       FROM prediction_log WHERE "modelId" = $1::uuid AND version IS NOT NULL
      GROUP BY 1, 2 ORDER BY 1, 2`,
    v1.modelId,
    stepSeconds,
  );
}

/** Requests logged without a version (no version answered), per bucket. */
async function rawUnresolved(stepSeconds: number) {
  return db.client.$queryRawUnsafe<
    { bucket: number; requests: number; clientErrors: number; errors: number }[]
  >(
    `SELECT (floor(extract(epoch FROM at) / $2) * $2 * 1000)::float8 AS bucket,
            count(*)::int AS requests,
            (count(*) FILTER (WHERE status BETWEEN 400 AND 499))::int AS "clientErrors",
            (count(*) FILTER (WHERE status >= 500))::int AS errors
       FROM prediction_log WHERE "modelId" = $1::uuid AND version IS NULL
      GROUP BY 1 ORDER BY 1`,
    v1.modelId,
    stepSeconds,
  );
}

/** Accuracy per bucket recomputed from the raw log joined with the feedback table. */
async function rawAccuracy(stepSeconds: number) {
  return db.client.$queryRawUnsafe<
    { version: number; bucket: number; labelled: number; correct: number }[]
  >(
    `SELECT p.version, (floor(extract(epoch FROM p.at) / $2) * $2 * 1000)::float8 AS bucket,
            count(*)::int AS labelled, (count(*) FILTER (WHERE pr.v = t.v))::int AS correct
       FROM prediction_log p
       JOIN prediction_feedback f ON f."requestId" = p."requestId"
       CROSS JOIN LATERAL jsonb_array_elements_text(p.predicted::jsonb) WITH ORDINALITY AS pr(v, i)
       JOIN LATERAL jsonb_array_elements_text(f.truth) WITH ORDINALITY AS t(v, i) ON t.i = pr.i
      WHERE p."modelId" = $1::uuid GROUP BY 1, 2 ORDER BY 1, 2`,
    v1.modelId,
    stepSeconds,
  );
}

const range = { from: new Date(T0).toISOString(), to: new Date(T0 + 3 * HOUR).toISOString() };
const pointsOf = (s: MetricsSeries, version: number) =>
  s.versions.find((v) => v.version === version)!.points;

describe("metrics series from the rollups", () => {
  it("equals the aggregates recomputed from the raw log, from minutes and from 30-minute blocks", async () => {
    await checkAgainstRaw(["1m", "15m", "30m", "1h"]);
    // Blocks complete up to T0 + 1.5 h: 30m reads blocks then minutes; 1h buckets straddle.
    const run = await compactRollups(db.client, { now: new Date(T0 + 2 * HOUR) });
    expect(run.until).toBe(T0 + 1.5 * HOUR);
    expect(await compactedUntil(db.client)).toBe(T0 + 1.5 * HOUR);
    const blocks = await db.client.metricRollupBlock.count();
    // v2: three blocks; v1: two (silent after 1 h); no version (404s): two
    expect(blocks).toBe(7);
    await checkAgainstRaw(["30m", "1h", "15m"]);
    // A late flush into a compacted block: read from the block, it shows after the next run.
    const late = traffic(v2, {
      startMs: T0 + 10 * 60_000,
      spanMs: 1,
      count: 3,
      seed: 9,
      predict: (rows) => Array.from({ length: rows }, () => "y"),
    });
    await sink.insert(late, "test"); // not in `records`: no feedback expected for these
    await compactRollups(db.client, { now: new Date(T0 + 2 * HOUR + 60_000) });
    await checkAgainstRaw(["30m", "1h"]);
    // Complete up to the end: whole-block steps read blocks only.
    await compactRollups(db.client, { now: new Date(T0 + 4 * HOUR) });
    expect(await compactedUntil(db.client)).toBe(T0 + 3.5 * HOUR);
    await checkAgainstRaw(["30m", "1h", "1d", "5m"]);
    // Feedback for predictions in compacted blocks lands in the blocks too. The new labels
    // agree with every prediction, so accuracy must rise: a relabelling that merely moved
    // each truth to another class could leave the count of correct rows where it was (the
    // request ids, and so the truths, are random), which made this check fail now and then.
    const relabel = records.filter((r, i) => r.status === 200 && i % 3 === 0).slice(0, 40);
    const predictedOf = (r: PredictionRecord) => JSON.parse(r.predicted!) as string[];
    const version = relabel[0]!.version!;
    expect(
      relabel.some(
        (r) =>
          r.version === version && predictedOf(r).some((p, row) => p !== truthOf(r.requestId, row)),
      ),
    ).toBe(true);
    const send = (labelOf: (r: PredictionRecord, row: number) => string) =>
      submitFeedback(
        db.client,
        SYSTEM_ACTOR,
        relabel.map((r) => ({
          request_id: r.requestId,
          label: Array.from({ length: r.rows ?? 1 }, (_, row) => labelOf(r, row)),
        })),
      );
    const before = await getModelMetrics(db.client, "clf", { ...range, step: "30m" });
    const agreeing = await send((r, row) => predictedOf(r)[row]!);
    expect(agreeing.results.every((r) => r.status === "replaced")).toBe(true);
    await checkAgainstRaw(["30m", "1h"]);
    const changed = await getModelMetrics(db.client, "clf", { ...range, step: "30m" });
    const accuracyOf = (s: MetricsSeries, version: number) =>
      s.versions.find((v) => v.version === version)!.summary!.accuracy!;
    expect(accuracyOf(changed, version)).toBeGreaterThan(accuracyOf(before, version));
    await send((r, row) => truthOf(r.requestId, row)); // back to the truth the other tests expect
    await checkAgainstRaw(["30m"]);
  });
});

async function checkAgainstRaw(steps: string[]) {
  {
    for (const step of steps) {
      const stepSeconds = {
        "1m": 60,
        "5m": 300,
        "15m": 900,
        "30m": 1800,
        "1h": 3600,
        "1d": 86_400,
      }[step]!;
      const series = await getModelMetrics(db.client, "clf", { ...range, step });
      expect(series.step).toBe(stepSeconds);
      const raw = await rawBuckets(stepSeconds);
      const points = series.versions.flatMap((v) => v.points.map((p) => ({ v: v.version, p })));
      expect(points.length).toBe(raw.length);
      for (const r of raw) {
        const p = pointsOf(series, r.version).find((x) => x.time === r.bucket)!;
        expect(p, `${step} v${r.version} ${new Date(r.bucket).toISOString()}`).toBeDefined();
        expect(p.requests).toBe(r.requests);
        expect(p.errors).toBe(r.errors);
        expect(p.clientErrors).toBe(r.clientErrors);
        expect(p.serverErrorRate).toBeCloseTo(r.errors / r.requests, 12);
        expect(p.clientErrorRate).toBeCloseTo(r.clientErrors / r.requests, 12);
        expect(p.errorRate).toBe(p.serverErrorRate);
        expect(p.latencyMaxMs).toBeCloseTo(r.maxMs, 9);
        // Within the width of one histogram bucket of the true order statistic.
        for (const [est, truth] of [
          [p.latencyP50Ms!, r.p50],
          [p.latencyP95Ms!, r.p95],
          [p.latencyP99Ms!, r.p99],
        ] as const) {
          expect(est / truth).toBeLessThanOrEqual(LATENCY_GROWTH + 1e-9);
          expect(est / truth).toBeGreaterThanOrEqual(1 / LATENCY_GROWTH - 1e-9);
        }
      }
      // Requests no version answered: the model's, in `unresolved`, in no version's points.
      const missed = await rawUnresolved(stepSeconds);
      expect(missed.length).toBeGreaterThan(0);
      expect(series.unresolved?.points.map((p) => p.time)).toEqual(missed.map((r) => r.bucket));
      for (const r of missed) {
        const p = series.unresolved!.points.find((x) => x.time === r.bucket)!;
        expect(p).toMatchObject({
          requests: r.requests,
          clientErrors: r.clientErrors,
          errors: r.errors,
          clientErrorRate: r.clientErrors / r.requests,
        });
      }
      expect(series.unresolved?.summary).toMatchObject({
        requests: 9,
        clientErrors: 9,
        errors: 0,
        clientErrorRate: 1,
      });
      const acc = await rawAccuracy(stepSeconds);
      expect(acc.length).toBeGreaterThan(0);
      for (const a of acc) {
        const p = pointsOf(series, a.version).find((x) => x.time === a.bucket)!;
        expect(p.labelled).toBe(a.labelled);
        expect(p.accuracy).toBeCloseTo(a.correct / a.labelled, 12);
      }
    }
  }
}

describe("metrics series, other properties", () => {
  it("reports live accuracy that matches the truth the test sent", async () => {
    const series = await getModelMetrics(db.client, "clf", { ...range, step: "1h" });
    for (const [served, answer] of [
      [v1, "x"],
      [v2, "y"],
    ] as const) {
      const mine = records.filter(
        (r, i) => r.version === served.version && r.status === 200 && i % 3 === 0,
      );
      let labelled = 0;
      let correct = 0;
      for (const r of mine) {
        for (let row = 0; row < (r.rows ?? 1); row++) {
          labelled++;
          if (truthOf(r.requestId, row) === answer) correct++;
        }
      }
      const summary = series.versions.find((v) => v.version === served.version)!.summary!;
      expect(summary.labelled).toBe(labelled);
      expect(summary.accuracy).toBeCloseTo(correct / labelled, 12);
    }
  });

  it("counts client errors (4xx) and server errors (5xx) apart, per version and for the model", async () => {
    const raw = await db.client.$queryRawUnsafe<
      { version: number | null; requests: number; clientErrors: number; errors: number }[]
    >(
      `SELECT version, count(*)::int AS requests,
              (count(*) FILTER (WHERE status BETWEEN 400 AND 499))::int AS "clientErrors",
              (count(*) FILTER (WHERE status >= 500))::int AS errors
         FROM prediction_log WHERE "modelId" = $1::uuid GROUP BY 1 ORDER BY 1 NULLS LAST`,
      v1.modelId,
    );
    expect(raw.map((r) => r.version)).toEqual([1, 2, null]);
    for (const step of ["1h", "30m"]) {
      const series = await getModelMetrics(db.client, "clf", { ...range, step });
      for (const r of raw) {
        const summary =
          r.version === null
            ? series.unresolved!.summary
            : series.versions.find((v) => v.version === r.version)!.summary!;
        expect(summary).toMatchObject({
          requests: r.requests,
          clientErrors: r.clientErrors,
          errors: r.errors,
        });
        expect(summary.clientErrorRate).toBeCloseTo(r.clientErrors / r.requests, 12);
        expect(summary.serverErrorRate).toBeCloseTo(r.errors / r.requests, 12);
        // Each kind is there, not a share of the other.
        expect(r.clientErrors).toBeGreaterThan(0);
      }
    }
    // The Monitoring page's line for the model adds all of them up.
    const overview = await getMonitoringOverview(db.client, {
      fromMs: T0,
      toMs: T0 + 3 * HOUR,
    });
    const line = overview.models.find((m) => m.model === "clf")!;
    const sum = (k: "requests" | "clientErrors" | "errors") => raw.reduce((n, r) => n + r[k], 0);
    expect(line).toMatchObject({
      requests: sum("requests"),
      clientErrors: sum("clientErrors"),
      serverErrors: sum("errors"),
      unresolvedRequests: 9,
    });
    expect(line.clientErrorRate).toBeCloseTo(sum("clientErrors") / sum("requests"), 12);
    expect(line.serverErrorRate).toBeCloseTo(sum("errors") / sum("requests"), 12);
  });

  it("leaves a gap where a version had no traffic, and shares traffic among versions", async () => {
    const series = await getModelMetrics(db.client, "clf", { ...range, step: "5m" });
    const first = pointsOf(series, v1.version);
    const silent = first.filter((p) => p.time >= T0 + HOUR && p.time < T0 + 2 * HOUR);
    expect(silent).toEqual([]); // absent, not zeros
    expect(first.some((p) => p.time >= T0 + 2 * HOUR)).toBe(true);
    const second = pointsOf(series, v2.version);
    const inGap = second.filter((p) => p.time >= T0 + HOUR && p.time < T0 + 2 * HOUR);
    expect(inGap.length).toBe(12);
    for (const p of inGap) expect(p.trafficShare).toBe(1);
    for (const p of second.filter((x) => x.time < T0 + HOUR)) {
      const other = first.find((x) => x.time === p.time)!;
      expect(p.trafficShare + other.trafficShare).toBeCloseTo(1, 12);
    }
  });

  it("keeps a spike's slowest request and busiest minute at a coarse step", async () => {
    for (const step of ["1h", "1d"]) {
      const series = await getModelMetrics(db.client, "clf", { ...range, step });
      const spike = pointsOf(series, v2.version).find(
        (p) => p.time <= T0 + 101 * 60_000 && T0 + 101 * 60_000 < p.time + series.step * 1000,
      )!;
      expect(spike.latencyMaxMs).toBe(5000);
      // 300 requests in minute 100 (plus v2's background of ~13 per minute)
      expect(spike.maxThroughput).toBeGreaterThanOrEqual(300 / 60);
      expect(spike.throughput).toBeLessThan(spike.maxThroughput / 4);
      expect(spike.latencyP50Ms!).toBeLessThan(20);
    }
  });

  it("chooses a bounded step by itself and validates a given one", async () => {
    const auto = await getModelMetrics(db.client, "clf", {
      from: new Date(T0 - 6 * 86_400_000).toISOString(),
      to: new Date(T0 + 86_400_000).toISOString(),
    });
    expect(auto.stepLabel).toBe("30m");
    expect(pointsOf(auto, v2.version).length).toBe(6); // 3 hours of traffic in 30-minute buckets
    await expect(getModelMetrics(db.client, "clf", { ...range, step: "90s" })).rejects.toThrow(
      /whole number of minutes/,
    );
    await expect(
      getModelMetrics(db.client, "clf", { from: range.to, to: range.from }),
    ).rejects.toThrow(/must be before to/);
    await expect(getModelMetrics(db.client, "clf", { ...range, version: "7" })).rejects.toThrow(
      /Version 7/,
    );
    await expect(getModelMetrics(db.client, "nope", range)).rejects.toThrow(/not found/);
    const only = await getModelMetrics(db.client, "clf", { ...range, version: "1" });
    expect(only.versions.map((v) => v.version)).toEqual([1]);
    expect(only.unresolved).toBeNull(); // a version filter asks for those versions alone
  });
});
