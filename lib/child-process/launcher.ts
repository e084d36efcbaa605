/**
 * One way to run heavy work (evaluation scoring, built-in training) in a child Node process:
 * the child is a TypeScript entry in lib/ (e.g. lib/evaluation/child.ts), started as plain
 * node from an esbuild bundle of it (tsx as the fallback), with an IPC channel.
 *
 * Why a child process, not this event loop or a worker thread (measured in
 * lib/onnx/load-check.ts): onnxruntime's session creation runs synchronously on the calling
 * JavaScript thread, Worker.terminate() during a native call aborts the whole process, and
 * CPU-bound training would stall the scheduler's lease renewals. A child can be SIGKILLed at
 * its deadline, crashes alone, and returns its memory on exit.
 *
 * Protocol (advanced serialization, so typed arrays and Uint8Arrays cross as they are): the
 * child sends `{ type: "ready" }` once its imports are loaded (and, for the onnxruntime
 * children, onnxruntime started: lib/onnx/scoring-session.ts); the parent sends one request;
 * the child sends any number of other messages, then `{ type: "result", ... }` or
 * `{ type: "error", message }`, and exits. A child may be started ahead of need (warm.ts):
 * it waits for its request.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";

const STARTUP_TIMEOUT_MS = 60_000;

export type ChildFailureReason = "timeout" | "cancelled" | "failed" | "crashed";

/** Why a child's work did not produce a result: stopped at its limit, cancelled, an error it reported, or it died. */
export class ChildRunError extends Error {
  constructor(
    readonly reason: ChildFailureReason,
    message: string,
  ) {
    super(message);
    this.name = "ChildRunError";
  }
}

/** What a child entry is called in messages ("evaluation", "training") and where it lives. */
export type ChildEntry = {
  /** Project-relative path of the TypeScript entry, e.g. "lib/evaluation/child.ts". */
  source: string;
  /** Names the work in messages: "The <what> process died …". */
  what: string;
};

type Bundle = { file: string; inputs: string[]; builtAt: number };
const bundles = new Map<string, Promise<Bundle | null>>();

function entryPath(entry: ChildEntry): string {
  // Processes start in the project root; a bundler may rewrite import.meta.url. The entry is
  // run by a separate node process from the checkout, never bundled into the web build, so
  // Next's file tracing must not follow these paths (it would trace the whole project).
  const candidates = [
    path.join(/*turbopackIgnore: true*/ process.cwd(), entry.source),
    path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..", entry.source),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`${entry.source} was not found: start from the project root`);
  return found;
}

/**
 * The node arguments that start `entry`: its esbuild bundle when it can be built (no tsx, about
 * 0.3 s less per start on the benchmark machine), else `--import tsx <entry>`. The bundle is
 * rebuilt when one of its inputs changed. MODELDECK_CHILD_BUNDLE=0 (or the older
 * MODELDECK_EVALUATION_CHILD_BUNDLE=0) always uses tsx.
 */
export async function childCommand(entry: ChildEntry): Promise<string[]> {
  const file = entryPath(entry);
  const tsx = ["--import", "tsx", file];
  if (
    process.env.MODELDECK_CHILD_BUNDLE === "0" ||
    process.env.MODELDECK_EVALUATION_CHILD_BUNDLE === "0"
  ) {
    return tsx;
  }
  const pending = bundles.get(file);
  const current = await (pending ?? Promise.resolve(null));
  if (current) {
    const stale = await Promise.all(
      current.inputs.map((f) =>
        stat(f).then(
          (s) => s.mtimeMs > current.builtAt,
          () => true,
        ),
      ),
    );
    if (!stale.includes(true)) return [current.file];
    bundles.delete(file);
  } else if (pending) {
    return tsx; // tried, and it could not be built
  }
  if (!bundles.has(file)) bundles.set(file, buildBundle(file, entry));
  const built = await bundles.get(file)!;
  return built ? [built.file] : tsx;
}

async function buildBundle(file: string, entry: ChildEntry): Promise<Bundle | null> {
  const cli = path.join(process.cwd(), "node_modules/esbuild/bin/esbuild");
  // Inside node_modules, so the external onnxruntime-node resolves from the bundle.
  const dir = path.join(process.cwd(), "node_modules/.cache/modeldeck-children");
  const name = entry.what.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  // Built under a name of its own, then renamed to one named by its content: processes that
  // build at once never see a half-written file, and the directory holds one file per
  // version of the sources rather than one per process.
  const temp = path.join(dir, `${name}-${process.pid}-${Date.now()}.tmp`);
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
          file,
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
    ).map((f) => path.resolve(/*turbopackIgnore: true*/ process.cwd(), f));
    const hash = createHash("sha256")
      .update(await readFile(temp))
      .digest("hex")
      .slice(0, 16);
    const out = path.join(dir, `${name}-child-${hash}.cjs`);
    await rename(temp, out);
    return { file: out, inputs, builtAt };
  } catch {
    return null;
  } finally {
    await rm(temp, { force: true });
    await rm(meta, { force: true });
  }
}

const seconds = (ms: number) => (ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`);

export function cancelledError(what: string, reason: unknown): ChildRunError {
  if (reason instanceof ChildRunError) return reason;
  const message = reason instanceof Error ? reason.message : String(reason ?? "cancelled");
  return new ChildRunError("cancelled", `The ${what} was cancelled (${message}).`);
}

export type ChildRunOptions<M> = {
  /** From the request being sent to the result. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Every message other than ready, result and error (progress…). */
  onMessage?: (message: M) => void;
};

type AnyMessage = { type: string; message?: string };

/**
 * A started child process that has not run its request yet. `ready` resolves with the
 * milliseconds its start took once it said ready; `run` sends it one request.
 */
export class LaunchedChild {
  readonly process: ChildProcess;
  /** The node arguments it was started with (warm.ts compares them with the current ones). */
  readonly args: string[];
  readonly startedAt = performance.now();
  private readyAt: number | null = null;
  private stderr = "";
  private used = false;
  private exitListeners: Array<(how: string) => void> = [];
  private messageListener: ((message: AnyMessage) => void) | null = null;
  private readyWaiters: Array<() => void> = [];
  exited = false;
  /** Resolves true once the child said ready, false if it died first. */
  readonly ready: Promise<boolean>;

  constructor(
    readonly entry: ChildEntry,
    args: string[],
  ) {
    this.args = args;
    let settleReady: (ready: boolean) => void = () => {};
    this.ready = new Promise((resolve) => (settleReady = resolve));
    this.readyWaiters.push(() => settleReady(true));
    this.exitListeners.push(() => settleReady(false));
    const env: NodeJS.ProcessEnv = { ...process.env };
    // The parent's --import hooks (vitest, Next) are not what the child needs.
    delete env.NODE_OPTIONS;
    this.process = spawn(process.execPath, args, {
      cwd: process.cwd(),
      env,
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "advanced",
    });
    this.process.stderr!.setEncoding("utf8");
    this.process.stderr!.on("data", (chunk: string) => {
      if (this.stderr.length < 8192) this.stderr += chunk;
    });
    this.process.on("message", (message: AnyMessage) => {
      if (message.type === "ready" && this.readyAt === null) {
        this.readyAt = performance.now();
        for (const w of this.readyWaiters.splice(0)) w();
      } else this.messageListener?.(message);
    });
    const onGone = (how: string) => {
      if (this.exited) return;
      this.exited = true;
      for (const l of this.exitListeners.splice(0)) l(how);
    };
    this.process.on("error", (error) => onGone(`could not start: ${error.message}`));
    this.process.on("exit", (code, signal) =>
      onGone(signal ? `signal ${signal}` : `exit code ${code}`),
    );
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get isReady(): boolean {
    return this.readyAt !== null && !this.exited;
  }

  /** How long the start took (until ready), or null while it is starting. */
  get startMs(): number | null {
    return this.readyAt === null ? null : this.readyAt - this.startedAt;
  }

  /** Called once when the process is gone (exit, signal, or failure to start). */
  onExit(listener: (how: string) => void): void {
    if (this.exited) listener("gone");
    else this.exitListeners.push(listener);
  }

  /** Lets this process exit while the child idles (a warm child must not hold it open). */
  setHoldsParent(holds: boolean): void {
    type Refable = { ref?: () => void; unref?: () => void } | null | undefined;
    const handles: Refable[] = [this.process.channel as Refable, this.process.stderr as Refable];
    if (holds) {
      this.process.ref();
      for (const h of handles) h?.ref?.();
    } else {
      this.process.unref();
      for (const h of handles) h?.unref?.();
    }
  }

  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill("SIGKILL");
    }
  }

  private detail(): string {
    const d = this.stderr.trim().split("\n").slice(-5).join(" ").slice(0, 1000);
    return d ? `: ${d}` : ".";
  }

  /**
   * Sends `request` once the child is ready and resolves with its result message; rejects
   * with ChildRunError. The child is killed when the promise settles unless it exited.
   */
  run<Result extends { type: "result" }, M = never>(
    request: unknown,
    options: ChildRunOptions<M>,
  ): Promise<Result> {
    if (this.used) throw new Error("A launched child runs one request");
    this.used = true;
    const { what } = this.entry;
    this.setHoldsParent(true);
    return new Promise<Result>((resolve, reject) => {
      let settled = false;
      let requested = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: Error | null, result?: Result) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.messageListener = null;
        this.kill();
        if (error) reject(error);
        else resolve(result!);
      };
      const onAbort = () => finish(cancelledError(what, options.signal?.reason));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });

      this.onExit((how) => {
        const started = this.readyAt !== null;
        finish(
          new ChildRunError(
            requested ? "crashed" : "failed",
            requested
              ? `The ${what} process died (${how})${this.detail()}`
              : started
                ? `The ${what} process exited before its request (${how})${this.detail()}`
                : `The ${what} process could not start (${how})${this.detail()}`,
          ),
        );
      });
      this.messageListener = (message) => {
        if (message.type === "result") finish(null, message as unknown as Result);
        else if (message.type === "error") {
          finish(new ChildRunError("failed", message.message ?? `The ${what} failed.`));
        } else options.onMessage?.(message as M);
      };
      const send = () => {
        if (settled) return;
        requested = true;
        timer = setTimeout(
          () =>
            finish(
              new ChildRunError(
                "timeout",
                `The ${what} did not finish within ${seconds(options.timeoutMs)}; it was stopped.`,
              ),
            ),
          options.timeoutMs,
        );
        this.process.send(request as never, (error) => {
          if (error)
            finish(new ChildRunError("failed", `Could not start the ${what}: ${error.message}`));
        });
      };
      if (this.readyAt !== null) send();
      else {
        timer = setTimeout(
          () =>
            finish(
              new ChildRunError(
                "failed",
                `The ${what} process did not start within ${seconds(STARTUP_TIMEOUT_MS)}.`,
              ),
            ),
          STARTUP_TIMEOUT_MS,
        );
        this.readyWaiters.push(() => {
          clearTimeout(timer);
          send();
        });
      }
    });
  }
}

/** Starts a child for `entry` (not yet given its request). */
export async function launchChild(entry: ChildEntry): Promise<LaunchedChild> {
  return new LaunchedChild(entry, await childCommand(entry));
}
