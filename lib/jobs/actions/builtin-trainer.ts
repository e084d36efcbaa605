import { ApiError } from "../../api/errors";
import { ChildRunError, launchChild } from "../../child-process/launcher";
import {
  checkDatasetFitsModel,
  describeMisfit,
  getDatasetMatrixKey,
  getDatasetVersion,
  type DatasetVersionDetail,
  type EvaluationPlan,
} from "../../datasets";
import { withLocalFiles } from "../../evaluation/files";
import type { OnnxSignature } from "../../onnx/types";
import { getModel, getVersion } from "../../registry";
import { registerVersionBytes } from "../../registry/upload";
import type { TrainingMessage, TrainingRequest } from "../../training/child-protocol";
import type { RetrainAction } from "../action-schema";
import { runEvaluateAndPromote } from "./evaluate";
import { RunFailure, type ActionContext } from "./types";

/**
 * Retrain with ModelDeck's own tabular trainer: multinomial logistic regression for a
 * classification model, ridge linear regression for a regression model, trained in a
 * child process (lib/training/child.ts, so the scheduler's event loop keeps renewing leases)
 * on the job's dataset version and written out as ONNX by lib/onnx/build, within the action's
 * time limit; a training that fails, is killed or runs past the limit registers nothing. The new
 * model takes the same input (name, float32 [batch, F]) with the features in the same order
 * as the production version, which is its parent; a dataset that production could not score
 * is refused before anything is trained. Deterministic: the same dataset gives the same bytes,
 * so retraining unchanged data registers nothing new.
 */

/** Passes over the data of the logistic trainer (its default). */
const LOGISTIC_EPOCHS = 200;
/** L2 penalty (on standardised features) of both trainers. */
const L2 = 1e-4;
/** The training child (lib/training/child.ts), started through lib/child-process. */
const TRAINING_CHILD = { source: "lib/training/child.ts", what: "training" };

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
  for (const note of plan.notes) ctx.log(`Note: ${note}.`, "warn");
  const algorithm = model.task === "classification" ? "logistic-regression" : "linear-regression";
  ctx.log(
    `Training ${algorithm === "logistic-regression" ? "multinomial logistic regression" : "linear regression (L2)"} on dataset ${dataset.dataset} v${dataset.version}: ${dataset.rowCount} rows, features ${features.join(", ")} → input "${input}", label ${plan.labelColumn}; parent: production v${parentVersion}; in a training process, time limit ${action.timeLimitSeconds} s.`,
  );

  const started = Date.now();
  const valueOutput = signature.outputs?.find((o) => o.name === plan.valueOutput);
  const request: TrainingRequest = {
    datasetPath: "",
    matrixPath: null,
    format: dataset.format,
    plan,
    algorithm,
    epochs,
    l2: L2,
    seed: 42,
    model: {
      inputName: input,
      featureNames: features,
      outputRank: valueOutput?.shape?.length === 1 ? 1 : 2,
      docString:
        algorithm === "logistic-regression"
          ? "Multinomial logistic regression (ModelDeck built-in trainer)"
          : "Linear regression with L2 (ModelDeck built-in trainer)",
      // The bytes depend on the data alone (no job, run or parent in them): unchanged data
      // gives the same model, which the registry recognises by sha256.
      metadata: {
        trainer: "modeldeck-builtin",
        algorithm,
        training_dataset: `${dataset.dataset} v${dataset.version} (${dataset.sha256})`,
      },
    },
  };
  const matrixKey = await getDatasetMatrixKey(ctx.db, dataset.id);
  let trained: Extract<TrainingMessage, { type: "result" }>;
  try {
    trained = await withLocalFiles(
      ctx.store,
      matrixKey ? [dataset.storageKey, matrixKey] : [dataset.storageKey],
      async ([datasetPath, matrixPath]) => {
        const child = await launchChild(TRAINING_CHILD);
        return child.run<Extract<TrainingMessage, { type: "result" }>, TrainingMessage>(
          { ...request, datasetPath: datasetPath!, matrixPath: matrixPath ?? null },
          {
            timeoutMs: action.timeLimitSeconds * 1000,
            signal: ctx.signal,
            onMessage: (m) => {
              if (m.type === "progress" && m.phase === "loaded") {
                ctx.log(`Training process ${child.pid} read ${m.rows} rows.`);
              } else if (m.type === "progress" && m.phase === "epoch") {
                ctx.log(
                  `Epoch ${m.epoch}/${m.epochs} (${Math.round((Date.now() - started) / 1000)} s).`,
                );
              }
            },
          },
        );
      },
      // The binary form is derived: without it the child reads the original file.
      { optional: matrixKey ? [matrixKey] : [] },
    );
  } catch (error) {
    // Stopped by the run itself (lease lost, shutdown): the executor reports why.
    if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
    const message = error instanceof Error ? error.message : String(error);
    throw new RunFailure(
      error instanceof ChildRunError && error.reason !== "failed"
        ? `${message.replace(/\.$/, "")}. Nothing was registered.`
        : `The built-in trainer could not train on dataset ${dataset.dataset} v${dataset.version}: ${message.replace(/\.$/, "")}. Nothing was registered.`,
    );
  }
  const bytes = Buffer.from(
    trained.bytes.buffer,
    trained.bytes.byteOffset,
    trained.bytes.byteLength,
  );
  const training = trained.training;
  if (algorithm === "logistic-regression") {
    ctx.log(
      `Trained ${trained.classCount} classes in ${Math.round(trained.trainMs)} ms: training accuracy ${fmt(training.trainAccuracy)}, log loss ${fmt(training.trainLogLoss)}.`,
    );
  } else {
    ctx.log(
      `Trained in ${Math.round(trained.trainMs)} ms: training RMSE ${fmt(training.trainRmse)}, MAE ${fmt(training.trainMae)}, R² ${fmt(training.trainR2)}.`,
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
    rows: trained.rows,
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
