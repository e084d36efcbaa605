/**
 * Raw batched `session.run` in a fresh process, measured the way the evaluation engine scores:
 * one intra-op thread, batches of `batch` rows (the engine's scoring batch unless told) as
 * views of a prebuilt Float32Array, the same untimed warm-up batches, then one timed pass over
 * every row. Prints {"rowsPerSecond": n}.
 *
 *   node --import tsx bench/evaluation/raw.ts <model.onnx> <features> <rows> [batch]
 */
import * as ort from "onnxruntime-node";
import { SCORING_BATCH, warmUpBatches } from "../../lib/evaluation/score";

const [file, featuresText, rowsText, batchText] = process.argv.slice(2);
const F = Number(featuresText);
const N = Number(rowsText);
const BATCH = batchText ? Number(batchText) : SCORING_BATCH;
const WARM_UP_BATCHES = warmUpBatches(BATCH);

const session = await ort.InferenceSession.create(file!, {
  graphOptimizationLevel: "all",
  executionMode: "sequential",
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
});
let seed = 3;
const data = Float32Array.from({ length: N * F }, () => {
  seed = (seed * 16807) % 2147483647;
  return (seed / 2147483647) * 4 - 2;
});
const input = session.inputNames[0]!;
const batch = (start: number) => {
  const count = Math.min(BATCH, N - start);
  return session.run({
    [input]: new ort.Tensor("float32", data.subarray(start * F, (start + count) * F), [count, F]),
  });
};
for (let b = 0; b < WARM_UP_BATCHES; b++) await batch(b * BATCH);
const t0 = performance.now();
for (let start = 0; start < N; start += BATCH) await batch(start);
const seconds = (performance.now() - t0) / 1000;
await session.release();
process.stdout.write(JSON.stringify({ rowsPerSecond: N / seconds }) + "\n");
