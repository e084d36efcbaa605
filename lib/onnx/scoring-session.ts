import * as ort from "onnxruntime-node";

/**
 * An onnxruntime session for offline scoring in a child process (evaluations, batch
 * predictions): full graph optimisation, sequential execution, `threads` intra-op threads and
 * one inter-op thread (so a job's CPU use is what was configured), warnings and below off.
 */
export function createScoringSession(
  model: string | Uint8Array,
  threads: number,
): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  };
  // Two calls, not one: create's overloads take a path or bytes, not a union of them.
  return typeof model === "string"
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options);
}

/**
 * Pays onnxruntime's one-time start-up in a process before it has work: the first session a
 * process creates takes 35–40 ms longer than the next ones (measured with the bench MLP:
 * 41 ms, then 4 ms), and a child started ahead of need (lib/child-process/warm.ts) has that
 * time to spare, while an evaluation or batch job would wait for it. Never rejects: should
 * onnxruntime fail here, the job's own session reports why.
 */
export async function warmUpOnnxRuntime(): Promise<void> {
  try {
    const session = await createScoringSession(Buffer.from(WARM_UP_MODEL, "base64"), 1);
    await session.release();
  } catch {
    // See above: the job's session creation fails with the real error.
  }
}

/**
 * `buildLogisticRegressionModel({ weights: [[0, 0]], bias: [0, 0] })` (lib/onnx/build.ts) as
 * bytes, so a child does not load protobufjs and the ONNX schema (about 0.1 s) to warm up;
 * scoring-session.test.ts checks the two still agree.
 */
export const WARM_UP_MODEL =
  "CAgSCW1vZGVsZGVjaxoFMC4xLjAyH011bHRpbm9taWFsIGxvZ2lzdGljIHJlZ3Jlc3Npb2464AIKJQoIZmVhdHVyZXMKAVcSBnNjb3JlcxoGbWF0bXVsIgZNYXRNdWwKIgoGc2NvcmVzCgFiEgZsb2dpdHMaCGFkZF9iaWFzIgNBZGQKNgoGbG9naXRzEg1wcm9iYWJpbGl0aWVzGgdzb2Z0bWF4IgdTb2Z0bWF4KgsKBGF4aXMYAaABAgo9CgZsb2dpdHMSBWxhYmVsGgZhcmdtYXgiBkFyZ01heCoLCgRheGlzGAGgAQIqDwoIa2VlcGRpbXMYAKABAhITbG9naXN0aWNfcmVncmVzc2lvbioTCAEIAhABQgFXSggAAAAAAAAAACoRCAIQAUIBYkoIAAAAAAAAAABaHwoIZmVhdHVyZXMSEwoRCAESDQoHEgViYXRjaAoCCAFiGAoFbGFiZWwSDwoNCAcSCQoHEgViYXRjaGIkCg1wcm9iYWJpbGl0aWVzEhMKEQgBEg0KBxIFYmF0Y2gKAggCQgQKABAR";
