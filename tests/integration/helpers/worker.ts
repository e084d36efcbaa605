/**
 * A real ModelDeck worker process (`workers/<name>/main.ts`) started the way the supervisor
 * starts it, with its output captured, waited on until it says it is ready.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "../../..");

export type WorkerProcess = {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
  /** Signals it (unless it has exited) and resolves with its exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
};

export async function spawnWorker(opts: {
  /** e.g. "workers/scheduler/main.ts", relative to the repository root. */
  entry: string;
  /** Command-line arguments after the entry (a role for workers/roles/main.ts). */
  args?: string[];
  /** Named in errors: "scheduler", "serving". */
  name: string;
  /** Added to this process's environment. */
  env: Record<string, string>;
  /** Polled every 100 ms with the output so far until true. */
  ready: (output: string) => boolean | Promise<boolean>;
  timeoutMs?: number;
}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", opts.entry, ...(opts.args ?? [])], {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!(await opts.ready(out))) {
    if (child.exitCode !== null) throw new Error(`${opts.name} exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${opts.name} did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => out,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
