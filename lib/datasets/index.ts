/**
 * Datasets: labelled rows (CSV or JSONL) stored as immutable, content-addressed versions with
 * inferred column types and a mapping from columns to model inputs. No HTTP here: routes
 * validate input and call these functions with the request's actor.
 */
export * from "./datasets";
export * from "./fit";
export {
  decodeDatasetMatrix,
  encodeDatasetMatrix,
  matrixEvaluationData,
  readDatasetMatrix,
  type DatasetMatrix,
  type MatrixHeader,
} from "./matrix";
export * from "./names";
export {
  cellToNumber,
  loadEvaluationData,
  MAX_LISTED_PROBLEMS,
  PREVIEW_ROWS,
  readDataset,
  scanDataset,
  type EvaluationData,
  type ScanResult,
} from "./parse";
export * from "./types";
