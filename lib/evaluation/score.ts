/**
 * The scoring core of an evaluation, independent of where it runs and of onnxruntime itself:
 * dataset rows → input tensors (per the plan from lib/datasets/fit.ts) → batched runs →
 * predictions → metrics, then single-row runs for latency percentiles. `run` is whatever
 * executes the model (onnxruntime in the evaluation child; a fake in unit tests).
 */
import type { EvaluationData } from "../datasets/parse";
import type { EvaluationPlan, FeedPlan } from "../datasets/fit";
import {
  argmax,
  classificationMetrics,
  percentile,
  regressionMetrics,
  type QualityMetrics,
} from "./metrics";

export type FeedTensor = {
  type: FeedPlan["dtype"];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array;
  dims: number[];
};
export type OutputTensor = { data: ArrayLike<unknown>; dims: readonly number[] };
export type ModelRunner = (
  feeds: Record<string, FeedTensor>,
  fetches: string[],
) => Promise<Record<string, OutputTensor>>;

export type LatencyFigures = {
  /** Single-row runs over the first rows of the dataset (how many: see LATENCY_RUNS). */
  batch1: {
    runs: number;
    p50Ms: number;
    p95Ms: number;
    p99Ms: number;
    meanMs: number;
    maxMs: number;
  };
  /**
   * Throughput at batch 64 (1 for a model fixed at batch 1): the scoring pass itself when it
   * runs at that size, else its first rows (up to BATCH64_MAX_BATCHES batches), which are
   * scored at 64 and timed apart from the rest.
   */
  batched: { batchSize: number; rows: number; seconds: number; rowsPerSecond: number };
  /**
   * The scoring pass at the engine's scoring batch, over the rows after the batch-64 share
   * (older evaluations: over every row, with the batch-64 figure a second pass; absent in
   * the oldest).
   */
  scoring?: { batchSize: number; rows: number; seconds: number; rowsPerSecond: number };
};

export type ScoreOptions = {
  /** Rows per run of the scoring pass (default: SCORING_BATCH, or the model's fixed batch). */
  batchSize?: number;
  /** Most single-row latency runs (default 1000); see LATENCY_RUNS for the rule. */
  latencyRuns?: number;
  signal?: AbortSignal;
  onProgress?: (p: { phase: "scoring" | "latency"; done: number; total: number }) => void;
};

export type ScoreResult = {
  metrics: QualityMetrics;
  latency: LatencyFigures;
  rowCount: number;
  notes: string[];
};

/**
 * Rows per run of the scoring pass when the model's batch dimension is free. Per-call cost
 * (about 35–55 µs per `session.run` here, whatever the batch) dominates small models at 64
 * rows: a 4-feature logistic regression scores about 8× faster per row at 512, while a
 * 64→512→512→10 MLP is the same at 64 and 512 (and slower from 1024).
 */
export const SCORING_BATCH = 512;
/** The batch size the "batched" throughput figure is reported at. */
export const REPORTED_BATCH = 64;
/** The batch-64 share of the scoring, when the scoring batch is another: at most this many batches… */
const BATCH64_MAX_BATCHES = 64;
/** …and no more batches once this long was spent (at least 8 batches are always timed). */
const BATCH64_BUDGET_MS = 250;
/**
 * Single-row latency runs: at least MIN (p99 then rests on the slowest 3 runs, not one), up
 * to the caller's maximum (1000 by default), and no more after BUDGET_MS once the minimum is
 * in: a model at 50 µs per run does all 1000 in about 50 ms, one at 5 ms stops at 300.
 */
export const LATENCY_RUNS = { min: 300, max: 1000, budgetMs: 50 } as const;

/** Untimed warm-up runs before a timed pass: about 1,024 rows, 2 to 16 batches. */
export function warmUpBatches(batchSize: number): number {
  return Math.max(2, Math.min(16, Math.ceil(1024 / batchSize)));
}

type PreparedFeed = { plan: FeedPlan; width: number; data: FeedTensor["data"] };

/** Whole-dataset typed arrays per input; batches are zero-copy views of them. */
export function prepareFeeds(data: EvaluationData, plan: EvaluationPlan): PreparedFeed[] {
  const F = data.featureColumns.length;
  const n = data.rowCount;
  const prepared: PreparedFeed[] = [];
  for (const feed of plan.feeds) {
    const width = feed.columns.length;
    const offsets = feed.columns.map((c) => data.featureColumns.indexOf(c));
    if (offsets.some((o) => o < 0))
      throw new Error(`Feature columns for ${feed.input} were not loaded`);
    // A dataset's binary form is already the float32 [rows, F] tensor: use it as it is.
    if (
      feed.dtype === "float32" &&
      data.features instanceof Float32Array &&
      width === F &&
      offsets.every((o, j) => o === j)
    ) {
      prepared.push({ plan: feed, width, data: data.features });
      continue;
    }
    const size = n * width;
    const out =
      feed.dtype === "float32"
        ? new Float32Array(size)
        : feed.dtype === "float64"
          ? new Float64Array(size)
          : feed.dtype === "int32"
            ? new Int32Array(size)
            : new BigInt64Array(size);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < width; j++) {
        const v = data.features[r * F + offsets[j]!]!;
        if (out instanceof BigInt64Array) out[r * width + j] = BigInt(Math.round(v));
        else out[r * width + j] = v;
      }
    }
    prepared.push({ plan: feed, width, data: out });
  }
  return prepared;
}

function sliceFeeds(prepared: PreparedFeed[], start: number, count: number) {
  const feeds: Record<string, FeedTensor> = {};
  for (const p of prepared) {
    feeds[p.plan.input] = {
      type: p.plan.dtype,
      data: p.data.subarray(start * p.width, (start + count) * p.width),
      dims: p.plan.rank === 2 ? [count, p.width] : [count],
    };
  }
  return feeds;
}

/** Class universe and true class indices (classification), or numeric targets (regression). */
export function encodeTruth(
  labels: EvaluationData["labels"],
  plan: EvaluationPlan,
): { yTrue: Float64Array; classes: string[] | null } {
  const yTrue = new Float64Array(labels.length);
  if (plan.task === "regression") {
    labels.forEach((l, i) => (yTrue[i] = typeof l === "number" ? l : Number(l)));
    return { yTrue, classes: null };
  }
  if (plan.labelEncoding === "index") {
    let max = -1;
    labels.forEach((l, i) => {
      const v = Number(l);
      yTrue[i] = v;
      if (v > max) max = v;
    });
    const classes = plan.classNames ?? Array.from({ length: max + 1 }, (_, k) => String(k));
    return { yTrue, classes: [...classes] };
  }
  const classes = [...(plan.classNames ?? [])];
  const index = new Map(classes.map((c, i) => [c, i]));
  labels.forEach((l, i) => {
    const key = String(l);
    let k = index.get(key);
    if (k === undefined) {
      k = classes.length;
      classes.push(key);
      index.set(key, k);
    }
    yTrue[i] = k;
  });
  return { yTrue, classes };
}

export async function scoreDataset(
  data: EvaluationData,
  plan: EvaluationPlan,
  run: ModelRunner,
  options: ScoreOptions = {},
): Promise<ScoreResult> {
  const n = data.rowCount;
  if (n === 0) throw new Error("The dataset has no rows.");
  const notes = [...plan.notes];
  const batchSize = Math.max(
    1,
    Math.min(options.batchSize ?? SCORING_BATCH, plan.maxBatch ?? Infinity),
  );
  const prepared = prepareFeeds(data, plan);
  const truth = encodeTruth(data.labels, plan);
  const fetches = [
    plan.labelOutput?.name,
    plan.scoresOutput?.name,
    plan.valueOutput ?? undefined,
  ].filter((x): x is string => typeof x === "string");

  // Predictions.
  const predIndex = new Float64Array(n);
  const predNames: string[] | null = plan.labelOutput?.kind === "name" ? new Array(n) : null;
  let scores: Float64Array | null = null;
  let scoreWidth = 0;
  const values = plan.task === "regression" ? new Float64Array(n) : null;
  let lastProgress = 0;
  /** Stores one run's outputs as the predictions of rows [start, start + count). */
  const consume = (out: Record<string, OutputTensor>, start: number, count: number) => {
    if (values) {
      const v = out[plan.valueOutput!]!.data;
      for (let i = 0; i < count; i++) values[start + i] = Number(v[i]);
      return;
    }
    if (plan.scoresOutput) {
      const t = out[plan.scoresOutput.name]!;
      const width = t.dims[1] ?? t.data.length / count;
      if (!scores) {
        scoreWidth = width;
        scores = new Float64Array(n * width);
      }
      const src = t.data;
      if (src instanceof Float32Array || src instanceof Float64Array) {
        scores.set(src.subarray(0, count * width), start * width); // native copy
      } else {
        for (let i = 0; i < count * width; i++) scores[start * width + i] = Number(src[i]);
      }
    }
    if (plan.labelOutput) {
      const d = out[plan.labelOutput.name]!.data;
      if (predNames) for (let i = 0; i < count; i++) predNames[start + i] = String(d[i]);
      else if (d instanceof Float32Array || d instanceof Float64Array || d instanceof Int32Array)
        predIndex.set(d.subarray(0, count), start);
      else for (let i = 0; i < count; i++) predIndex[start + i] = Number(d[i]);
    } else {
      for (let i = 0; i < count; i++)
        predIndex[start + i] = argmax(scores!, (start + i) * scoreWidth, scoreWidth);
    }
  };
  /**
   * Scores rows from `from` at `size` rows per run, timed after an untimed warm-up (the
   * first runs at a shape plan and allocate, and this loop is not compiled yet; serving
   * warms a version up the same way before it answers). Stops at `to`, or once `limit`
   * says so. Returns the figure for the rows it scored.
   */
  const scorePass = async (
    from: number,
    to: number,
    size: number,
    limit?: { maxBatches: number; budgetMs: number },
  ) => {
    for (let b = 0; b < warmUpBatches(size) && from + b * size < to; b++) {
      const start = from + b * size;
      await run(sliceFeeds(prepared, start, Math.min(size, to - start)), fetches);
    }
    const started = performance.now();
    let start = from;
    for (let b = 0; start < to; b++) {
      if (
        limit &&
        (b >= limit.maxBatches || (b >= 8 && performance.now() - started > limit.budgetMs))
      )
        break;
      options.signal?.throwIfAborted();
      const count = Math.min(size, to - start);
      consume(await run(sliceFeeds(prepared, start, count), fetches), start, count);
      start += count;
      const now = performance.now();
      if (options.onProgress && now - lastProgress > 200) {
        lastProgress = now;
        options.onProgress({ phase: "scoring", done: start, total: n });
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const rows = start - from;
    return { batchSize: size, rows, seconds, rowsPerSecond: seconds > 0 ? rows / seconds : 0 };
  };

  // The throughput figure at batch 64 is the first rows' share of the scoring itself (they
  // are scored at 64, timed apart), not a second pass over rows already scored at 512.
  const reportedBatch = Math.min(REPORTED_BATCH, plan.maxBatch ?? Infinity);
  let batched: LatencyFigures["batched"];
  let scoring: NonNullable<LatencyFigures["scoring"]>;
  if (reportedBatch === batchSize) {
    batched = scoring = await scorePass(0, n, batchSize);
  } else {
    batched = await scorePass(0, n, reportedBatch, {
      maxBatches: BATCH64_MAX_BATCHES,
      budgetMs: BATCH64_BUDGET_MS,
    });
    scoring = batched.rows < n ? await scorePass(batched.rows, n, batchSize) : batched;
  }

  // Metrics.
  let metrics: QualityMetrics;
  if (values) {
    metrics = regressionMetrics(truth.yTrue, values);
  } else {
    const classes = truth.classes!;
    if (predNames) {
      const index = new Map(classes.map((c, i) => [c, i]));
      predNames.forEach((name, i) => {
        let k = index.get(name);
        if (k === undefined) {
          k = classes.length;
          classes.push(name);
          index.set(name, k);
        }
        predIndex[i] = k;
      });
    } else {
      let max = classes.length - 1;
      for (let i = 0; i < n; i++) if (predIndex[i]! > max) max = predIndex[i]!;
      for (let k = classes.length; k <= max; k++) classes.push(String(k));
    }
    while (scores && classes.length < scoreWidth) classes.push(String(classes.length));
    const scoresMatch = scores !== null && scoreWidth === classes.length;
    if (scores && !scoresMatch) {
      notes.push(
        `the scores output has ${scoreWidth} columns but there are ${classes.length} classes; log loss and ROC AUC were skipped`,
      );
    }
    const probabilities = scoresMatch && plan.scoresOutput?.probabilities ? scores : null;
    if (plan.scoresOutput && !plan.scoresOutput.probabilities) {
      notes.push(
        `output ${JSON.stringify(plan.scoresOutput.name)} is not named as probabilities; no log loss`,
      );
    }
    metrics = classificationMetrics({
      yTrue: truth.yTrue,
      yPred: predIndex,
      labels: classes,
      probabilities,
      scores: scoresMatch ? scores : null,
    });
  }

  // Latency at batch 1 (the rule: LATENCY_RUNS).
  const maxRuns = Math.min(n, options.latencyRuns ?? LATENCY_RUNS.max);
  const minRuns = Math.min(maxRuns, LATENCY_RUNS.min);
  const all = new Float64Array(maxRuns);
  let runs = 0;
  const latencyStarted = performance.now();
  for (; runs < maxRuns; runs++) {
    if (runs >= minRuns && performance.now() - latencyStarted > LATENCY_RUNS.budgetMs) break;
    if (runs % 64 === 0) options.signal?.throwIfAborted();
    const feeds = sliceFeeds(prepared, runs, 1);
    const t0 = performance.now();
    await run(feeds, fetches);
    all[runs] = performance.now() - t0;
    if (options.onProgress && runs % 100 === 99) {
      options.onProgress({ phase: "latency", done: runs + 1, total: maxRuns });
    }
  }
  const sorted = all.subarray(0, runs).slice().sort();
  const sum = sorted.reduce((s, v) => s + v, 0);
  const latency: LatencyFigures = {
    batch1: {
      runs,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      p99Ms: percentile(sorted, 99),
      meanMs: runs > 0 ? sum / runs : NaN,
      maxMs: runs > 0 ? sorted[runs - 1]! : NaN,
    },
    batched,
    scoring,
  };
  return { metrics, latency, rowCount: n, notes };
}
