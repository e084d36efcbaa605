/**
 * Runs one evaluation in a child process (child.ts) with a time limit and cancellation.
 *
 * Why a child process, not this event loop or a worker thread (measured in
 * lib/onnx/load-check.ts): onnxruntime's session creation runs synchronously on the calling
 * JavaScript thread, and Worker.terminate() during a native call aborts the whole process.
 * A child can be SIGKILLed at its deadline, crashes alone, and returns its memory on exit.
 * Scoring, CSV parsing and latency runs all happen there too, so the web process or the
 * scheduler keeps answering while an evaluation runs.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { ChildMessage, ChildRequest, ChildTimings } from "./runner-protocol";
import type { ScoreResult } from "./score";

/** Evaluations at once per process: each child takes a core while it scores. */
const MAX_CONCURRENT = 2;
const STARTUP_TIMEOUT_MS = 60_000;
export const DEFAULT_EVALUATION_TIMEOUT_MS = 15 * 60_000;

export type EvaluationFailureReason = "timeout" | "cancelled" | "failed" | "crashed";

export class EvaluationRunError extends Error {
  constructor(
    readonly reason: EvaluationFailureReason,
    message: string,
  ) {
    super(message);
    this.name = "EvaluationRunError";
  }
}

export type RunOptions = {
  /** Whole run, from the child being ready to its result (default 15 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: Extract<ChildMessage, { type: "progress" }>) => void;
  onSpawn?: (pid: number) => void;
};

export type RunResult = ScoreResult & { timings: ChildTimings & { startMs: number } };

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

function childEntry(): string {
  // Processes start in the project root; a bundler may rewrite import.meta.url.
  const candidates = [
    path.join(process.cwd(), "lib/evaluation/child.ts"),
    path.join(path.dirname(new URL(import.meta.url).pathname), "child.ts"),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error("lib/evaluation/child.ts was not found: start from the project root");
  return found;
}

type Bundle = { file: string; inputs: string[]; builtAt: number };
let bundle: Promise<Bundle | null> | undefined;

/**
 * child.ts and its imports bundled into one CommonJS file (esbuild, through its command line
 * so no bundler of the parent follows it), so the child starts as plain node: no tsx, about
 * 0.3 s less per evaluation on the benchmark machine (bench/evaluation). Rebuilt when one of
 * its inputs changed; null (run child.ts with tsx) when it cannot be built or when
 * MODELDECK_EVALUATION_CHILD_BUNDLE=0.
 */
async function childBundle(entry: string): Promise<string | null> {
  if (process.env.MODELDECK_EVALUATION_CHILD_BUNDLE === "0") return null;
  const current = await (bundle ?? Promise.resolve(null));
  if (current) {
    const stale = await Promise.all(
      current.inputs.map((f) =>
        stat(f).then(
          (s) => s.mtimeMs > current.builtAt,
          () => true,
        ),
      ),
    );
    if (!stale.includes(true)) return current.file;
    bundle = undefined;
  } else if (bundle) {
    return null; // tried, and it could not be built
  }
  bundle ??= buildChildBundle(entry);
  return (await bundle)?.file ?? null;
}

async function buildChildBundle(entry: string): Promise<Bundle | null> {
  const cli = path.join(process.cwd(), "node_modules/esbuild/bin/esbuild");
  // Inside node_modules, so the external onnxruntime-node resolves from the bundle.
  const dir = path.join(process.cwd(), "node_modules/.cache/modeldeck-evaluation");
  // Built under a name of its own, then renamed to one named by its content: processes that
  // build at once never see a half-written file, and the directory holds one file per
  // version of the sources rather than one per process.
  const temp = path.join(dir, `child-${process.pid}-${Date.now()}.tmp`);
  const meta = `${temp}.meta.json`;
  try {
    if (!existsSync(cli)) return null;
    await mkdir(dir, { recursive: true });
    const builtAt = Date.now();
    await new Promise<void>((resolve, reject) =>
      // bin/esbuild is the native executable once installed (a node launcher script on some
      // platforms, which runs the same through its shebang).
      execFile(
        cli,
        [
          entry,
          "--bundle",
          "--platform=node",
          "--format=cjs",
          "--target=node20",
          "--external:onnxruntime-node",
          "--log-level=error",
          `--outfile=${temp}`,
          `--metafile=${meta}`,
        ],
        { cwd: process.cwd(), timeout: 30_000 },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    const inputs = Object.keys(
      (JSON.parse(await readFile(meta, "utf8")) as { inputs: Record<string, unknown> }).inputs,
    ).map((f) => path.resolve(process.cwd(), f));
    const hash = createHash("sha256")
      .update(await readFile(temp))
      .digest("hex")
      .slice(0, 16);
    const file = path.join(dir, `child-${hash}.cjs`);
    await rename(temp, file);
    return { file, inputs, builtAt };
  } catch {
    return null;
  } finally {
    await rm(temp, { force: true });
    await rm(meta, { force: true });
  }
}

function asRunError(reason: unknown): EvaluationRunError {
  if (reason instanceof EvaluationRunError) return reason;
  const message = reason instanceof Error ? reason.message : String(reason ?? "cancelled");
  return new EvaluationRunError("cancelled", `The evaluation was cancelled (${message}).`);
}

const seconds = (ms: number) => (ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`);

/** Scores a model file on a dataset file in a child process; rejects with EvaluationRunError. */
export async function runEvaluationInChild(
  request: ChildRequest,
  options: RunOptions = {},
): Promise<RunResult> {
  if (options.signal?.aborted) throw asRunError(options.signal.reason);
  const release = await acquire(options.signal);
  try {
    const entry = childEntry();
    const bundled = await childBundle(entry);
    return await spawnChild(request, options, bundled ? [bundled] : ["--import", "tsx", entry]);
  } finally {
    release();
  }
}

function spawnChild(
  request: ChildRequest,
  options: RunOptions,
  args: string[],
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_EVALUATION_TIMEOUT_MS;
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The parent's --import hooks (vitest, Next) are not what the child needs; tsx is.
  delete env.NODE_OPTIONS;
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: process.cwd(),
    env,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "advanced",
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);

  return new Promise<RunResult>((resolve, reject) => {
    let settled = false;
    let ready = false;
    let startMs = 0;
    let stderr = "";
    let timer = setTimeout(
      () =>
        finish(
          new EvaluationRunError(
            "failed",
            `The evaluation process did not start within ${seconds(STARTUP_TIMEOUT_MS)}.`,
          ),
        ),
      STARTUP_TIMEOUT_MS,
    );
    const finish = (error: Error | null, result?: RunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      if (error) reject(error);
      else resolve(result!);
    };
    const onAbort = () => finish(asRunError(options.signal?.reason));
    options.signal?.addEventListener("abort", onAbort, { once: true });

    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      if (stderr.length < 8192) stderr += chunk;
    });
    child.on("error", (error) =>
      finish(new EvaluationRunError("failed", `Could not start the evaluation: ${error.message}`)),
    );
    child.on("message", (message: ChildMessage) => {
      if (message.type === "ready") {
        ready = true;
        startMs = performance.now() - started;
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            finish(
              new EvaluationRunError(
                "timeout",
                `The evaluation did not finish within ${seconds(timeoutMs)}; it was stopped.`,
              ),
            ),
          timeoutMs,
        );
        child.send(request);
      } else if (message.type === "progress") {
        options.onProgress?.(message);
      } else if (message.type === "result") {
        const { type: _type, timings, ...result } = message;
        finish(null, { ...result, timings: { ...timings, startMs } });
      } else if (message.type === "error") {
        finish(new EvaluationRunError("failed", message.message));
      }
    });
    child.on("exit", (code, signal) => {
      if (settled) return;
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      const detail = stderr.trim().split("\n").slice(-5).join(" ").slice(0, 1000);
      finish(
        new EvaluationRunError(
          ready ? "crashed" : "failed",
          ready
            ? `The evaluation process died (${how})${detail ? `: ${detail}` : "."}`
            : `The evaluation process could not start (${how})${detail ? `: ${detail}` : "."}`,
        ),
      );
    });
  });
}
