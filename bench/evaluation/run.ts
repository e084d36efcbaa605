/**
 * Evaluation benchmark: rows per second of a whole ModelDeck evaluation over a generated
 * 100k-row dataset, against raw batched `session.run` of the same model in the same run. Run
 * on demand, not in CI.
 *
 *   node --import tsx bench/evaluation/run.ts [--rows 100000] [--repeat 3] [--models logreg,mlp]
 *
 * Setup: an embedded PostgreSQL (migrated) and a local artifact store in a temp directory;
 * each model is registered as a version and its dataset uploaded as the product does
 * (registerDatasetBytes: scan, binary form, both files content-addressed). Then, per round:
 * (1) raw — a fresh process, one onnxruntime session (one intra-op thread, like the engine),
 * a prebuilt Float32Array, `session.run` on views of the engine's scoring batch (512; the
 * comparison is at the same batch size), its warm-up batches then every row once (raw.ts);
 * also at batch 64, and "hot" in this process after a full untimed pass; (2) ModelDeck —
 * `evaluateVersion`, exactly what the API and the jobs run: database rows, the evaluation
 * child started ahead of need, which reads the dataset's binary form, loads the model,
 * scores the first rows (up to 4,096) in batches of 64, timed apart (the batch-64 figure),
 * and the rest in batches of 512, times the single-row latency runs and computes the metrics, then the result recorded; (3) the
 * same evaluation with the binary form hidden (matrixStorageKey null, as for a version
 * stored before it existed), so the child parses the CSV. End to end = rows / wall time of
 * evaluateVersion. Progress goes to stderr, the markdown table to stdout.
 */
import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import * as ort from "onnxruntime-node";
import { SYSTEM_ACTOR } from "../../lib/audit";
import { registerDatasetBytes } from "../../lib/datasets";
import { findFreePort, startEmbeddedPostgres, type DbLogger } from "../../lib/db/embedded-postgres";
import { PrismaClient } from "../../lib/db/generated/client";
import { applyMigrations } from "../../lib/db/migrations";
import { evaluateVersion } from "../../lib/evaluation";
import { evaluationChildPool } from "../../lib/evaluation/runner";
import type { ChildTimings } from "../../lib/evaluation/runner-protocol";
import { LATENCY_RUNS, REPORTED_BATCH, SCORING_BATCH } from "../../lib/evaluation/score";
import { buildLogisticRegressionModel, buildMlpModel } from "../../lib/onnx/build";
import { createModel } from "../../lib/registry";
import { registerVersionBytes } from "../../lib/registry/upload";
import { LocalArtifactStore } from "../../lib/storage";
import { seededRandom } from "../../lib/training/random";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    repeat: { type: "string", default: "3" },
    models: { type: "string", default: "logreg,mlp" },
    /** "false": skip the CSV-parsing comparison (large datasets). */
    csv: { type: "string", default: "true" },
  },
});
const ROWS = Number(values.rows);
const REPEAT = Number(values.repeat);
/** The engine's scoring batch (free batch dimension): the raw baseline runs at the same size. */
const BATCH = SCORING_BATCH;
const WITH_CSV = values.csv !== "false";

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
function rawFresh(file: string, features: number, rows: number, batch = BATCH): number {
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(import.meta.dirname, "raw.ts"),
      file,
      String(features),
      String(rows),
      String(batch),
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

const quiet: DbLogger = { info: () => {}, warn: () => {}, error: (o, m) => console.error(m, o) };

type Figures = {
  rowsPerSecond: number;
  scoring: number;
  batch64: number;
  latencyRuns: number;
  parts: ChildTimings & { startMs: number; warmChild: boolean; otherMs: number; wallMs: number };
};

const LOAD_AT_START = os.loadavg();

async function main() {
  // The embedded PostgreSQL runs as the postgres user, who must traverse every parent of its
  // data directory.
  const dir = await mkdtemp(path.join(os.tmpdir(), "modeldeck-bench-eval-"));
  await chmod(dir, 0o755);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(dir, "postgres"),
    port: await findFreePort(),
    log: quiet,
    settings: { fsync: "off", synchronous_commit: "off" },
  });
  const lines: string[] = [];
  const notes: string[] = [];
  try {
    await applyMigrations(pg.connectionString, { log: quiet });
    const db = new PrismaClient({
      adapter: new PrismaPg({ connectionString: pg.connectionString }),
    });
    const store = new LocalArtifactStore({ root: path.join(dir, "artifacts"), durable: false });
    try {
      for (const model of models()) {
        const modelFile = path.join(dir, `${model.key}.onnx`);
        await writeFile(modelFile, model.bytes);
        await createModel(db, SYSTEM_ACTOR, { name: model.key, task: "classification" });
        await registerVersionBytes(db, store, SYSTEM_ACTOR, model.bytes, {
          modelName: model.key,
          lineage: { kind: "upload" },
        });
        const classes = model.key === "mlp" ? 10 : 3;
        const csv = datasetCsv(model.features, classes, ROWS);
        const u0 = performance.now();
        const uploaded = await registerDatasetBytes(db, store, SYSTEM_ACTOR, csv, {
          name: `${model.key}-data`,
          labelColumn: "label",
        });
        const uploadMs = performance.now() - u0;
        const dv = await db.datasetVersion.findUniqueOrThrow({
          where: { id: uploaded.version.id },
        });
        const matrixKey = dv.matrixStorageKey!;
        const matrixBytes = await store.sizeOf(matrixKey);

        const evaluate = async (binary: boolean): Promise<Figures> => {
          await db.datasetVersion.update({
            where: { id: dv.id },
            data: { matrixStorageKey: binary ? matrixKey : null },
          });
          const t0 = performance.now();
          const view = await evaluateVersion(db, store, SYSTEM_ACTOR, {
            modelName: model.key,
            version: 1,
            datasetName: `${model.key}-data`,
          });
          const wallMs = performance.now() - t0;
          if (view.status !== "succeeded") throw new Error(`evaluation failed: ${view.error}`);
          const latency = view.latency as unknown as {
            batch1: { runs: number };
            batched: { batchSize: number; rowsPerSecond: number };
            scoring: { batchSize: number; rowsPerSecond: number };
            timings: ChildTimings & { startMs: number; warmChild: boolean };
          };
          if (latency.scoring.batchSize !== BATCH || latency.batched.batchSize !== REPORTED_BATCH) {
            throw new Error(`unexpected batch sizes ${JSON.stringify(latency)}`);
          }
          // As in a long-lived web or scheduler process: the next evaluation's child is started
          // (and ready) before anything else is measured, so it neither slows the next raw
          // measurement nor is missing for the next evaluation.
          await evaluationChildPool().ready();
          const t = latency.timings;
          if (t.datasetSource !== (binary ? "matrix" : "file")) {
            throw new Error(
              `expected the ${binary ? "binary form" : "file"}, got ${t.datasetSource}`,
            );
          }
          return {
            rowsPerSecond: ROWS / (wallMs / 1000),
            scoring: latency.scoring.rowsPerSecond,
            batch64: latency.batched.rowsPerSecond,
            latencyRuns: latency.batch1.runs,
            parts: {
              ...t,
              wallMs,
              otherMs: wallMs - t.startMs - t.readDatasetMs - t.loadModelMs - t.scoreMs,
            },
          };
        };

        // One untimed evaluation first: this process's own first Prisma queries and the
        // child bundle's build (once per source version) are not what an evaluation costs.
        await evaluate(true);

        const raw: number[] = [];
        const raw64: number[] = [];
        const hot: number[] = [];
        const bin: Figures[] = [];
        const file: Figures[] = [];
        for (let round = 0; round < REPEAT; round++) {
          raw.push(rawFresh(modelFile, model.features, ROWS));
          raw64.push(rawFresh(modelFile, model.features, ROWS, REPORTED_BATCH));
          hot.push(await rawHot(modelFile, model.features, ROWS));
          bin.push(await evaluate(true));
          if (WITH_CSV) file.push(await evaluate(false));
          console.error(
            `${model.key} round ${round + 1}: raw ${fmt(raw.at(-1)!)} rows/s (hot ${fmt(hot.at(-1)!)}); evaluateVersion ${fmt(bin.at(-1)!.rowsPerSecond)} rows/s with the binary form (${fmt(bin.at(-1)!.parts.wallMs)} ms)` +
              (WITH_CSV
                ? `, ${fmt(file.at(-1)!.rowsPerSecond)} rows/s parsing the CSV (${fmt(file.at(-1)!.parts.wallMs)} ms)`
                : ""),
          );
        }
        await db.datasetVersion.update({
          where: { id: dv.id },
          data: { matrixStorageKey: matrixKey },
        });
        const r = median(raw);
        const h = median(hot);
        const part = (xs: Figures[], k: keyof Figures["parts"]) =>
          fmt(median(xs.map((x) => x.parts[k] as number)));
        const split = (xs: Figures[]) =>
          ["startMs", "readDatasetMs", "loadModelMs", "scoreMs", "otherMs"]
            .map((k) => part(xs, k as keyof Figures["parts"]))
            .join(" / ");
        const e = median(bin.map((x) => x.rowsPerSecond));
        const c = WITH_CSV ? median(file.map((x) => x.rowsPerSecond)) : NaN;
        const s = median(bin.map((x) => x.scoring));
        const r64 = median(raw64);
        const e64 = median(bin.map((x) => x.batch64));
        const warm = bin.filter((x) => x.parts.warmChild).length;
        const runs = median(bin.map((x) => x.latencyRuns));
        const mib = (n: number) => (n / 1024 ** 2).toFixed(1);
        lines.push(
          `| ${model.label} | ${fmt(ROWS)} | ${fmt(r)} | ${fmt(h)} | **${fmt(e)}** | **${(e / r).toFixed(2)}×** | ${(s / r).toFixed(2)}× | ${fmt(r64)} | ${fmt(e64)} | ${WITH_CSV ? fmt(c) : "–"} | ${WITH_CSV ? `${(c / r).toFixed(2)}×` : "–"} | ${fmt(runs)} | ${warm}/${bin.length} | ${split(bin)} | ${WITH_CSV ? split(file) : "–"} |`,
        );
        const rawMs = (ROWS / r) * 1000;
        notes.push(
          `- ${model.label}: CSV ${mib(Buffer.byteLength(csv))} MiB, binary form ${mib(matrixBytes)} MiB (upload with scan and binary form: ${fmt(uploadMs)} ms). Raw scoring of the ${fmt(ROWS)} rows takes ${fmt(rawMs)} ms; the evaluation's fixed costs outside scoring (waiting for its child ${part(bin, "startMs")} ms, model load ${part(bin, "loadModelMs")} ms, database and bookkeeping ${part(bin, "otherMs")} ms), the batch-${REPORTED_BATCH} throughput pass and its ${fmt(runs)} single-row latency runs come on top.`,
        );
      }
    } finally {
      await db.$disconnect();
    }
  } finally {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");
  console.log(`## Evaluation

Rows per second of a whole evaluation (\`evaluateVersion\`: database rows, the pre-started
evaluation child, reading the dataset, model load, scoring every row once — the first up to
4,096 at batch ${REPORTED_BATCH}, timed apart for the batch-${REPORTED_BATCH} throughput figure, the rest at ${BATCH} —,
the single-row latency runs, metrics, result
recorded) over a generated ${fmt(ROWS)}-row dataset, against raw batched \`session.run\` of
the same model **at the same batch size (${BATCH})** in the same run; medians of ${REPEAT}
interleaved rounds. "Raw" runs in a fresh process with the engine's warm-up, then one timed
pass; "raw, hot" after a full untimed pass in a long-lived process (the ceiling). "Engine
scoring / raw": the scoring at ${BATCH} alone. "Raw at ${REPORTED_BATCH}" and "engine at
${REPORTED_BATCH}": the figure an evaluation records as throughput at batch ${REPORTED_BATCH}
(its first rows, up to 4,096). Latency runs: at least
${fmt(LATENCY_RUNS.min)}, at most ${fmt(LATENCY_RUNS.max)}, no more after ${LATENCY_RUNS.budgetMs} ms once
the minimum is in. "Binary form": the dataset version's binary form written at upload; "CSV":
the same evaluation with it hidden (the child parses the CSV). "Warm": evaluations that took
the child started ahead of need.

Command:

\`\`\`sh
node --import tsx bench/evaluation/run.ts --rows ${ROWS} --repeat ${REPEAT} --models ${values.models}${WITH_CSV ? "" : " --csv false"}
\`\`\`

${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${cpu}), Node ${process.version}; load average (1, 5, 15 min) ${load(LOAD_AT_START)} at the start, ${load(os.loadavg())} at the end.

| model | rows | raw session.run rows/s (batch ${BATCH}) | raw, hot | end to end rows/s, binary form | end to end / raw | engine scoring / raw | raw rows/s at batch ${REPORTED_BATCH} | engine rows/s at batch ${REPORTED_BATCH} | end to end rows/s, CSV | CSV / raw | latency runs | warm | ms, binary form: waiting for the child / read dataset / load model / score + batch-${REPORTED_BATCH} pass + latency + metrics / database + other | ms, CSV: same split |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${lines.join("\n")}

${notes.join("\n")}
`);
}

await main();
