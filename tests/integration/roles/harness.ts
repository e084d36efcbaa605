/**
 * Role processes started the way a container starts them: `bin/modeldeck <role>` with its
 * configuration in the environment, output captured.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const repoRoot = path.resolve(import.meta.dirname, "../../..");

export type RoleProcess = {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
};

const running = new Set<RoleProcess>();

export function startRole(role: string, env: Record<string, string | undefined>): RoleProcess {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  // The test runner's own database must not leak into a role that is meant to lack one.
  delete merged.DATABASE_URL;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  // "keys rotate": a command with its arguments.
  const child = spawn(path.join(repoRoot, "bin/modeldeck"), role ? role.split(" ") : [], {
    cwd: repoRoot,
    env: merged,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const proc: RoleProcess = {
    child,
    output: () => out,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** SIGKILLs whatever a failed test left running. */
export async function killLeftovers(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop("SIGKILL")));
}

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  context: () => string = () => "",
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} (last error: ${String(last)})\n${context()}`);
}

/** GET a probe: status and JSON body, or throws when nothing listens. */
export async function probe(
  url: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
