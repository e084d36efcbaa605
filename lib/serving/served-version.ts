import * as ort from "onnxruntime-node";
import { predictionReadoutOf, type PredictionReadout } from "../onnx/readout";
import type { OnnxSignature } from "../onnx/types";
import { DynamicBatcher, type BatchResult, type Tensors } from "./batcher";
import { allocate, isBatchable, type OrtType } from "./protocol";
import { SYNTHETIC_WARM_UP } from "./sample-request";
import type { ServingSettings } from "./settings";

/**
 * One model version loaded in this process: a warmed onnxruntime session behind its own
 * dynamic batcher. Requests hold it while they run (`acquire`/`release`), so a version that a
 * promotion replaced is released only after its last request finished (drain, then dispose).
 */
export type VersionIdentity = {
  modelId: string;
  model: string;
  /** The model's task: decides how a prediction is read from the outputs (readout). */
  task: "classification" | "regression" | "other";
  versionId: string;
  version: number;
  sha256: string;
  /** Digest of the sample request it was warmed up with (null: none stored, synthetic warm-up). */
  sampleRequestSha256: string | null;
};

/** How a loaded version was warmed up (Triton's `model_warmup`, with a fallback). */
export type WarmUp = {
  /** `sample`: the version's stored sample request; `synthetic`: a request made from its signature. */
  source: "sample" | "synthetic";
  /**
   * Set when the synthetic request failed. Not a load failure: onnxruntime created the session,
   * and a model may rightly refuse zeros or length-1 dimensions yet answer real requests.
   */
  warning: string | null;
};

/** A version that cannot be served: its session could not be created, or its sample failed. */
export class VersionLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VersionLoadError";
  }
}

/** Warm-up failures are recorded by the caller; onnxruntime's own error log would repeat them. */
const QUIET_RUN: ort.InferenceSession.RunOptions = { logSeverityLevel: 4 };

export type SessionOptions = {
  /** onnxruntime intra-op threads (0 = onnxruntime's default, one per core). */
  intraOpThreads?: number;
};

export class ServedVersion {
  readonly batchable: boolean;
  /** How to read the prediction of each row (logged for live accuracy); null for task "other". */
  readonly readout: PredictionReadout | null;
  readonly batcher: DynamicBatcher;
  readonly loadedAt = new Date();
  private holders = 0;
  private retired = false;
  private disposed: Promise<void> | null = null;
  private onDisposed: (() => void) | null = null;

  private constructor(
    readonly id: VersionIdentity,
    readonly signature: OnnxSignature,
    private readonly session: ort.InferenceSession,
    settings: ServingSettings,
    readonly loadMs: number,
    readonly warmUp: WarmUp,
  ) {
    this.batchable = isBatchable(signature);
    const readout = id.task === "other" ? null : predictionReadoutOf(signature, id.task);
    this.readout = readout?.ok ? readout.readout : null;
    this.batcher = new DynamicBatcher(settings, this.batchable, (inputs) =>
      this.runSession(inputs),
    );
  }

  /**
   * Creates the session from the artifact's bytes and warms it up (the first run allocates and
   * plans; no client should pay for that): with `sample`, the feeds of the version's stored
   * sample request, else with a synthetic request from the signature. Throws VersionLoadError
   * when the session cannot be created or the sample fails; a failing synthetic request only
   * leaves a warning (`warmUp.warning`).
   */
  static async load(
    id: VersionIdentity,
    signature: OnnxSignature,
    bytes: Uint8Array,
    settings: ServingSettings,
    options: SessionOptions = {},
    sample: Tensors | null = null,
  ): Promise<ServedVersion> {
    const started = performance.now();
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        graphOptimizationLevel: "all",
        executionMode: "sequential",
        ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      });
    } catch (error) {
      throw new VersionLoadError(`onnxruntime cannot create a session: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const loadMs = performance.now() - started;
    let warmUp: WarmUp;
    try {
      if (sample) {
        try {
          await runOn(session, sample, QUIET_RUN);
        } catch (error) {
          throw new VersionLoadError(`Its stored sample request failed: ${messageOf(error)}`, {
            cause: error,
          });
        }
        warmUp = { source: "sample", warning: null };
      } else {
        warmUp = { source: "synthetic", warning: null };
        try {
          await runOn(session, warmUpInputs(signature), QUIET_RUN);
        } catch (error) {
          warmUp.warning = `The warm-up with ${SYNTHETIC_WARM_UP} failed: ${messageOf(error)}`;
        }
      }
    } catch (error) {
      await session.release();
      throw error;
    }
    return new ServedVersion(id, signature, session, settings, loadMs, warmUp);
  }

  updateSettings(settings: ServingSettings): void {
    this.batcher.updateSettings(settings);
  }

  /** Marks one more request as using this version; false if it was already released. */
  acquire(): boolean {
    if (this.retired) return false;
    this.holders++;
    return true;
  }

  release(): void {
    this.holders--;
    if (this.retired && this.holders === 0) void this.dispose();
  }

  infer(inputs: Tensors, rows: number): Promise<BatchResult> {
    return this.batcher.submit(inputs, rows);
  }

  /** No new requests; the session is released once the ones holding it are done. */
  retire(): Promise<void> {
    this.retired = true;
    if (this.holders === 0) return this.dispose();
    return new Promise((resolve) => (this.onDisposed = resolve));
  }

  get isRetired(): boolean {
    return this.retired;
  }

  private dispose(): Promise<void> {
    this.disposed ??= this.batcher
      .whenIdle()
      .then(() => this.session.release())
      .finally(() => this.onDisposed?.());
    return this.disposed;
  }

  private runSession(inputs: Tensors): Promise<Tensors> {
    return runOn(this.session, inputs);
  }
}

async function runOn(
  session: ort.InferenceSession,
  inputs: Tensors,
  options?: ort.InferenceSession.RunOptions,
): Promise<Tensors> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) {
    feeds[name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as never, t.dims);
  }
  const results = options ? await session.run(feeds, options) : await session.run(feeds);
  const out: Tensors = {};
  for (const [name, value] of Object.entries(results)) {
    out[name] = { type: value.type as OrtType, dims: [...value.dims], data: value.data as never };
  }
  return out;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Zeros (or empty strings) of the declared shape, symbolic dimensions set to 1. */
export function warmUpInputs(signature: OnnxSignature): Tensors {
  const inputs: Tensors = {};
  for (const input of signature.inputs) {
    if (input.kind !== "tensor" || !input.dtype) continue;
    const dims = (input.shape ?? [1]).map((d) => (typeof d === "number" && d >= 0 ? d : 1));
    const size = dims.reduce((a, b) => a * b, 1);
    const type = input.dtype as OrtType;
    const data = allocate(type, size);
    if (type === "string") (data as string[]).fill("");
    inputs[input.name] = { type, dims, data };
  }
  return inputs;
}
