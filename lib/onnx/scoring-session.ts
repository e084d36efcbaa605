import * as ort from "onnxruntime-node";

/**
 * An onnxruntime session for offline scoring in a child process (evaluations, batch
 * predictions): full graph optimisation, sequential execution, `threads` intra-op threads and
 * one inter-op thread (so a job's CPU use is what was configured), warnings and below off.
 */
export function createScoringSession(
  modelPath: string,
  threads: number,
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
}
