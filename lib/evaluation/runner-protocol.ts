import type { EvaluationPlan } from "../datasets/fit";
import type { DatasetFormat } from "../datasets/types";
import type { ScoreResult } from "./score";

/** What runner.ts sends the evaluation child (one message). */
export type ChildRequest = {
  modelPath: string;
  datasetPath: string;
  /** The version's binary form (lib/datasets/matrix.ts), read instead of parsing the file. */
  matrixPath?: string | null;
  format: DatasetFormat;
  plan: EvaluationPlan;
  /** Rows per scoring run; default SCORING_BATCH (score.ts), or the model's fixed batch. */
  batchSize?: number;
  /** Most single-row latency runs; default and rule: LATENCY_RUNS (score.ts). */
  latencyRuns?: number;
  threads: number;
};

export type ChildTimings = {
  readDatasetMs: number;
  loadModelMs: number;
  scoreMs: number;
  /** Where the rows came from: the binary form, or parsing the original file. */
  datasetSource: "matrix" | "file";
};

/** What the child sends back: ready, progress (any number), then a result or an error. */
export type ChildMessage =
  | { type: "ready" }
  | { type: "progress"; phase: "loaded" | "scoring" | "latency"; done: number; total: number }
  | ({ type: "result"; timings: ChildTimings } & ScoreResult)
  | { type: "error"; message: string };
