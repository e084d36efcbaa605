/**
 * Validation and introspection of an uploaded ONNX file, before a version exists: read its
 * signature (parse.ts: streaming, a 64 KiB window whatever the file's size, synchronous but
 * quick: about 10 ms for a typical model, 0.1–0.2 s for a 200,000-node graph), refuse what a
 * single file cannot carry, then prove onnxruntime loads it (load-check.ts: a child process
 * killed at the deadline; a Promise.race timeout would not stop onnxruntime's native load,
 * which blocks the JavaScript thread it runs on).
 * Server-only (node:fs, node:child_process); the types and compareSignatures are client-safe in
 * types.ts and compare.ts.
 */
import { OnnxValidationError } from "./errors";
import { checkOnnxLoads, DEFAULT_LOAD_TIMEOUT_MS, type SampleFeeds } from "./load-check";
import { parseOnnxFile } from "./parse";
import type { OnnxSignature } from "./types";

export { compareSignatures } from "./compare";
export { OnnxValidationError, type OnnxValidationReason } from "./errors";
export type { OnnxSignature, OnnxSignatureDiff, OnnxValueSignature } from "./types";

export interface InspectOptions {
  /** Time allowed for onnxruntime to load the model (default 30 s). */
  loadTimeoutMs?: number;
  /** Cancels the inspection (e.g. the upload was aborted); the load child is killed. */
  signal?: AbortSignal;
  /**
   * A request the model must also answer (an upload's sample request): given the signature, it
   * returns the feeds (or throws, e.g. when they do not fit the signature); onnxruntime then runs
   * them after loading, and a failure is reason `sample_failed`.
   */
  sample?: (signature: OnnxSignature) => SampleFeeds;
}

/**
 * The signature of the ONNX model at `filePath`, once it is known to be a complete,
 * self-contained model that onnxruntime loads. Throws OnnxValidationError (reason and a message
 * for the uploader) for anything else.
 */
export async function inspectOnnxFile(
  filePath: string,
  opts: InspectOptions = {},
): Promise<OnnxSignature> {
  const { signature, externalData } = await parseOnnxFile(filePath);
  if (externalData.length > 0) {
    const files = [...new Set(externalData.map((e) => e.location || "(unnamed)"))];
    const shown = files.slice(0, 3).join(", ") + (files.length > 3 ? ", …" : "");
    throw new OnnxValidationError(
      "external_data",
      `This model keeps ${externalData.length === 1 ? "a tensor" : `${externalData.length} tensors`} in separate files (${shown}), which a single-file upload cannot include. Save it with the weights inside the .onnx file (onnx.save_model(model, path, save_as_external_data=False)); that is possible below 2 GiB.`,
      { path: externalData[0]!.tensor },
    );
  }
  const sample = opts.sample?.(signature);
  await checkOnnxLoads(filePath, {
    timeoutMs: opts.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS,
    signal: opts.signal,
    ...(sample ? { sample } : {}),
  });
  return signature;
}
