import { z } from "zod";

/**
 * What a refresh job does when it fires, as stored in `refresh_job.action` and copied onto
 * each run. One zod schema per action type; the JSON API and the job form share them.
 * Kept free of Node imports so the UI can use the types.
 */

export const ACTION_TYPES = ["evaluate-and-promote", "import", "retrain"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export const ACTION_LABELS: Record<ActionType, string> = {
  "evaluate-and-promote": "Evaluate and promote",
  import: "Import new versions",
  retrain: "Retrain",
};

const DATASET_NAME = /^[a-z0-9][a-z0-9-_.]{0,62}$/;
const datasetName = z
  .string()
  .regex(DATASET_NAME, "must be a dataset name (1-63 characters of a-z, 0-9, '-', '_' or '.')");
const datasetVersion = z.number().int().min(1).max(2_147_483_647);

/**
 * A directory below `${MODELDECK_DATA_DIR}/imports`, written relative to it ("incoming",
 * "team-a/exports"). Absolute paths and `..` segments are refused here; at run time the
 * resolved real path must still be inside the imports directory (no symlinks out of it).
 */
export const importDirectorySchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(255, "must be at most 255 characters")
  .refine((d) => !d.startsWith("/") && !d.startsWith("\\") && !/^[a-zA-Z]:/.test(d), {
    message: "must be relative to the imports directory, not an absolute path",
  })
  .refine((d) => !d.split(/[\\/]+/).includes(".."), {
    message: "must not contain '..' (it must stay inside the imports directory)",
  })
  .refine((d) => !/[\u0000-\u001f]/.test(d), { message: "must not contain control characters" });

export const evaluateStepSchema = z
  .object({
    dataset: datasetName,
    datasetVersion: datasetVersion.optional(),
  })
  .strict();

export const importActionSchema = z
  .object({
    type: z.literal("import"),
    directory: importDirectorySchema,
    /** After importing, evaluate the new versions and promote the best that passes the gate. */
    thenEvaluate: evaluateStepSchema.optional(),
  })
  .strict();

export const CANDIDATE_SETS = ["newer-than-production", "challenger"] as const;

export const evaluateActionSchema = z
  .object({
    type: z.literal("evaluate-and-promote"),
    dataset: datasetName,
    datasetVersion: datasetVersion.optional(),
    /** Which versions compete with production: every newer ready version, or the challenger alias. */
    candidates: z.enum(CANDIDATE_SETS).default("newer-than-production"),
  })
  .strict();

export const MAX_TRAINER_SECONDS = 24 * 3600;

export const retrainActionSchema = z
  .object({
    type: z.literal("retrain"),
    /**
     * `external`: the trainer command an admin configured (MODELDECK_TRAINER_COMMAND); a job
     * never carries a command of its own. `builtin`: ModelDeck's own tabular trainer.
     */
    trainer: z.enum(["external", "builtin"]).default("external"),
    dataset: datasetName,
    datasetVersion: datasetVersion.optional(),
    /** The trainer is killed after this many seconds and the run fails. */
    timeLimitSeconds: z.number().int().min(1).max(MAX_TRAINER_SECONDS).default(1800),
    thenEvaluate: z.boolean().default(false),
  })
  .strict();

export const jobActionSchema = z.discriminatedUnion("type", [
  evaluateActionSchema,
  importActionSchema,
  retrainActionSchema,
]);

export type JobAction = z.output<typeof jobActionSchema>;
export type JobActionInput = z.input<typeof jobActionSchema>;
export type ImportAction = z.output<typeof importActionSchema>;
export type EvaluateAction = z.output<typeof evaluateActionSchema>;
export type RetrainAction = z.output<typeof retrainActionSchema>;

/** One line for tables: "Import from incoming/", "Evaluate on iris-holdout"… */
export function describeAction(action: JobAction): string {
  switch (action.type) {
    case "import":
      return `Import .onnx files from imports/${action.directory}${action.thenEvaluate ? `, then evaluate on ${action.thenEvaluate.dataset}` : ""}`;
    case "evaluate-and-promote":
      return `Evaluate ${action.candidates === "challenger" ? "the challenger" : "newer versions"} on ${action.dataset} and promote`;
    case "retrain":
      return `Retrain (${action.trainer} trainer) on ${action.dataset}`;
  }
}

/** How many times a run of this action may be tried (imports are idempotent: retried). */
export function maxAttemptsFor(action: JobAction): number {
  return action.type === "import" ? 3 : 1;
}

/** Backoff before retry number `attempt` (2 → 5 s, 3 → 10 s, …, at most 5 min). */
export function retryDelayMs(nextAttempt: number, baseMs = 5_000): number {
  return Math.min(300_000, baseMs * 2 ** Math.max(0, nextAttempt - 2));
}
