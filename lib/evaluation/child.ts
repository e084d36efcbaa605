/**
 * The evaluation child process: `node --import tsx lib/evaluation/child.ts`, started by
 * runner.ts with an IPC channel (advanced serialization). It reads the dataset (its binary
 * form when the version has one, else it parses the original file), loads
 * the model in onnxruntime, scores every row and measures latency, then sends one result.
 * Everything heavy happens here, so the caller's event loop (web or scheduler) stays free,
 * and a runaway evaluation is ended with SIGKILL (see lib/onnx/load-check.ts for why not a
 * worker thread).
 */
import * as ort from "onnxruntime-node";
import { createScoringSession, warmUpOnnxRuntime } from "../onnx/scoring-session";
import { matrixEvaluationData, readDatasetMatrix } from "../datasets/matrix";
import { loadEvaluationData, type EvaluationData } from "../datasets/parse";
import { scoreDataset, type ModelRunner } from "./score";
import type { ChildMessage, ChildRequest } from "./runner-protocol";

const send = (message: ChildMessage) => process.send?.(message);

process.on("disconnect", () => process.exit(0));

async function run(job: ChildRequest): Promise<void> {
  const t0 = performance.now();
  // The binary form is read (one read call, off this thread) while the model loads: creating
  // the session holds this thread for tens of milliseconds. An unreadable binary form is not
  // fatal: the original file is the source of truth.
  const matrixRead = job.matrixPath ? readDatasetMatrix(job.matrixPath).catch(() => null) : null;
  const session = await createScoringSession(job.modelPath, job.threads);
  const loadedModel = performance.now();
  let data: EvaluationData | null = null;
  const matrix = await matrixRead;
  if (matrix) {
    // Typed-array views of one read; no parsing.
    data = matrixEvaluationData(
      matrix,
      job.plan.featureColumns,
      job.plan.labelColumn,
      job.plan.feeds.some((f) => f.dtype !== "float32"),
    );
  }
  const datasetSource = data ? "matrix" : "file";
  data ??= await loadEvaluationData(
    job.datasetPath,
    job.format,
    job.plan.featureColumns,
    job.plan.labelColumn,
  );
  const loadedData = performance.now();
  send({ type: "progress", phase: "loaded", done: data.rowCount, total: data.rowCount });
  const runner: ModelRunner = async (feeds, fetches) => {
    const input: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      input[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
    return (await session.run(input, fetches)) as never;
  };
  const result = await scoreDataset(data, job.plan, runner, {
    batchSize: job.batchSize,
    latencyRuns: job.latencyRuns,
    onProgress: (p) => send({ type: "progress", ...p }),
  });
  await session.release();
  send({
    type: "result",
    ...result,
    timings: {
      // The model loads first (the binary form's read runs beside it): the dataset's share
      // is what remained to wait for, or the whole parse of the original file.
      loadModelMs: loadedModel - t0,
      readDatasetMs: loadedData - loadedModel,
      scoreMs: performance.now() - loadedData,
      datasetSource,
    },
  });
}

process.once("message", (job: ChildRequest) => {
  run(job).then(
    () => process.exit(0),
    (error: unknown) => {
      send({ type: "error", message: error instanceof Error ? error.message : String(error) });
      // Let the message flush before exiting.
      setTimeout(() => process.exit(1), 50);
    },
  );
});
// Ready once onnxruntime is started, so the job's own model loads in a few ms.
await warmUpOnnxRuntime();
send({ type: "ready" });
