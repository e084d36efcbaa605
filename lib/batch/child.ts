/**
 * The batch prediction child process: `node --import tsx lib/batch/child.ts`, started by
 * runner.ts with an IPC channel. Like lib/evaluation/child.ts it reads the dataset (its
 * binary form when there is one), loads the model in onnxruntime and scores every row in
 * batches — but instead of metrics it streams one CSV line per row to `outPath`, and reports
 * progress every `progressEvery` rows. Heavy work stays off the scheduler's event loop, and
 * a run can be ended with SIGKILL.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import * as ort from "onnxruntime-node";
import { createScoringSession, warmUpOnnxRuntime } from "../onnx/scoring-session";
import { matrixEvaluationData, readDatasetMatrix } from "../datasets/matrix";
import { loadEvaluationData, type EvaluationData } from "../datasets/parse";
import { argmax } from "../evaluation/metrics";
import { prepareFeeds, type FeedTensor } from "../evaluation/score";
import { classNameOf, csvCell, featureCell, headerLine, outputColumns } from "./csv";
import type { BatchChildMessage, BatchChildRequest } from "./protocol";

const send = (message: BatchChildMessage) => process.send?.(message);

process.on("disconnect", () => process.exit(0));

async function run(job: BatchChildRequest): Promise<void> {
  const { plan } = job;
  let data: EvaluationData | null = null;
  if (job.matrixPath) {
    const matrix = await readDatasetMatrix(job.matrixPath).catch(() => null);
    data = matrix
      ? matrixEvaluationData(
          matrix,
          plan.featureColumns,
          plan.labelColumn,
          plan.feeds.some((f) => f.dtype !== "float32"),
        )
      : null;
  }
  data ??= await loadEvaluationData(
    job.datasetPath,
    job.format,
    plan.featureColumns,
    plan.labelColumn,
  );
  const n = data.rowCount;
  const F = data.featureColumns.length;
  const float32 = data.features instanceof Float32Array;
  send({ type: "progress", done: 0, total: n });
  const session = await createScoringSession(job.modelPath, job.threads);
  const prepared = prepareFeeds(data, plan);
  const fetches = [
    plan.labelOutput?.name,
    plan.scoresOutput?.name,
    plan.valueOutput ?? undefined,
  ].filter((x): x is string => typeof x === "string");
  const batchSize = Math.max(1, Math.min(job.batchSize, plan.maxBatch ?? Infinity));
  const out = createWriteStream(job.outPath);
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, "drain");
  };
  let columns: string[] | null = null;
  let lastReported = 0;
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const feeds: Record<string, ort.Tensor> = {};
    for (const p of prepared) {
      const slice = p.data.subarray(
        start * p.width,
        (start + count) * p.width,
      ) as FeedTensor["data"];
      feeds[p.plan.input] = new ort.Tensor(
        p.plan.dtype,
        slice as never,
        p.plan.rank === 2 ? [count, p.width] : [count],
      );
    }
    const result = await session.run(feeds, fetches);
    const scores = plan.scoresOutput ? result[plan.scoresOutput.name] : undefined;
    const scoreWidth = scores ? (scores.dims[1] ?? scores.data.length / count) : 0;
    if (!columns) {
      columns = ["row", ...plan.featureColumns, ...outputColumns(plan, scoreWidth)];
      await write(headerLine(plan, scoreWidth));
    }
    let chunk = "";
    for (let i = 0; i < count; i++) {
      const r = start + i;
      const cells: string[] = [String(r + 1)];
      for (let f = 0; f < F; f++) cells.push(featureCell(data.features[r * F + f]!, float32));
      if (plan.task === "regression") {
        cells.push(csvCell(Number(result[plan.valueOutput!]!.data[i])));
      } else {
        let label: string;
        if (plan.labelOutput) {
          const v = result[plan.labelOutput.name]!.data[i];
          label = plan.labelOutput.kind === "name" ? String(v) : classNameOf(plan, Number(v));
        } else {
          const d = scores!.data as ArrayLike<number>;
          const s = Float64Array.from({ length: scoreWidth }, (_, k) =>
            Number(d[i * scoreWidth + k]),
          );
          label = classNameOf(plan, argmax(s, 0, scoreWidth));
        }
        cells.push(csvCell(label));
        if (scores) {
          const d = scores.data as ArrayLike<number | bigint>;
          for (let k = 0; k < scoreWidth; k++) cells.push(csvCell(Number(d[i * scoreWidth + k])));
        }
      }
      chunk += cells.join(",") + "\n";
    }
    await write(chunk);
    const done = start + count;
    if (done - lastReported >= job.progressEvery || done === n) {
      lastReported = done;
      send({ type: "progress", done, total: n });
    }
  }
  if (!columns) await write(headerLine(plan, 0));
  out.end();
  await once(out, "finish");
  await session.release();
  send({ type: "done", rows: n, columns: columns ?? [] });
}

process.once("message", (job: BatchChildRequest) => {
  run(job).then(
    () => setTimeout(() => process.exit(0), 50),
    (error: unknown) => {
      send({ type: "error", message: error instanceof Error ? error.message : String(error) });
      setTimeout(() => process.exit(1), 50);
    },
  );
});
// Ready once onnxruntime is started, so the job's own model loads in a few ms.
await warmUpOnnxRuntime();
send({ type: "ready" });
