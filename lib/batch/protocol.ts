import type { EvaluationPlan } from "../datasets/fit";
import type { DatasetFormat } from "../datasets/types";

/** What runner.ts sends the batch child (one message). */
export type BatchChildRequest = {
  modelPath: string;
  datasetPath: string;
  /** The dataset version's binary form (lib/datasets/matrix.ts), read instead of parsing. */
  matrixPath?: string | null;
  format: DatasetFormat;
  plan: EvaluationPlan;
  /** Where the child writes the output CSV (a local temp file the parent then stores). */
  outPath: string;
  batchSize: number;
  /** Rows between progress messages. */
  progressEvery: number;
  threads: number;
};

/** What the child sends back: ready, progress (any number), then done or an error. */
export type BatchChildMessage =
  | { type: "ready" }
  | { type: "progress"; done: number; total: number }
  | { type: "done"; rows: number; columns: string[] }
  | { type: "error"; message: string };
