import { describe, expect, it } from "vitest";
import type { EvaluationPlan } from "../datasets/fit";
import type { ClassificationMetrics, RegressionMetrics } from "./metrics";
import { LATENCY_RUNS, SCORING_BATCH, scoreDataset, type ModelRunner } from "./score";

const base: EvaluationPlan = {
  task: "classification",
  feeds: [{ input: "x", dtype: "float32", columns: ["a", "b"], rank: 2 }],
  featureColumns: ["a", "b"],
  labelColumn: "y",
  maxBatch: null,
  labelOutput: null,
  scoresOutput: null,
  valueOutput: null,
  classNames: null,
  labelEncoding: "index",
  notes: [],
};

/** Rows (a, b) and a fake model: class = a > b ? 1 : 0; value = a + b. */
const data = (labels: (string | number)[]) => ({
  rowCount: labels.length,
  features: Float64Array.from(labels.flatMap((_, i) => [i % 3, 1])),
  featureColumns: ["a", "b"],
  labels,
});
const fake =
  (batches: number[]): ModelRunner =>
  async (feeds) => {
    const x = feeds.x!;
    const rows = x.dims[0]!;
    batches.push(rows);
    const label = new BigInt64Array(rows);
    const names: string[] = [];
    const scores = new Float32Array(rows * 2);
    const value = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const [a, b] = [Number(x.data[r * 2]), Number(x.data[r * 2 + 1])];
      const k = a > b ? 1 : 0;
      label[r] = BigInt(k);
      names.push(k ? "yes" : "no");
      scores[r * 2] = k ? 0.2 : 0.8;
      scores[r * 2 + 1] = k ? 0.8 : 0.2;
      value[r] = a + b;
    }
    return {
      label: { data: label, dims: [rows] },
      name: { data: names, dims: [rows] },
      prob: { data: scores, dims: [rows, 2] },
      value: { data: value, dims: [rows, 1] },
    };
  };

describe("scoreDataset", () => {
  // a = 0,1,2,0,1,2…, b = 1: the fake predicts 1 exactly when a = 2.
  const truth = Array.from({ length: 150 }, (_, i) => (i % 3 === 2 ? 1 : 0));

  it("index labels and an index output; batches of 64 after the warm-up, single rows for latency", async () => {
    const batches: number[] = [];
    const r = await scoreDataset(
      data(truth),
      { ...base, labelOutput: { name: "label", kind: "index" } },
      fake(batches),
      { batchSize: 64, latencyRuns: 10 },
    );
    const m = r.metrics as ClassificationMetrics;
    expect(m.accuracy).toBe(1);
    expect(m.confusionMatrix).toEqual({
      labels: ["0", "1"],
      matrix: [
        [100, 0],
        [0, 50],
      ],
    });
    // 3 warm-up batches (the dataset has 3), 3 timed, then 10 single rows.
    expect(batches).toEqual([64, 64, 22, 64, 64, 22, ...Array(10).fill(1)]);
    expect(r.latency.batch1.runs).toBe(10);
    expect(r.latency.batched).toMatchObject({ batchSize: 64, rows: 150 });
    expect(r.latency.scoring).toEqual(r.latency.batched);
  });

  /** Scores `rows` rows at the default batch sizes, with the batch sizes run in order. */
  async function scoreAtDefaults(rows: number) {
    const batches: number[] = [];
    const labels = Array.from({ length: rows }, (_, i) => (i % 3 === 2 ? 1 : 0));
    const r = await scoreDataset(
      data(labels),
      { ...base, labelOutput: { name: "label", kind: "index" } },
      fake(batches),
      { latencyRuns: 0 },
    );
    // Every row's prediction landed at its own index, from whichever pass scored it.
    expect((r.metrics as ClassificationMetrics).accuracy).toBe(1);
    return { r, batches };
  }

  it("scores the first rows at batch 64 (the batch-64 figure) and the rest at 512, each row once", async () => {
    const { r, batches } = await scoreAtDefaults(5000);
    // 16 warm-up batches of 64, then at most 64 timed ones (4,096 rows, not all 5,000)…
    expect(batches.slice(0, 80)).toEqual(Array(16 + 64).fill(64));
    // …then the remaining 904 rows at 512: 2 warm-up batches, then 512 + 392 timed.
    expect(batches.slice(80)).toEqual([512, 392, 512, 392]);
    expect(r.latency.batched).toMatchObject({ batchSize: 64, rows: 4096 });
    expect(r.latency.batched.rowsPerSecond).toBeGreaterThan(0);
    expect(r.latency.scoring).toMatchObject({ batchSize: SCORING_BATCH, rows: 904 });
  });

  it("scores a dataset the batch-64 pass covers whole at 64 only", async () => {
    const { r, batches } = await scoreAtDefaults(1000);
    // 16 warm-up batches (the dataset has 16: 15 × 64 + 40), then the same 16 timed.
    const pass = [...Array(15).fill(64), 40];
    expect(batches).toEqual([...pass, ...pass]);
    expect(r.latency.batched).toMatchObject({ batchSize: 64, rows: 1000 });
    expect(r.latency.scoring).toEqual(r.latency.batched);
  });

  it("latency runs: past the minimum of 300 while within the budget, only the minimum when each run takes long", async () => {
    const labels = Array.from({ length: 2000 }, (_, i) => (i % 3 === 2 ? 1 : 0));
    const plan = { ...base, labelOutput: { name: "label", kind: "index" as const } };
    const fast = await scoreDataset(data(labels), plan, fake([]), { latencyRuns: 350 });
    expect(fast.latency.batch1.runs).toBe(350);
    const quick = fake([]);
    const slow: ModelRunner = async (feeds, fetches) => {
      // 1 ms per single-row run: 300 runs already exceed the 50 ms budget.
      if (feeds.x!.dims[0] === 1) await new Promise((r) => setTimeout(r, 1));
      return quick(feeds, fetches);
    };
    const r = await scoreDataset(data(labels), plan, slow);
    expect(r.latency.batch1.runs).toBe(LATENCY_RUNS.min);
    expect(r.latency.batch1.p99Ms).toBeGreaterThanOrEqual(1);
  });

  it("name labels with a string output, and unknown names extend the classes", async () => {
    const labels: string[] = truth.map((t) => (t ? "yes" : "no"));
    labels[0] = "maybe";
    const r = await scoreDataset(
      data(labels),
      {
        ...base,
        labelOutput: { name: "name", kind: "name" },
        labelEncoding: "name",
        classNames: ["no", "yes"],
      },
      fake([]),
      { latencyRuns: 0 },
    );
    const m = r.metrics as ClassificationMetrics;
    expect(m.confusionMatrix.labels).toEqual(["no", "yes", "maybe"]);
    expect(m.accuracy).toBeCloseTo(149 / 150, 12);
  });

  it("argmax of scores without a label output; probabilities give log loss and binary ROC AUC", async () => {
    const r = await scoreDataset(
      data(truth),
      { ...base, scoresOutput: { name: "prob", probabilities: true } },
      fake([]),
      { latencyRuns: 0 },
    );
    const m = r.metrics as ClassificationMetrics;
    expect(m.accuracy).toBe(1);
    expect(m.logLoss).toBeCloseTo(-Math.log(0.8), 6);
    expect(m.rocAuc).toBe(1);
  });

  it("regression from a [batch, 1] output; a fixed batch of 1 is honoured", async () => {
    const batches: number[] = [];
    const targets = Array.from({ length: 10 }, (_, i) => (i % 3) + 1);
    const r = await scoreDataset(
      data(targets),
      { ...base, task: "regression", valueOutput: "value", labelEncoding: null, maxBatch: 1 },
      fake(batches),
      { latencyRuns: 0 },
    );
    expect(r.metrics as RegressionMetrics).toMatchObject({
      kind: "regression",
      mae: 0,
      rmse: 0,
      r2: 1,
    });
    expect(new Set(batches)).toEqual(new Set([1]));
    expect(r.latency.batched.batchSize).toBe(1);
  });

  it("stops when its signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(
      scoreDataset(
        data(truth),
        { ...base, labelOutput: { name: "label", kind: "index" } },
        fake([]),
        {
          signal: controller.signal,
        },
      ),
    ).rejects.toThrow("stop");
  });
});
