import { spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "../../lib/log";

export type ChildSpec = {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  /** How long a graceful stop may take before SIGKILL (default 10 s). */
  stopTimeoutMs?: number;
};

/**
 * Runs one worker process and restarts it if it dies unexpectedly, with exponential backoff
 * (1 s doubling to 30 s; reset after a minute of healthy running).
 */
export class SupervisedChild {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  private readyResolve: (() => void) | undefined;
  readonly ready: Promise<void>;

  constructor(
    private readonly spec: ChildSpec,
    private readonly root: string,
    private readonly log: Logger,
    private readonly onPid: () => void,
  ) {
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.startedAt = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", this.spec.entry], {
      cwd: this.root,
      env: this.spec.env,
      // The IPC channel doubles as a lifeline: children exit when it closes.
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child = child;
    this.onPid();
    child.on("message", (message: unknown) => {
      if (
        typeof message === "object" &&
        message &&
        (message as { type?: string }).type === "ready"
      ) {
        this.log.info({ child: this.spec.name, pid: child.pid }, "child ready");
        this.readyResolve?.();
      }
    });
    child.once("exit", (code, signal) => {
      this.child = undefined;
      this.onPid();
      if (this.stopping) return;
      if (Date.now() - this.startedAt > 60_000) this.restarts = 0;
      const delay = Math.min(30_000, 1000 * 2 ** this.restarts++);
      this.log.error(
        { child: this.spec.name, code, signal, restartInMs: delay },
        "child exited unexpectedly",
      );
      setTimeout(() => !this.stopping && this.start(), delay).unref();
    });
  }

  async stop(timeoutMs = this.spec.stopTimeoutMs ?? 10_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
      this.log.warn({ child: this.spec.name }, "child did not stop in time; killing it");
      child.kill("SIGKILL");
    }, timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
