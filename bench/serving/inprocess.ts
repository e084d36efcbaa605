/**
 * Raw in-process onnxruntime-node throughput: session.run on a prepared tensor, nothing else
 * (no HTTP, no JSON). The ceiling any server's inference can reach on this machine, and the
 * reason batching matters: the per-call cost is nearly the same for 1 row and for 64.
 *
 *   node --import tsx bench/serving/inprocess.ts [--dir <models dir>] [--budget-ms 2000]
 *        [--warmup-ms 500] [--max-runs 200000] [--json]
 *
 * Without --dir the models are written to a temporary directory. Default session options
 * (as naive-server.ts uses). Prints a markdown table, or one JSON line with --json.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { MODEL_KEYS, benchModels, writeBenchModels, type ModelKey } from "./models";

export const BATCHES = [1, 64] as const;

export interface InProcessResult {
  model: ModelKey;
  batch: number;
  runs: number;
  seconds: number;
  runsPerS: number;
  rowsPerS: number;
  /** Median and 99th percentile of one session.run, in microseconds. */
  p50Us: number;
  p99Us: number;
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function measure(
  session: ort.InferenceSession,
  inputName: string,
  features: number,
  batch: number,
  opts: { budgetMs: number; warmupMs: number; maxRuns: number },
) {
  const data = Float32Array.from({ length: batch * features }, (_, i) => ((i * 7919) % 97) / 13);
  const feeds = { [inputName]: new ort.Tensor("float32", data, [batch, features]) };
  const warmupEnd = performance.now() + opts.warmupMs;
  while (performance.now() < warmupEnd) await session.run(feeds);
  const times = new Float64Array(opts.maxRuns);
  let runs = 0;
  const start = performance.now();
  const end = start + opts.budgetMs;
  let t = start;
  while (t < end && runs < opts.maxRuns) {
    await session.run(feeds);
    const now = performance.now();
    times[runs++] = now - t;
    t = now;
  }
  const seconds = (t - start) / 1000;
  const sorted = times.subarray(0, runs).sort();
  return {
    runs,
    seconds,
    runsPerS: runs / seconds,
    rowsPerS: (runs * batch) / seconds,
    p50Us: percentile(sorted, 0.5) * 1000,
    p99Us: percentile(sorted, 0.99) * 1000,
  };
}

export async function measureInProcess(
  dir: string,
  opts: { budgetMs: number; warmupMs: number; maxRuns: number },
): Promise<InProcessResult[]> {
  const models = benchModels(dir);
  const results: InProcessResult[] = [];
  for (const key of MODEL_KEYS) {
    const m = models[key];
    const session = await ort.InferenceSession.create(m.path);
    try {
      for (const batch of BATCHES) {
        const r = await measure(session, m.inputName, m.features, batch, opts);
        results.push({ model: key, batch, ...r });
      }
    } finally {
      await session.release();
    }
  }
  return results;
}

export function inProcessTable(results: InProcessResult[]): string {
  const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
  return [
    "| model | batch | runs | runs/s | rows/s | session.run p50 µs | p99 µs |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (r) =>
        `| ${r.model} | ${r.batch} | ${r.runs} | ${fmt(r.runsPerS)} | ${fmt(r.rowsPerS)} | ` +
        `${fmt(r.p50Us)} | ${fmt(r.p99Us)} |`,
    ),
  ].join("\n");
}

async function main() {
  const { values } = parseArgs({
    options: {
      dir: { type: "string" },
      "budget-ms": { type: "string", default: "2000" },
      "warmup-ms": { type: "string", default: "500" },
      "max-runs": { type: "string", default: "200000" },
      json: { type: "boolean", default: false },
    },
  });
  const opts = {
    budgetMs: Number(values["budget-ms"]),
    warmupMs: Number(values["warmup-ms"]),
    maxRuns: Number(values["max-runs"]),
  };
  const tmp = values.dir ? null : await mkdtemp(path.join(os.tmpdir(), "modeldeck-bench-serving-"));
  try {
    const dir = values.dir ?? tmp!;
    if (tmp) await writeBenchModels(dir);
    const results = await measureInProcess(dir, opts);
    console.log(values.json ? JSON.stringify(results) : inProcessTable(results));
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  await main();
}
