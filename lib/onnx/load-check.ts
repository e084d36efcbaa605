/**
 * Proves onnxruntime can load a model, in a child process with a time limit.
 *
 * Why a child process (measured with a 320 MiB model, onnxruntime-node 1.30, Node 20):
 * - In-process, InferenceSession.create runs the whole native load synchronously on the
 *   JavaScript thread (after a setImmediate): a 10 ms timer fired 1.25 s late, so a
 *   Promise.race timeout cannot even fire before the load ends, and the server is frozen.
 * - A worker thread keeps the event loop free, but Worker.terminate() during the load aborts
 *   the whole process ("terminate called after throwing an instance of 'Napi::Error'", exit
 *   134): a timeout would kill the server. A crash inside the native library would too.
 * - A child process can be SIGKILLed at the deadline, crashes alone, and hands back all the
 *   memory the load used (about twice the model's size: 718 MB peak for the 320 MiB model)
 *   when it exits. Starting Node and onnxruntime costs about 0.1 s per check.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { OnnxValidationError } from "./errors";

export const DEFAULT_LOAD_TIMEOUT_MS = 30_000;
/** Starting Node and importing onnxruntime takes about 0.1 s; far longer means a broken host. */
const STARTUP_TIMEOUT_MS = 60_000;
/** Loading can need several times the model's size in memory: few at a time. */
const MAX_CONCURRENT_LOADS = 2;

export interface LoadCheckOptions {
  /** Deadline for the load itself, from when onnxruntime is ready in the child. */
  timeoutMs?: number;
  /** Stops the check (the child is killed); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with the child's pid once it exists (tests use it to check it is gone). */
  onSpawn?: (pid: number) => void;
  /**
   * Feeds to run once the session exists (a version's sample request): the check then also
   * proves that the model answers them, and fails with reason `sample_failed` if it does not.
   */
  sample?: SampleFeeds;
}

/** onnxruntime feeds as plain data: `type` an onnxruntime tensor type, `data` its typed array. */
export type SampleFeeds = Record<
  string,
  { type: string; dims: readonly number[]; data: ArrayLike<unknown> }
>;

export interface LoadCheckResult {
  inputNames: string[];
  outputNames: string[];
  /** Time onnxruntime took to create the session. */
  loadMs: number;
  /** Peak resident memory of the child process, loading included. */
  childMaxRssBytes: number;
  /** The outputs the sample produced (name and shape), when a sample was given. */
  sampleOutputs?: Array<{ name: string; dims: number[] }>;
}

/** Message protocol: the child says "ready" once onnxruntime is imported, then one result. */
type ChildMessage =
  | { type: "ready" }
  | {
      type: "loaded";
      inputNames: string[];
      outputNames: string[];
      loadMs: number;
      maxRss: number;
      sampleOutputs?: Array<{ name: string; dims: number[] }>;
    }
  | { type: "refused"; message: string }
  | { type: "sample_failed"; message: string };

// CommonJS run with `node -e`; nothing but onnxruntime-node is needed, so this works the same
// under tsx, vitest and the Next.js server build. Default optimisations ("all"), as serving
// loads models: what loads here loads there (the levels made no measurable difference).
// A sample arrives as a message once the child is ready (structured clone keeps typed arrays).
const CHILD_SOURCE = `
"use strict";
process.on("disconnect", () => process.exit(0));
let receiveSample;
const sample = new Promise((resolve) => (receiveSample = resolve));
process.on("message", (message) => {
  if (message && message.type === "sample") receiveSample(message.inputs);
});
const ort = require(process.env.MODELDECK_ORT_MODULE);
process.send({ type: "ready" });
(async () => {
  const started = Date.now();
  let session;
  try {
    session = await ort.InferenceSession.create(process.env.MODELDECK_ONNX_FILE, {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      enableCpuMemArena: false,
      logSeverityLevel: 3,
    });
  } catch (error) {
    process.send({ type: "refused", message: String((error && error.message) || error) });
    return;
  }
  const loadMs = Date.now() - started;
  const { inputNames, outputNames } = session;
  let sampleOutputs;
  if (process.env.MODELDECK_RUN_SAMPLE === "1") {
    const inputs = await sample;
    const feeds = {};
    for (const name of Object.keys(inputs)) {
      const t = inputs[name];
      feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
    try {
      const results = await session.run(feeds);
      sampleOutputs = Object.keys(results).map((name) => ({
        name,
        dims: Array.from(results[name].dims),
      }));
    } catch (error) {
      process.send({ type: "sample_failed", message: String((error && error.message) || error) });
      return;
    }
  }
  await session.release();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  process.send({ type: "loaded", inputNames, outputNames, loadMs, maxRss, sampleOutputs });
})().catch((error) => {
  process.send({ type: "refused", message: String((error && error.message) || error) });
});
`;

let active = 0;
const waiting: Array<() => void> = [];

async function acquire(): Promise<() => void> {
  if (active >= MAX_CONCURRENT_LOADS) await new Promise<void>((r) => waiting.push(r));
  active++;
  return () => {
    active--;
    waiting.shift()?.();
  };
}

let ortModule: string | undefined;

/** onnxruntime-node's entry file, for the child's require(). */
function ortModulePath(): string {
  if (ortModule) return ortModule;
  const bases = [import.meta.url, path.join(process.cwd(), "package.json")];
  for (const base of bases) {
    try {
      ortModule = createRequire(base).resolve("onnxruntime-node");
      return ortModule;
    } catch {
      // Bundlers may rewrite import.meta.url; the processes start in the project root.
    }
  }
  throw new Error("onnxruntime-node is not installed: cannot check that models load");
}

/**
 * Loads the model with onnxruntime in a child process. Resolves with what the runtime saw;
 * rejects with OnnxValidationError `load_failed` (refused or crashed) or `load_timeout`, or a
 * plain Error when onnxruntime itself cannot start (a server problem, not the model's).
 */
export async function checkOnnxLoads(
  filePath: string,
  opts: LoadCheckOptions = {},
): Promise<LoadCheckResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  opts.signal?.throwIfAborted();
  const release = await acquire();
  try {
    opts.signal?.throwIfAborted(); // cancelled while waiting for a slot
    return await runChild(path.resolve(filePath), timeoutMs, opts);
  } finally {
    release();
  }
}

function runChild(file: string, timeoutMs: number, opts: LoadCheckOptions) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MODELDECK_ONNX_FILE: file,
    MODELDECK_ORT_MODULE: ortModulePath(),
    MODELDECK_RUN_SAMPLE: opts.sample ? "1" : "0",
  };
  // The parent's --import hooks (tsx, vitest) would only slow the child down.
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ["-e", CHILD_SOURCE], {
    env,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    // Structured clone: a sample's typed arrays (BigInt64Array included) arrive as they are.
    serialization: "advanced",
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);

  return new Promise<LoadCheckResult>((resolve, reject) => {
    let ready = false;
    let settled = false;
    let stderr = "";
    const startup = () =>
      finish(new Error(`onnxruntime did not start within ${formatSeconds(STARTUP_TIMEOUT_MS)}`));
    let timer = setTimeout(startup, STARTUP_TIMEOUT_MS);
    const finish = (error: Error | null, result?: LoadCheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      // SIGKILL: a load stuck in native code ignores anything gentler.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      if (error) reject(error);
      else resolve(result!);
    };
    const onAbort = () => finish(toError(opts.signal?.reason));
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      if (stderr.length < 8192) stderr += chunk;
    });
    child.on("error", (error) => finish(error));
    child.on("message", (message: ChildMessage) => {
      if (message.type === "ready") {
        ready = true;
        if (opts.sample) {
          // An error here means the child is gone; its exit handler reports why.
          child.send({ type: "sample", inputs: opts.sample }, () => undefined);
        }
        clearTimeout(timer);
        timer = setTimeout(() => {
          finish(
            new OnnxValidationError(
              "load_timeout",
              `onnxruntime did not finish loading the model${opts.sample ? " and running its sample request" : ""} within ${formatSeconds(timeoutMs)}; it was stopped. A model this slow to load is not accepted.`,
            ),
          );
        }, timeoutMs);
      } else if (message.type === "loaded") {
        finish(null, {
          inputNames: message.inputNames,
          outputNames: message.outputNames,
          loadMs: message.loadMs,
          childMaxRssBytes: message.maxRss,
          ...(message.sampleOutputs ? { sampleOutputs: message.sampleOutputs } : {}),
        });
      } else if (message.type === "sample_failed") {
        const runtime = cleanRuntimeMessage(message.message, file);
        finish(
          new OnnxValidationError(
            "sample_failed",
            `onnxruntime loads this model, but the sample request fails on it: ${runtime}`,
            { runtimeMessage: runtime },
          ),
        );
      } else if (message.type === "refused") {
        const runtime = cleanRuntimeMessage(message.message, file);
        finish(
          new OnnxValidationError("load_failed", `onnxruntime cannot load this model: ${runtime}`, {
            runtimeMessage: runtime,
          }),
        );
      }
    });
    child.on("exit", (code, signal) => {
      if (settled) return;
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      if (ready) {
        // onnxruntime was running and the process died: the model crashed (or exhausted) it.
        finish(
          new OnnxValidationError(
            "load_failed",
            `onnxruntime crashed while loading this model (${how}).`,
            { runtimeMessage: stderr.trim().slice(0, 2000) },
          ),
        );
      } else {
        finish(
          new Error(`Could not start onnxruntime to check the model (${how}): ${stderr.trim()}`),
        );
      }
    });
  });
}

/** Drops the server-side path and onnxruntime's boilerplate from its error text. */
export function cleanRuntimeMessage(message: string, file: string): string {
  let text = message.split(file).join("the file");
  text = text.replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*[A-Z_]+\s*:\s*/, "");
  text = text.replace(/^Load model from the file failed:\s*/i, "");
  text = text.trim();
  if (text.length > 1000) text = `${text.slice(0, 1000)}…`;
  return text || "no reason given.";
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason ?? "aborted"));
}
