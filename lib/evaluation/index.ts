/**
 * The evaluation engine: scores model versions on datasets off the caller's event loop (a
 * child process), records metrics and latency, applies per-model promotion gates, and
 * offers `evaluateAndPromote`, the building block of the evaluate-and-promote refresh job.
 */
export {
  createEvaluation,
  DatasetMismatchError,
  evaluateVersion,
  evaluationTimeoutMs,
  failStaleEvaluations,
  getEvaluation,
  listEvaluations,
  runEvaluation,
  startEvaluation,
  STALE_AFTER_MS,
  type CreateEvaluationInput,
  type EvaluateVersionInput,
  type PreparedEvaluation,
  type RunEvaluationOptions,
} from "./evaluations";
export * from "./gate";
export { getGate, setGate, type GateView } from "./gates";
export {
  getMetricHistory,
  shapeMetricHistory,
  type MetricHistory,
  type MetricHistoryPoint,
  type MetricHistorySeries,
} from "./history";
export * from "./metrics";
export {
  evaluateAndPromote,
  MAX_CANDIDATES,
  type EvaluateAndPromoteCode,
  type EvaluateAndPromoteInput,
  type EvaluateAndPromoteResult,
} from "./promote";
export { EvaluationRunError, runEvaluationInChild, type RunResult } from "./runner";
export type { LatencyFigures, ModelRunner, ScoreResult } from "./score";
export * from "./types";
