import { ApiError } from "../../api/errors";
import {
  checkDatasetFitsModel,
  describeMisfit,
  getDatasetVersion,
  loadEvaluationData,
  type DatasetVersionDetail,
  type EvaluationPlan,
} from "../../datasets";
import { withLocalFiles } from "../../evaluation/files";
import { encodeTruth } from "../../evaluation/score";
import { buildLinearRegressionModel, buildLogisticRegressionModel } from "../../onnx/build";
import type { OnnxSignature } from "../../onnx/types";
import { getModel, getVersion } from "../../registry";
import { registerVersionBytes } from "../../registry/upload";
import { trainLinearRegression } from "../../training/linear";
import { trainLogisticRegression } from "../../training/logistic";
import type { RetrainAction } from "../action-schema";
import { runEvaluateAndPromote } from "./evaluate";
import { RunFailure, type ActionContext } from "./types";

/**
 * Retrain with ModelDeck's own tabular trainer: multinomial logistic regression for a
 * classification model, ridge linear regression for a regression model, trained in this
 * process on the job's dataset version and written out as ONNX by lib/onnx/build. The new
 * model takes the same input (name, float32 [batch, F]) with the features in the same order
 * as the production version, which is its parent; a dataset that production could not score
 * is refused before anything is trained. Deterministic: the same dataset gives the same bytes,
 * so retraining unchanged data registers nothing new.
 */

/** Passes over the data of the logistic trainer (its default). */
const LOGISTIC_EPOCHS = 200;
/** L2 penalty (on standardised features) of both trainers. */
const L2 = 1e-4;
/**
 * Training runs on the scheduler's thread, so one training must stay short next to the run's
 * lease (30 s by default). Work is counted in inner-loop steps: rows × features × classes ×
 * epochs for logistic regression, rows × features² for the normal equations of linear
 * regression; about 10-15 ns each measured on a laptop-class CPU, so this cap is a few seconds.
 * Larger data is refused with a pointer to the external trainer.
 */
const MAX_WORK = 300_000_000;

export type BuiltinRetrainResult = {
  trainer: "builtin";
  algorithm: "logistic-regression" | "linear-regression";
  dataset: { name: string; version: number };
  parentVersion: number;
  parentVersionId: string;
  rows: number;
  features: string[];
  input: string;
  /** Training-set figures: accuracy and log loss, or RMSE, MAE and R². */
  training: Record<string, number | null>;
  durationMs: number;
  registered: { version: number; sha256: string; sizeBytes: number } | null;
  unchanged?: { sameAsVersion: number };
  evaluation?: unknown;
};

const fmt = (n: number | null | undefined, digits = 4) =>
  n === null || n === undefined ? "n/a" : Number(n.toFixed(digits)).toString();

async function datasetVersion(ctx: ActionContext<RetrainAction>): Promise<DatasetVersionDetail> {
  try {
    return await getDatasetVersion(ctx.db, ctx.action.dataset, ctx.action.datasetVersion ?? null);
  } catch (error) {
    if (error instanceof ApiError && error.code === "not_found") {
      throw new RunFailure(`${error.message.replace(/\.$/, "")}; nothing was trained.`);
    }
    throw error;
  }
}

/** The one [batch, F] float32 input the built-in models have, or why production has another. */
function singleTensorInput(plan: EvaluationPlan, parent: number): string {
  const problems: string[] = [];
  if (plan.feeds.length !== 1) {
    problems.push(
      `production v${parent} takes ${plan.feeds.length} inputs; the built-in trainer writes models with one [batch, features] input`,
    );
  } else {
    const feed = plan.feeds[0]!;
    if (feed.rank !== 2) {
      problems.push(
        `production v${parent}'s input "${feed.input}" is [batch]; the built-in trainer writes a [batch, features] input`,
      );
    }
    if (feed.dtype !== "float32") {
      problems.push(
        `production v${parent}'s input "${feed.input}" is ${feed.dtype}; the built-in trainer writes float32 inputs`,
      );
    }
  }
  if (problems.length > 0) {
    throw new RunFailure(
      `The built-in trainer cannot reproduce production's signature: ${describeMisfit(problems)}. Nothing was trained; use trainer "external".`,
    );
  }
  return plan.feeds[0]!.input;
}

/** feature_names of production's metadata, when it records them. */
function featureNamesOf(signature: OnnxSignature): string[] | null {
  const raw = signature.metadata?.feature_names;
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (Array.isArray(parsed)) return parsed.map(String);
  } catch {
    // not JSON: not a list we can compare
  }
  return null;
}

export async function builtinRetrain(
  ctx: ActionContext<RetrainAction>,
): Promise<BuiltinRetrainResult> {
  const { action } = ctx;
  const model = await getModel(ctx.db, ctx.job.model);
  if (model.task !== "classification" && model.task !== "regression") {
    throw new RunFailure(
      `Model ${model.name}'s task is "${model.task}"; the built-in trainer trains classification (logistic regression) or regression (linear regression) models. Nothing was trained.`,
    );
  }
  const production = await ctx.db.modelAlias.findFirst({
    where: { model: { name: ctx.job.model }, name: "production" },
    select: { version: { select: { id: true, version: true } } },
  });
  if (!production) {
    throw new RunFailure(
      `Model ${model.name} has no production version; the built-in trainer copies the production version's input signature and makes it the parent. Nothing was trained.`,
    );
  }
  const parentVersion = production.version.version;
  const parent = await getVersion(ctx.db, model.name, parentVersion);
  const signature = parent.signature as OnnxSignature;
  const dataset = await datasetVersion(ctx);
  const fit = checkDatasetFitsModel(dataset, signature, model.task);
  if (!fit.ok) {
    throw new RunFailure(
      `Dataset ${dataset.dataset} v${dataset.version} does not fit production v${parentVersion} of ${model.name}: ${describeMisfit(fit.problems)}. Nothing was trained.`,
    );
  }
  const plan = fit.plan;
  const input = singleTensorInput(plan, parentVersion);
  const features = plan.featureColumns;
  const parentFeatures = featureNamesOf(signature);
  if (parentFeatures && parentFeatures.join("\n") !== features.join("\n")) {
    throw new RunFailure(
      `Production v${parentVersion} takes the features ${JSON.stringify(parentFeatures)} in that order, but dataset ${dataset.dataset} v${dataset.version} maps ${JSON.stringify(features)}; the new version must read its input the same way. Nothing was trained.`,
    );
  }
  const epochs = model.task === "classification" ? LOGISTIC_EPOCHS : 1;
  const labelInfo = dataset.columns.find((c) => c.name === plan.labelColumn);
  const classGuess = Math.max(2, plan.classNames?.length ?? labelInfo?.values?.length ?? 2);
  const work =
    model.task === "classification"
      ? dataset.rowCount * features.length * classGuess * epochs
      : dataset.rowCount * features.length * features.length;
  if (work > MAX_WORK) {
    throw new RunFailure(
      `Dataset ${dataset.dataset} v${dataset.version} has ${dataset.rowCount} rows × ${features.length} features, more than the built-in trainer trains within a run's time on the scheduler; use trainer "external". Nothing was trained.`,
    );
  }
  for (const note of plan.notes) ctx.log(`Note: ${note}.`, "warn");

  const data = await withLocalFiles(ctx.store, [dataset.storageKey], ([file]) =>
    loadEvaluationData(file!, dataset.format, features, plan.labelColumn, ctx.signal),
  );
  ctx.signal.throwIfAborted();
  const F = features.length;
  const x = Array.from({ length: data.rowCount }, (_, i) =>
    Array.from(data.features.subarray(i * F, (i + 1) * F)),
  );
  const { yTrue, classes } = encodeTruth(data.labels, plan);
  const y = Array.from(yTrue);
  const algorithm = model.task === "classification" ? "logistic-regression" : "linear-regression";
  ctx.log(
    `Training ${algorithm === "logistic-regression" ? "multinomial logistic regression" : "linear regression (L2)"} on dataset ${dataset.dataset} v${dataset.version}: ${data.rowCount} rows, features ${features.join(", ")} → input "${input}", label ${plan.labelColumn}; parent: production v${parentVersion}.`,
  );

  const started = Date.now();
  const metadata = {
    trainer: "modeldeck-builtin",
    algorithm,
    training_dataset: `${dataset.dataset} v${dataset.version} (${dataset.sha256})`,
  };
  // The bytes depend on the data alone (no job, run or parent in them): unchanged data gives
  // the same model, which the registry recognises by sha256.
  let bytes: Buffer;
  let training: BuiltinRetrainResult["training"];
  try {
    if (algorithm === "logistic-regression") {
      const classLabels = plan.classNames ?? (plan.labelEncoding === "name" ? classes : null);
      const classCount = Math.max(classes?.length ?? 0, 2);
      const trained = trainLogisticRegression(x, y, {
        classes: classCount,
        epochs,
        l2: L2,
        seed: 42,
      });
      training = { trainAccuracy: trained.trainAccuracy, trainLogLoss: trained.trainLoss };
      bytes = buildLogisticRegressionModel({
        weights: trained.weights,
        bias: trained.bias,
        featureNames: features,
        ...(classLabels ? { classLabels } : {}),
        inputName: input,
        docString: "Multinomial logistic regression (ModelDeck built-in trainer)",
        metadata,
      });
      ctx.log(
        `Trained ${classCount} classes in ${Date.now() - started} ms: training accuracy ${fmt(trained.trainAccuracy)}, log loss ${fmt(trained.trainLoss)}.`,
      );
    } else {
      const trained = trainLinearRegression(x, y, { l2: L2 });
      training = {
        trainRmse: trained.trainRmse,
        trainMae: trained.trainMae,
        trainR2: trained.trainR2,
      };
      const valueOutput = signature.outputs?.find((o) => o.name === plan.valueOutput);
      bytes = buildLinearRegressionModel({
        weights: trained.weights,
        bias: trained.bias,
        featureNames: features,
        inputName: input,
        outputRank: valueOutput?.shape?.length === 1 ? 1 : 2,
        docString: "Linear regression with L2 (ModelDeck built-in trainer)",
        metadata,
      });
      ctx.log(
        `Trained in ${Date.now() - started} ms: training RMSE ${fmt(trained.trainRmse)}, MAE ${fmt(trained.trainMae)}, R² ${fmt(trained.trainR2)}.`,
      );
    }
  } catch (error) {
    if (error instanceof RunFailure) throw error;
    throw new RunFailure(
      `The built-in trainer could not train on dataset ${dataset.dataset} v${dataset.version}: ${error instanceof Error ? error.message : String(error)}. Nothing was registered.`,
    );
  }
  const durationMs = Date.now() - started;
  ctx.signal.throwIfAborted();

  const result: BuiltinRetrainResult = {
    trainer: "builtin",
    algorithm,
    dataset: { name: dataset.dataset, version: dataset.version },
    parentVersion,
    parentVersionId: production.version.id,
    rows: data.rowCount,
    features,
    input,
    training,
    durationMs,
    registered: null,
  };
  try {
    const version = await registerVersionBytes(ctx.db, ctx.store, ctx.actor, bytes, {
      modelName: model.name,
      originalFilename: "model.onnx",
      source: `retrain (built-in ${algorithm}): job ${ctx.job.name}, run ${ctx.run.id}`,
      description: `Retrained by job ${ctx.job.name} with the built-in ${algorithm} trainer on dataset ${dataset.dataset} v${dataset.version} from v${parentVersion}.`,
      lineage: { kind: "retrain", parentVersion },
    });
    result.registered = {
      version: version.version,
      sha256: version.sha256,
      sizeBytes: version.sizeBytes,
    };
    ctx.log(
      `Registered the trained model as v${version.version} (${version.sizeBytes} bytes, sha256 ${version.sha256.slice(0, 12)}…; lineage: retrain from v${parentVersion}).`,
    );
  } catch (error) {
    if (error instanceof ApiError && error.code === "conflict") {
      const same =
        (error.details as { existingVersion?: number } | undefined)?.existingVersion ?? 0;
      result.unchanged = { sameAsVersion: same };
      ctx.log(
        `The trained model has the same bytes as v${same} (same data, same result); nothing new was registered.`,
        "warn",
      );
      return result;
    }
    if (error instanceof ApiError) {
      throw new RunFailure(
        `The trained model could not be registered: ${error.message} Nothing was registered.`,
      );
    }
    throw error;
  }
  if (action.thenEvaluate) {
    try {
      result.evaluation = await runEvaluateAndPromote(ctx, {
        datasetName: dataset.dataset,
        datasetVersion: dataset.version,
        candidates: "newer-than-production",
      });
      const decision = result.evaluation as { reason?: string };
      if (decision.reason) ctx.log(decision.reason);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new RunFailure(
        `Registered v${result.registered.version}, then evaluation failed: ${message}`,
        { result },
      );
    }
  }
  return result;
}
