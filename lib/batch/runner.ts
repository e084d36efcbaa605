/**
 * Runs one batch prediction in a child process (child.ts). A child rather than this event
 * loop or a worker thread, for the reasons lib/evaluation/runner.ts gives: onnxruntime's
 * session creation blocks the calling thread, and a child can be SIGKILLed alone.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { BatchChildMessage, BatchChildRequest } from "./protocol";

const STARTUP_TIMEOUT_MS = 60_000;

function childEntry(): string {
  const candidates = [
    path.join(process.cwd(), "lib/batch/child.ts"),
    path.join(path.dirname(new URL(import.meta.url).pathname), "child.ts"),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error("lib/batch/child.ts was not found: start from the project root");
  return found;
}

export type BatchRunOptions = {
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
};

/** Resolves with the number of rows written; rejects with an Error saying why not. */
export function runBatchInChild(
  request: BatchChildRequest,
  options: BatchRunOptions,
): Promise<{ rows: number; columns: string[] }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ["--import", "tsx", childEntry()], {
    cwd: process.cwd(),
    env,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "advanced",
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    let stderr = "";
    let timer = setTimeout(
      () => finish(new Error("The batch prediction process did not start within 60 s.")),
      STARTUP_TIMEOUT_MS,
    );
    const finish = (error: Error | null, result?: { rows: number; columns: string[] }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      if (error) reject(error);
      else resolve(result!);
    };
    const onAbort = () => {
      const reason: unknown = options.signal?.reason;
      finish(reason instanceof Error ? reason : new Error(String(reason ?? "cancelled")));
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      if (stderr.length < 8192) stderr += chunk;
    });
    child.on("error", (error) =>
      finish(new Error(`Could not start the batch prediction: ${error.message}`)),
    );
    child.on("message", (message: BatchChildMessage) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            finish(
              new Error(
                `The batch prediction did not finish within ${Math.round(options.timeoutMs / 1000)} s; it was stopped.`,
              ),
            ),
          options.timeoutMs,
        );
        child.send(request);
      } else if (message.type === "progress") {
        options.onProgress?.(message.done, message.total);
      } else if (message.type === "done") {
        finish(null, { rows: message.rows, columns: message.columns });
      } else if (message.type === "error") {
        finish(new Error(message.message));
      }
    });
    child.on("exit", (code, signal) => {
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      const detail = stderr.trim().split("\n").slice(-5).join(" ").slice(0, 1000);
      finish(
        new Error(`The batch prediction process died (${how})${detail ? `: ${detail}` : "."}`),
      );
    });
  });
}
