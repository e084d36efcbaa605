/**
 * Evaluation benchmark: rows per second of ModelDeck's evaluation engine over a generated
 * 100k-row dataset, against raw batched `session.run` of the same model in the same process
 * run (the ceiling: onnxruntime with nothing around it). Run on demand, not in CI.
 *
 *   node --import tsx bench/evaluation/run.ts [--rows 100000] [--repeat 3] [--models logreg,mlp]
 *
 * For each model, rounds alternate: (1) raw — this process, one onnxruntime session (one
 * intra-op thread, like the engine), a prebuilt Float32Array, `session.run` on batches of 64
 * views, every row once; (2) ModelDeck — `runEvaluationInChild`, the engine `evaluateVersion`
 * uses (a child process: read and parse the CSV with csv-parse, build the tensors, score every
 * row in batches of 64, then 1,000 single-row latency runs, compute the metrics). Reported:
 * - the engine's scoring pass (rows / time of its batched runs, what an evaluation records as
 *   `latency.batched.rowsPerSecond`) against raw: the target is ≥ 0.7×;
 * - the whole evaluation end to end (child start, CSV parse, model load, scoring, latency runs,
 *   metrics), as rows / wall time, and where that time goes.
 * Progress goes to stderr, the markdown table to stdout.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { checkDatasetFitsModel, scanDataset } from "../../lib/datasets";
import { runEvaluationInChild } from "../../lib/evaluation/runner";
import { buildLogisticRegressionModel, buildMlpModel } from "../../lib/onnx/build";
import { inspectOnnxFile } from "../../lib/onnx/inspect";
import { seededRandom } from "../../lib/training/random";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    repeat: { type: "string", default: "3" },
    models: { type: "string", default: "logreg,mlp" },
  },
});
const ROWS = Number(values.rows);
const REPEAT = Number(values.repeat);
const BATCH = 64;

type BenchModel = { key: string; label: string; features: number; bytes: Buffer };

function models(): BenchModel[] {
  const random = seededRandom(11);
  const all: BenchModel[] = [
    {
      key: "logreg",
      label: "logistic regression 4→3",
      features: 4,
      bytes: buildLogisticRegressionModel({
        weights: Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => random() - 0.5)),
        bias: [0.1, -0.2, 0.05],
        classLabels: ["a", "b", "c"],
      }),
    },
    {
      key: "mlp",
      label: "MLP 64→512→512→10",
      features: 64,
      bytes: buildMlpModel({ layers: [64, 512, 512, 10], seed: 5 }),
    },
  ];
  const wanted = new Set(values.models.split(","));
  return all.filter((m) => wanted.has(m.key));
}

function datasetCsv(features: number, classes: number, rows: number): string {
  const random = seededRandom(features * 7 + rows);
  const header = [...Array.from({ length: features }, (_, f) => `x${f}`), "label"].join(",");
  const lines = [header];
  for (let r = 0; r < rows; r++) {
    const cells = Array.from({ length: features }, () => (random() * 4 - 2).toFixed(4));
    cells.push(String(Math.floor(random() * classes)));
    lines.push(cells.join(","));
  }
  return lines.join("\n") + "\n";
}

/** Raw session.run in a fresh process, warmed up like the engine (see raw.ts). */
function rawFresh(file: string, features: number, rows: number): number {
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(import.meta.dirname, "raw.ts"),
      file,
      String(features),
      String(rows),
    ],
    { encoding: "utf8" },
  );
  return (JSON.parse(out.trim().split("\n").at(-1)!) as { rowsPerSecond: number }).rowsPerSecond;
}

/** Raw session.run in this process after a full untimed pass: the hot ceiling. */
async function rawHot(file: string, features: number, rows: number): Promise<number> {
  const session = await ort.InferenceSession.create(file, {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const random = seededRandom(3);
  const data = Float32Array.from({ length: rows * features }, () => random() * 4 - 2);
  const input = session.inputNames[0]!;
  const pass = async () => {
    for (let start = 0; start < rows; start += BATCH) {
      const count = Math.min(BATCH, rows - start);
      const t = new ort.Tensor(
        "float32",
        data.subarray(start * features, (start + count) * features),
        [count, features],
      );
      await session.run({ [input]: t });
    }
  };
  await pass(); // warm-up pass, not counted
  const t0 = performance.now();
  await pass();
  const seconds = (performance.now() - t0) / 1000;
  await session.release();
  return rows / seconds;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number) => new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(n);

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "modeldeck-bench-eval-"));
  const lines: string[] = [];
  try {
    for (const model of models()) {
      const modelFile = path.join(dir, `${model.key}.onnx`);
      const datasetFile = path.join(dir, `${model.key}.csv`);
      await writeFile(modelFile, model.bytes);
      const classes = model.key === "mlp" ? 10 : 3;
      const csv = datasetCsv(model.features, classes, ROWS);
      await writeFile(datasetFile, csv);
      const signature = await inspectOnnxFile(modelFile);
      const scan = await scanDataset(datasetFile, "csv", { labelColumn: "label" });
      if (!scan.ok || !scan.mapping)
        throw new Error(`dataset problems: ${JSON.stringify(scan.problems)}`);
      const fit = checkDatasetFitsModel(
        { columns: scan.columns, labelColumn: "label", featureMapping: scan.mapping },
        signature,
        "classification",
      );
      if (!fit.ok) throw new Error(fit.problems.join("; "));
      const rawRates: number[] = [];
      const hotRates: number[] = [];
      const scoring: number[] = [];
      const endToEnd: number[] = [];
      const parts: { start: number; read: number; load: number; score: number }[] = [];
      for (let round = 0; round < REPEAT; round++) {
        rawRates.push(rawFresh(modelFile, model.features, ROWS));
        hotRates.push(await rawHot(modelFile, model.features, ROWS));
        const t0 = performance.now();
        const result = await runEvaluationInChild({
          modelPath: modelFile,
          datasetPath: datasetFile,
          format: "csv",
          plan: fit.plan,
          batchSize: BATCH,
          latencyRuns: 1000,
          threads: 1,
        });
        const wall = (performance.now() - t0) / 1000;
        scoring.push(result.latency.batched.rowsPerSecond);
        endToEnd.push(ROWS / wall);
        parts.push({
          start: result.timings.startMs,
          read: result.timings.readDatasetMs,
          load: result.timings.loadModelMs,
          score: result.timings.scoreMs,
        });
        console.error(
          `${model.key} round ${round + 1}: raw ${fmt(rawRates.at(-1)!)} rows/s (hot ${fmt(hotRates.at(-1)!)}), engine scoring ${fmt(scoring.at(-1)!)} rows/s, end to end ${wall.toFixed(2)} s`,
        );
      }
      const r = median(rawRates);
      const h = median(hotRates);
      const s = median(scoring);
      const e = median(endToEnd);
      const p = {
        start: median(parts.map((x) => x.start)),
        read: median(parts.map((x) => x.read)),
        load: median(parts.map((x) => x.load)),
        score: median(parts.map((x) => x.score)),
      };
      lines.push(
        `| ${model.label} | ${fmt(ROWS)} (${(Buffer.byteLength(csv) / 1024 ** 2).toFixed(1)} MiB CSV) | ${fmt(r)} | ${fmt(h)} | ${fmt(s)} | **${(s / r).toFixed(2)}×** | ${fmt(e)} | ${(e / r).toFixed(2)}× | ${fmt(p.start)} / ${fmt(p.read)} / ${fmt(p.load)} / ${fmt(p.score)} |`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(`## Evaluation

Rows per second of an evaluation over a generated ${fmt(ROWS)}-row dataset against raw batched
\`session.run\` (batches of ${BATCH}, one intra-op thread, prebuilt tensor) of the same model in the
same run; medians of ${REPEAT} interleaved rounds. "Raw" runs in a fresh process warmed up as the
engine is (16 untimed batches, then one timed pass), the fair baseline for one evaluation; "raw,
hot" runs after a full untimed pass in a long-lived process (JIT and onnxruntime fully warm), the
ceiling. "Engine scoring" is the evaluation's batched
scoring pass (what it records as \`latency.batched.rowsPerSecond\`); "end to end" divides the
rows by the whole evaluation's wall time: child start, CSV read and parse (csv-parse), model
load, scoring, 1,000 single-row latency runs and the metrics.

Command:

\`\`\`sh
node --import tsx bench/evaluation/run.ts --rows ${ROWS} --repeat ${REPEAT}
\`\`\`

${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${cpu}), Node ${process.version}.

| model | rows | raw session.run rows/s | raw, hot | engine scoring rows/s | engine / raw | end to end rows/s | end to end / raw | ms: child start / read CSV / load model / score + latency + metrics |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${lines.join("\n")}
`);
}

await main();
