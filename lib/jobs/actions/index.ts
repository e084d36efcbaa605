import type { ActionType, JobAction } from "../action-schema";
import { evaluateAction } from "./evaluate";
import { importAction } from "./import";
import { retrainAction } from "./retrain";
import type { ActionContext, ActionHandler } from "./types";

export { RunFailure, jobActor, type ActionContext, type ActionHandler } from "./types";

/** The handler of every action type a job may name: `type → handler(ctx) → result JSON`. */
export const ACTION_HANDLERS: {
  [T in ActionType]: ActionHandler<Extract<JobAction, { type: T }>>;
} = {
  import: importAction,
  "evaluate-and-promote": evaluateAction,
  retrain: retrainAction,
};

export function handlerFor(action: JobAction): (ctx: ActionContext) => Promise<unknown> {
  return ACTION_HANDLERS[action.type] as (ctx: ActionContext) => Promise<unknown>;
}
