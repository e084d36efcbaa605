import type { Actor } from "../../audit";
import type { PrismaClient } from "../../db/generated/client";
import type { ArtifactStore } from "../../storage";
import type { EvaluateAction } from "../action-schema";
import { RunFailure, type ActionContext } from "./types";

/**
 * The bridge to lib/evaluation, which is being written alongside this module. It is to export
 * `evaluateAndPromote(db, store, { modelName, datasetName, datasetVersion?, candidates, actor,
 * log, signal })`. Until that module exists, evaluate-and-promote runs (and an import's
 * `thenEvaluate` step) fail with a clear message instead of pretending to have evaluated.
 *
 * TODO(issue 5): once lib/evaluation/index.ts exports evaluateAndPromote, replace the dynamic
 * lookup below with a static import.
 */
export type EvaluateAndPromote = (
  db: PrismaClient,
  store: ArtifactStore,
  input: {
    modelName: string;
    datasetName: string;
    datasetVersion?: number;
    /** "newer-than-production" | "challenger", or explicit version numbers */
    candidates: "newer-than-production" | "challenger" | number[];
    actor: Actor;
    log: (line: string) => void;
    signal: AbortSignal;
  },
) => Promise<unknown>;

export const EVALUATION_UNAVAILABLE =
  "Evaluation is not available yet in this ModelDeck build (lib/evaluation has no evaluateAndPromote); nothing was evaluated or promoted.";

async function loadEvaluateAndPromote(): Promise<EvaluateAndPromote | null> {
  const specifier = new URL("../../evaluation/index.ts", import.meta.url).href;
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as {
      evaluateAndPromote?: EvaluateAndPromote;
    };
    return typeof mod.evaluateAndPromote === "function" ? mod.evaluateAndPromote : null;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return null;
    throw error;
  }
}

/** Runs lib/evaluation's evaluate-and-promote for a job, or fails clearly without it. */
export async function runEvaluateAndPromote(
  ctx: ActionContext,
  input: {
    datasetName: string;
    datasetVersion?: number;
    candidates: "newer-than-production" | "challenger" | number[];
  },
): Promise<unknown> {
  const evaluateAndPromote = await loadEvaluateAndPromote();
  if (!evaluateAndPromote) throw new RunFailure(EVALUATION_UNAVAILABLE, { retryable: false });
  return evaluateAndPromote(ctx.db, ctx.store, {
    modelName: ctx.job.model,
    datasetName: input.datasetName,
    ...(input.datasetVersion !== undefined ? { datasetVersion: input.datasetVersion } : {}),
    candidates: input.candidates,
    actor: ctx.actor,
    log: (line) => ctx.log(line),
    signal: ctx.signal,
  });
}

export async function evaluateAction(ctx: ActionContext<EvaluateAction>): Promise<unknown> {
  const { action } = ctx;
  ctx.log(
    `Evaluating ${action.candidates === "challenger" ? "the challenger" : "versions newer than production"} of ${ctx.job.model} on dataset ${action.dataset}${action.datasetVersion ? ` v${action.datasetVersion}` : ""}.`,
  );
  const decision = await runEvaluateAndPromote(ctx, {
    datasetName: action.dataset,
    ...(action.datasetVersion !== undefined ? { datasetVersion: action.datasetVersion } : {}),
    candidates: action.candidates,
  });
  return { decision };
}
