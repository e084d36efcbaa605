/**
 * The training child process of the built-in trainer (lib/jobs/actions/builtin-trainer.ts),
 * started through lib/child-process with an IPC channel: it reads the dataset (its binary
 * form when that holds the exact values, else it parses the file), trains logistic or ridge
 * linear regression, writes the ONNX model with lib/onnx/build and sends its bytes back.
 * CPU-bound training here leaves the scheduler's event loop free (lease renewals, other
 * runs), and a training past its time limit or cancelled is ended with SIGKILL.
 */
import { matrixEvaluationData, readDatasetMatrix } from "../datasets/matrix";
import { loadEvaluationData, type EvaluationData } from "../datasets/parse";
import { encodeTruth } from "../evaluation/score";
import { buildLinearRegressionModel, buildLogisticRegressionModel } from "../onnx/build";
import type { TrainingMessage, TrainingRequest } from "./child-protocol";
import { trainLinearRegression } from "./linear";
import { trainLogisticRegression } from "./logistic";

const send = (message: TrainingMessage) => process.send?.(message);

process.on("disconnect", () => process.exit(0));

async function train(job: TrainingRequest): Promise<Extract<TrainingMessage, { type: "result" }>> {
  const { plan } = job;
  let data: EvaluationData | null = null;
  if (job.matrixPath) {
    // Exact values only: the same data must train the same bytes whichever form it came from.
    const matrix = await readDatasetMatrix(job.matrixPath).catch(() => null);
    data = matrix
      ? matrixEvaluationData(matrix, plan.featureColumns, plan.labelColumn, true)
      : null;
  }
  data ??= await loadEvaluationData(
    job.datasetPath,
    job.format,
    plan.featureColumns,
    plan.labelColumn,
  );
  send({ type: "progress", phase: "loaded", rows: data.rowCount });
  const F = plan.featureColumns.length;
  const x = Array.from({ length: data.rowCount }, (_, i) =>
    Array.from(data.features.subarray(i * F, (i + 1) * F)),
  );
  const { yTrue, classes } = encodeTruth(data.labels, plan);
  const y = Array.from(yTrue);
  const started = performance.now();
  const { model } = job;
  if (job.algorithm === "logistic-regression") {
    const classLabels = plan.classNames ?? (plan.labelEncoding === "name" ? classes : null);
    const classCount = Math.max(classes?.length ?? 0, 2);
    let lastSent = 0;
    const trained = trainLogisticRegression(x, y, {
      classes: classCount,
      epochs: job.epochs,
      l2: job.l2,
      seed: job.seed,
      onEpoch: (epoch, epochs) => {
        const now = performance.now();
        if (now - lastSent > 5000 || epoch === epochs) {
          lastSent = now;
          send({ type: "progress", phase: "epoch", epoch, epochs });
        }
      },
    });
    const bytes = buildLogisticRegressionModel({
      weights: trained.weights,
      bias: trained.bias,
      featureNames: model.featureNames,
      ...(classLabels ? { classLabels } : {}),
      inputName: model.inputName,
      docString: model.docString,
      metadata: model.metadata,
    });
    return {
      type: "result",
      bytes,
      rows: data.rowCount,
      classCount,
      training: { trainAccuracy: trained.trainAccuracy, trainLogLoss: trained.trainLoss },
      trainMs: performance.now() - started,
    };
  }
  const trained = trainLinearRegression(x, y, { l2: job.l2 });
  const bytes = buildLinearRegressionModel({
    weights: trained.weights,
    bias: trained.bias,
    featureNames: model.featureNames,
    inputName: model.inputName,
    outputRank: model.outputRank,
    docString: model.docString,
    metadata: model.metadata,
  });
  return {
    type: "result",
    bytes,
    rows: data.rowCount,
    classCount: null,
    training: {
      trainRmse: trained.trainRmse,
      trainMae: trained.trainMae,
      trainR2: trained.trainR2,
    },
    trainMs: performance.now() - started,
  };
}

process.once("message", (job: TrainingRequest) => {
  train(job).then(
    // Exit once the result has gone down the channel.
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) => {
      send({ type: "error", message: error instanceof Error ? error.message : String(error) });
      setTimeout(() => process.exit(1), 50);
    },
  );
});
send({ type: "ready" });
