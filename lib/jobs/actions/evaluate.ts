import { evaluateAndPromote, type EvaluateAndPromoteResult } from "../../evaluation";
import type { EvaluateAction } from "../action-schema";
import type { ActionContext } from "./types";

/**
 * The bridge to lib/evaluation's `evaluateAndPromote`: evaluates production and the
 * candidates on the job's dataset, applies the model's gate and promotes the best candidate
 * that passes it, under the job's actor. The run's result is the decision with every
 * criterion. Used by the evaluate-and-promote action and by the `thenEvaluate` step of
 * import and retrain (whose new versions are the newest, so "newer than production" are
 * exactly the candidates).
 */
export function runEvaluateAndPromote(
  ctx: ActionContext,
  input: {
    datasetName: string;
    datasetVersion?: number;
    candidates: "newer-than-production" | "challenger";
  },
): Promise<EvaluateAndPromoteResult> {
  return evaluateAndPromote(ctx.db, ctx.store, {
    modelName: ctx.job.model,
    datasetName: input.datasetName,
    datasetVersion: input.datasetVersion ?? null,
    candidates: input.candidates,
    actor: ctx.actor,
    log: (line) => ctx.log(line),
    signal: ctx.signal,
    trigger: { kind: "job", ref: ctx.run.id },
  });
}

export async function evaluateAction(
  ctx: ActionContext<EvaluateAction>,
): Promise<{ decision: EvaluateAndPromoteResult }> {
  const { action } = ctx;
  ctx.log(
    `Evaluating ${action.candidates === "challenger" ? "the challenger" : "versions newer than production"} of ${ctx.job.model} on dataset ${action.dataset}${action.datasetVersion ? ` v${action.datasetVersion}` : ""}.`,
  );
  const decision = await runEvaluateAndPromote(ctx, {
    datasetName: action.dataset,
    ...(action.datasetVersion !== undefined ? { datasetVersion: action.datasetVersion } : {}),
    candidates: action.candidates,
  });
  ctx.log(decision.reason);
  return { decision };
}
