/**
 * Runs one evaluation in a child process (child.ts, started through lib/child-process) with
 * a time limit and cancellation. Scoring, dataset reading and latency runs all happen there,
 * so the web process or the scheduler keeps answering while an evaluation runs, and a
 * runaway evaluation is SIGKILLed alone (lib/child-process/launcher.ts says why not a worker
 * thread).
 *
 * Every process that runs evaluations keeps one evaluation child started ahead of need
 * (`prestartEvaluationChild` at process start; replaced after each use or when it dies), so
 * an evaluation does not wait the ~0.2 s that node and onnxruntime take to start. Still one
 * evaluation per child: a second evaluation at once starts a child of its own.
 */
import { ChildRunError, type ChildFailureReason } from "../child-process/launcher";
import { WarmChildPool } from "../child-process/warm";
import type { ChildMessage, ChildRequest, ChildTimings } from "./runner-protocol";
import type { ScoreResult } from "./score";

/** Evaluations at once per process: each child takes a core while it scores. */
const MAX_CONCURRENT = 2;
export const DEFAULT_EVALUATION_TIMEOUT_MS = 15 * 60_000;

export type EvaluationFailureReason = ChildFailureReason;
/** Why an evaluation ended without a result (timeout, cancelled, failed, crashed). */
export const EvaluationRunError = ChildRunError;
export type EvaluationRunError = ChildRunError;

export type RunOptions = {
  /** Whole run, from the request reaching the child to its result (default 15 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: Extract<ChildMessage, { type: "progress" }>) => void;
  /** The child's pid, and whether it was the pre-started one. */
  onSpawn?: (pid: number, warm: boolean) => void;
  /**
   * Start the next warm child as soon as this run ends (default). False: the caller does
   * it (prestartEvaluationChild) once its own bookkeeping is done, since a node start beside
   * the result's database writes made them several times slower on two cores.
   */
  replenish?: boolean;
};

export type RunResult = ScoreResult & {
  timings: ChildTimings & {
    /** Time this evaluation waited for its child to be ready (0 for a ready warm child). */
    startMs: number;
    /** The child was started ahead of need. */
    warmChild: boolean;
  };
};

const ENTRY = { source: "lib/evaluation/child.ts", what: "evaluation" };
// One pool per process, shared by every copy of this module (Next.js bundles lib/ into its
// route chunks, while workers/web/main.ts imports it directly).
const POOL_KEY = Symbol.for("modeldeck.evaluation.warmChild");
type PoolHolder = { [POOL_KEY]?: WarmChildPool };

export function evaluationChildPool(): WarmChildPool {
  const holder = globalThis as PoolHolder;
  return (holder[POOL_KEY] ??= new WarmChildPool(ENTRY));
}

/** Starts the warm evaluation child (call at process start; later calls do nothing new). */
export function prestartEvaluationChild(): Promise<void> {
  return evaluationChildPool().replenish();
}

/** Kills the warm evaluation child and starts no more (process shutdown). */
export function stopEvaluationChildren(): void {
  (globalThis as PoolHolder)[POOL_KEY]?.close();
}

let active = 0;
const waiting: Array<() => void> = [];

async function acquire(signal?: AbortSignal): Promise<() => void> {
  while (active >= MAX_CONCURRENT) {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = waiting.indexOf(go);
        if (i >= 0) waiting.splice(i, 1);
        reject(asRunError(signal?.reason));
      };
      const go = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      waiting.push(go);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
  active++;
  return () => {
    active--;
    waiting.shift()?.();
  };
}

function asRunError(reason: unknown): ChildRunError {
  if (reason instanceof ChildRunError) return reason;
  const message = reason instanceof Error ? reason.message : String(reason ?? "cancelled");
  return new ChildRunError("cancelled", `The evaluation was cancelled (${message}).`);
}

/** Scores a model file on a dataset file in a child process; rejects with EvaluationRunError. */
export async function runEvaluationInChild(
  request: ChildRequest,
  options: RunOptions = {},
): Promise<RunResult> {
  if (options.signal?.aborted) throw asRunError(options.signal.reason);
  const release = await acquire(options.signal);
  const pool = evaluationChildPool();
  try {
    const asked = performance.now();
    const { child, warm } = await pool.take();
    if (child.pid !== undefined) options.onSpawn?.(child.pid, warm);
    const result = child.run<Extract<ChildMessage, { type: "result" }>, ChildMessage>(request, {
      timeoutMs: options.timeoutMs ?? DEFAULT_EVALUATION_TIMEOUT_MS,
      signal: options.signal,
      onMessage: (message) => {
        if (message.type === "progress") options.onProgress?.(message);
      },
    });
    // Waiting for a ready warm child costs nothing; a cold one costs its whole start.
    const readyAt = child.isReady
      ? Promise.resolve(0)
      : child.ready.then(() => performance.now() - asked);
    const { type: _type, timings, ...scored } = await result;
    return { ...scored, timings: { ...timings, startMs: await readyAt, warmChild: warm } };
  } finally {
    release();
    // The next evaluation's child starts after this one's work (not during it).
    if (options.replenish !== false) void pool.replenish();
  }
}
