import * as ort from "onnxruntime-node";
import { predictionReadoutOf, type PredictionReadout } from "../onnx/readout";
import type { OnnxSignature } from "../onnx/types";
import { DynamicBatcher, type BatchResult, type Tensors } from "./batcher";
import { allocate, isBatchable, type OrtType } from "./protocol";
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
};

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
  ) {
    this.batchable = isBatchable(signature);
    const readout = id.task === "other" ? null : predictionReadoutOf(signature, id.task);
    this.readout = readout?.ok ? readout.readout : null;
    this.batcher = new DynamicBatcher(settings, this.batchable, (inputs) =>
      this.runSession(inputs),
    );
  }

  /**
   * Creates the session from the artifact's bytes and warms it up with a synthetic request
   * (the first run allocates and plans; no client should pay for that). Throws when the
   * model does not load or the warm-up fails.
   */
  static async load(
    id: VersionIdentity,
    signature: OnnxSignature,
    bytes: Uint8Array,
    settings: ServingSettings,
    options: SessionOptions = {},
  ): Promise<ServedVersion> {
    const started = performance.now();
    const session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    });
    const served = new ServedVersion(id, signature, session, settings, performance.now() - started);
    try {
      await served.runSession(warmUpInputs(signature));
    } catch (error) {
      await session.release();
      throw new Error(`Warm-up request failed: ${(error as Error).message}`);
    }
    return served;
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

  private async runSession(inputs: Tensors): Promise<Tensors> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) {
      feeds[name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as never, t.dims);
    }
    const results = await this.session.run(feeds);
    const out: Tensors = {};
    for (const [name, value] of Object.entries(results)) {
      out[name] = { type: value.type as OrtType, dims: [...value.dims], data: value.data as never };
    }
    return out;
  }
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
