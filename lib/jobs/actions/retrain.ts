import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ApiError } from "../../api/errors";
import { getDatasetVersion } from "../../datasets";
import { registerStagedVersion } from "../../registry/upload";
import type { RetrainAction } from "../action-schema";
import { builtinRetrain, type BuiltinRetrainResult } from "./builtin-trainer";
import { runEvaluateAndPromote } from "./evaluate";
import { openNoFollow } from "./import";
import { RunFailure, type ActionContext } from "./types";

/**
 * Retrain with an external trainer: the command an admin configured
 * (MODELDECK_TRAINER_COMMAND; a job never carries a command). It runs in a temporary
 * directory with `DATASET_PATH` (a copy of the dataset version's file) and `OUTPUT_PATH`
 * (where it must write the ONNX model) in its environment, under a time limit; its stdout
 * and stderr go to the run log. On exit 0 the output is registered as a new version with
 * lineage "retrain" and the production version as parent. A non-zero exit, a run past the
 * limit or an output that is not a loadable ONNX model fails the run and registers nothing.
 * The trainer runs in its own process group behind a guard that kills it if the scheduler
 * dies, so it never outlives the run.
 */

const GUARD = fileURLToPath(new URL("./trainer-guard.mjs", import.meta.url));
/** Environment variables a trainer inherits; secrets and the database URL are not among them. */
const PASSED_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV"];
const KILL_GRACE_MS = 3_000;

export type RetrainResult = {
  trainer: "external";
  dataset: { name: string; version: number };
  parentVersion: number | null;
  exitCode: number;
  durationMs: number;
  registered: { version: number; sha256: string; sizeBytes: number } | null;
  unchanged?: { sameAsVersion: number };
  evaluation?: unknown;
};

async function datasetFile(
  ctx: ActionContext<RetrainAction>,
  workDir: string,
): Promise<{ path: string; name: string; version: number; format: string }> {
  const { dataset, datasetVersion } = ctx.action;
  let row;
  try {
    row = await getDatasetVersion(ctx.db, dataset, datasetVersion ?? null);
  } catch (error) {
    if (error instanceof ApiError && error.code === "not_found") {
      throw new RunFailure(`${error.message.replace(/\.$/, "")}; nothing was trained.`);
    }
    throw error;
  }
  const file = path.join(workDir, `dataset.${row.format}`);
  // A copy: the trainer is the team's own program, the store's file is not its to touch.
  await ctx.store.withLocalFile(row.storageKey, (source) => fs.copyFile(source, file));
  ctx.signal.throwIfAborted();
  return { path: file, name: dataset, version: row.version, format: row.format };
}

type TrainerExit = {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
};

function runTrainer(
  ctx: ActionContext<RetrainAction>,
  argv: string[],
  env: Record<string, string | undefined>,
  cwd: string,
  timeLimitMs: number,
): Promise<TrainerExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GUARD, ...argv], {
      cwd,
      env: env as NodeJS.ProcessEnv,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      killGroup("SIGTERM");
      killTimer ??= setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS);
    };
    const limit = setTimeout(() => {
      timedOut = true;
      ctx.log(
        `The trainer ran past its limit of ${Math.round(timeLimitMs / 1000)} s; stopping it.`,
        "error",
      );
      stop();
    }, timeLimitMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    for (const [stream, name] of [
      [child.stdout!, "stdout"],
      [child.stderr!, "stderr"],
    ] as const) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) =>
        ctx.log(line, name),
      );
    }
    child.stdin!.on("error", () => undefined);
    child.once("error", (error) => {
      clearTimeout(limit);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(limit);
      if (killTimer) clearTimeout(killTimer);
      ctx.signal.removeEventListener("abort", onAbort);
      child.stdin!.destroy();
      resolve({ code, signal, timedOut, aborted });
    });
  });
}

export async function retrainAction(
  ctx: ActionContext<RetrainAction>,
): Promise<RetrainResult | BuiltinRetrainResult> {
  const { action } = ctx;
  if (action.trainer === "builtin") return builtinRetrain(ctx);
  const argv = ctx.settings.trainerCommand;
  if (!argv) {
    throw new RunFailure(
      "No external trainer is configured: an admin sets MODELDECK_TRAINER_COMMAND for the scheduler (a JSON argv array or a command line). Nothing was trained.",
    );
  }
  const production = await ctx.db.modelAlias.findFirst({
    where: { model: { name: ctx.job.model }, name: "production" },
    select: { version: { select: { version: true } } },
  });
  const parentVersion = production?.version.version ?? null;
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-train-"));
  try {
    const dataset = await datasetFile(ctx, workDir);
    const output = path.join(workDir, "output", "model.onnx");
    await fs.mkdir(path.dirname(output));
    const env: Record<string, string | undefined> = {};
    for (const key of PASSED_ENV) if (process.env[key] !== undefined) env[key] = process.env[key];
    Object.assign(env, {
      DATASET_PATH: dataset.path,
      DATASET_FORMAT: dataset.format,
      OUTPUT_PATH: output,
      MODELDECK_JOB: ctx.job.name,
      MODELDECK_RUN_ID: ctx.run.id,
      MODELDECK_MODEL: ctx.job.model,
      MODELDECK_PARENT_VERSION: parentVersion === null ? "" : String(parentVersion),
    });
    ctx.log(
      `Running the configured trainer on dataset ${dataset.name} v${dataset.version} (parent: ${parentVersion === null ? "none, no production version" : `v${parentVersion}`}), time limit ${action.timeLimitSeconds} s.`,
    );
    const started = Date.now();
    const exit = await runTrainer(ctx, argv, env, workDir, action.timeLimitSeconds * 1000);
    const durationMs = Date.now() - started;
    if (exit.aborted) throw ctx.signal.reason ?? new Error("The run was stopped.");
    if (exit.timedOut) {
      throw new RunFailure(
        `The trainer ran past its time limit of ${action.timeLimitSeconds} s and was stopped; nothing was registered.`,
      );
    }
    if (exit.code !== 0) {
      throw new RunFailure(
        `The trainer exited with ${exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`} after ${Math.round(durationMs / 100) / 10} s; nothing was registered. Its output is in the run log.`,
      );
    }
    let stat;
    try {
      stat = await fs.lstat(output);
    } catch {
      throw new RunFailure(
        "The trainer exited with code 0 but wrote nothing to OUTPUT_PATH; nothing was registered.",
      );
    }
    if (!stat.isFile())
      throw new RunFailure("OUTPUT_PATH is not a regular file; nothing was registered.");
    if (stat.size > ctx.settings.maxArtifactBytes) {
      throw new RunFailure(
        `The trainer's output is ${stat.size} bytes, more than the ${ctx.settings.maxArtifactBytes}-byte limit; nothing was registered.`,
      );
    }
    const handle = await openNoFollow(output);
    let staged;
    try {
      staged = await ctx.store.stage(handle.createReadStream({ autoClose: false }), {
        maxBytes: ctx.settings.maxArtifactBytes,
        signal: ctx.signal,
      });
    } finally {
      await handle.close();
    }
    const result: RetrainResult = {
      trainer: "external",
      dataset: { name: dataset.name, version: dataset.version },
      parentVersion,
      exitCode: 0,
      durationMs,
      registered: null,
    };
    try {
      const version = await registerStagedVersion(ctx.db, ctx.store, ctx.actor, staged, {
        modelName: ctx.job.model,
        originalFilename: "model.onnx",
        source: `retrain: job ${ctx.job.name}, run ${ctx.run.id}`,
        description: `Retrained by job ${ctx.job.name} on dataset ${dataset.name} v${dataset.version}${parentVersion === null ? "" : ` from v${parentVersion}`}.`,
        lineage: { kind: "retrain", parentVersion },
        signal: ctx.signal,
      });
      result.registered = {
        version: version.version,
        sha256: version.sha256,
        sizeBytes: version.sizeBytes,
      };
      ctx.log(
        `Registered the trainer's output as v${version.version} (lineage: retrain from ${parentVersion === null ? "nothing" : `v${parentVersion}`}).`,
      );
    } catch (error) {
      if (error instanceof ApiError && error.code === "conflict") {
        const same =
          (error.details as { existingVersion?: number } | undefined)?.existingVersion ?? 0;
        result.unchanged = { sameAsVersion: same };
        ctx.log(
          `The trainer produced the same bytes as v${same}; nothing new was registered.`,
          "warn",
        );
        return result;
      }
      if (error instanceof ApiError) {
        throw new RunFailure(
          `The trainer's output is not a loadable ONNX model: ${error.message} Nothing was registered.`,
        );
      }
      throw error;
    }
    if (action.thenEvaluate && result.registered) {
      try {
        result.evaluation = await runEvaluateAndPromote(ctx, {
          datasetName: dataset.name,
          datasetVersion: dataset.version,
          candidates: "newer-than-production",
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new RunFailure(
          `Registered v${result.registered.version}, then evaluation failed: ${message}`,
          {
            result,
          },
        );
      }
    }
    return result;
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}
