/** Client-safe shapes of evaluations and gates (what routes return and pages render). */
import type { QualityMetrics } from "./metrics";
import type { LatencyFigures } from "./score";

export type {
  ClassificationMetrics,
  ClassMetrics,
  QualityMetrics,
  RegressionMetrics,
} from "./metrics";
export type { LatencyFigures } from "./score";

export const EVALUATION_STATUSES = ["queued", "running", "succeeded", "failed"] as const;
export type EvaluationStatus = (typeof EVALUATION_STATUSES)[number];

export type ActorRef = { type: string; id: string | null; label: string };

export type EvaluationView = {
  id: string;
  model: string;
  modelId: string;
  version: number;
  versionId: string;
  dataset: string;
  datasetVersion: number;
  datasetVersionId: string;
  status: EvaluationStatus;
  task: "classification" | "regression";
  rowCount: number | null;
  metrics: QualityMetrics | null;
  latency: (LatencyFigures & { notes?: string[]; timings?: Record<string, number> }) | null;
  error: string | null;
  /** manual: a person or token through the API; job: a refresh job run (triggerRef: its id). */
  trigger: "manual" | "job";
  triggerRef: string | null;
  triggeredBy: ActorRef;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};
