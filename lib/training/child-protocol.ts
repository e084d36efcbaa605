import type { EvaluationPlan } from "../datasets/fit";
import type { DatasetFormat } from "../datasets/types";

/** What the built-in trainer sends the training child (lib/training/child.ts), once. */
export type TrainingRequest = {
  datasetPath: string;
  /** The dataset version's binary form, used when its values are exact (else the file is parsed). */
  matrixPath: string | null;
  format: DatasetFormat;
  plan: EvaluationPlan;
  algorithm: "logistic-regression" | "linear-regression";
  /** Logistic regression: passes over the data. */
  epochs: number;
  l2: number;
  seed: number;
  /** What the written ONNX model takes and records. */
  model: {
    inputName: string;
    featureNames: string[];
    /** Linear regression: [batch] (1) or [batch, 1] (2) output, as production has. */
    outputRank: 1 | 2;
    docString: string;
    metadata: Record<string, string>;
  };
};

/** What the training child sends back: ready, progress (any number), then a result or an error. */
export type TrainingMessage =
  | { type: "ready" }
  | { type: "progress"; phase: "loaded"; rows: number }
  | { type: "progress"; phase: "epoch"; epoch: number; epochs: number }
  | {
      type: "result";
      /** The ONNX model's bytes. */
      bytes: Uint8Array;
      rows: number;
      /** Logistic regression: the number of classes trained. */
      classCount: number | null;
      /** Training-set figures: accuracy and log loss, or RMSE, MAE and R². */
      training: Record<string, number | null>;
      trainMs: number;
    }
  | { type: "error"; message: string };
