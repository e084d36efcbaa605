import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { OnnxValidationError } from "../../../lib/onnx/errors";

export const VAD_DIR = path.resolve("node_modules/@ricky0123/vad-web/dist");

/** A temporary directory for the file's tests, removed afterwards. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `modeldeck-${prefix}-`));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The OnnxValidationError a promise rejects with (fails the test on anything else). */
export async function validationError(promise: Promise<unknown>): Promise<OnnxValidationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OnnxValidationError) return error;
    throw error;
  }
  throw new Error("expected an OnnxValidationError, but it resolved");
}

/** Waits until a process no longer exists (a killed child may linger until it is reaped). */
export async function waitUntilGone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
