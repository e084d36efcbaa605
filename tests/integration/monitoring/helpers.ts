/**
 * Monitoring test helpers: prediction-log rows written exactly as the serving process writes
 * them (its Postgres sink: COPY plus the rollup upsert in one transaction), with times and
 * time-ordered request ids chosen by the test, from a seeded generator.
 */
import { v7 as uuidv7 } from "uuid";
import type { PredictionRecord } from "../../../lib/serving/prediction-log";

/** mulberry32: small, seeded, good enough for test traffic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Served = { modelId: string; model: string; versionId: string; version: number };

/**
 * `count` requests of `served` spread evenly over [startMs, startMs + spanMs): log-normal
 * latencies around `medianMs`, `errorShare` 503s, `clientErrorShare` 400s, the rest answered
 * with `predict(rows)` (one prediction per row) and 1–3 rows each.
 */
export function traffic(
  served: Served,
  opts: {
    startMs: number;
    spanMs: number;
    count: number;
    seed: number;
    medianMs?: number;
    errorShare?: number;
    clientErrorShare?: number;
    multiRowShare?: number;
    predict: (rows: number, random: () => number) => Array<string | number>;
  },
): PredictionRecord[] {
  const random = seededRandom(opts.seed);
  const records: PredictionRecord[] = [];
  for (let i = 0; i < opts.count; i++) {
    const at = new Date(opts.startMs + Math.floor((i * opts.spanMs) / opts.count));
    const u = random();
    const status =
      u < (opts.errorShare ?? 0)
        ? 503
        : u < (opts.errorShare ?? 0) + (opts.clientErrorShare ?? 0)
          ? 400
          : 200;
    const rows = random() < (opts.multiRowShare ?? 0) ? 2 + Math.floor(random() * 2) : 1;
    // Box–Muller: a log-normal latency with a long right tail, as real latencies have.
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const latencyMs = (opts.medianMs ?? 4) * Math.exp(0.6 * z);
    records.push({
      requestId: uuidv7({ msecs: at.getTime() }),
      modelId: served.modelId,
      model: served.model,
      versionId: served.versionId,
      version: served.version,
      alias: "production",
      status,
      latencyMs,
      rows: status === 200 ? rows : null,
      predicted: status === 200 ? JSON.stringify(opts.predict(rows, random)) : null,
      error: status === 200 ? null : "test failure",
      at,
    });
  }
  return records;
}
