import * as ort from "onnxruntime-node";
import { buildLogisticRegressionModel } from "./build";

/**
 * An onnxruntime session for offline scoring in a child process (evaluations, batch
 * predictions): full graph optimisation, sequential execution, `threads` intra-op threads and
 * one inter-op thread (so a job's CPU use is what was configured), warnings and below off.
 */
export function createScoringSession(
  modelPath: string | Uint8Array,
  threads: number,
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath as string, {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
}

/**
 * Pays onnxruntime's one-time start-up in a process before it has work: the first session a
 * process creates takes 35–40 ms longer than the next ones (measured with the bench MLP:
 * 41 ms, then 4 ms), and a child started ahead of need (lib/child-process/warm.ts) has that
 * time to spare, while an evaluation or batch job would wait for it.
 */
export async function warmUpOnnxRuntime(): Promise<void> {
  const tiny = buildLogisticRegressionModel({ weights: [[0, 0]], bias: [0, 0] });
  const session = await createScoringSession(tiny, 1);
  await session.release();
}
