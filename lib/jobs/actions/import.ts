import { createHash } from "node:crypto";
import { constants } from "node:fs";
import fs from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { ApiError } from "../../api/errors";
import { registerStagedVersion } from "../../registry/upload";
import type { ImportAction } from "../action-schema";
import { runEvaluateAndPromote } from "./evaluate";
import { listImportCandidates, resolveImportDirectory } from "./paths";
import { RunFailure, type ActionContext } from "./types";

/**
 * Import: registers the new `.onnx` files of `imports/<directory>` as versions of the job's
 * model (lineage "import"). Idempotent by sha256: bytes already registered for the model are
 * skipped. A file that is not a loadable ONNX model is reported with the reason and does not
 * stop the others. Optionally evaluates what was imported and promotes the best.
 */

export type ImportResult = {
  directory: string;
  imported: { file: string; version: number; sha256: string; sizeBytes: number }[];
  skipped: { file: string; reason: string; version?: number; sha256?: string }[];
  rejected: { file: string; reason: string }[];
  ignored: { file: string; reason: string }[];
  evaluation?: unknown;
};

/** Opens a candidate without following a final symbolic link (it is a real path already). */
export const openNoFollow = (file: string) =>
  fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);

async function sha256Of(file: string, signal: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  const handle = await openNoFollow(file);
  try {
    await pipeline(handle.createReadStream({ autoClose: false }), hash, { signal });
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

export async function importAction(ctx: ActionContext<ImportAction>): Promise<ImportResult> {
  const { action, db, store } = ctx;
  const { root, dir, display } = await resolveImportDirectory(
    ctx.settings.importsDir,
    action.directory,
  );
  ctx.log(`Scanning ${display} for .onnx files to import into ${ctx.job.model}.`);
  const result: ImportResult = {
    directory: display,
    imported: [],
    skipped: [],
    rejected: [],
    ignored: [],
  };
  const candidates = await listImportCandidates(root, dir);
  for (const candidate of candidates) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (candidate.kind === "ignored") {
      result.ignored.push({ file: candidate.name, reason: candidate.reason });
      ctx.log(`${candidate.name}: not imported, it ${candidate.reason}.`, "warn");
      continue;
    }
    const { name } = candidate;
    if (candidate.sizeBytes > ctx.settings.maxArtifactBytes) {
      const reason = `is ${candidate.sizeBytes} bytes, more than the ${ctx.settings.maxArtifactBytes}-byte limit`;
      result.rejected.push({ file: name, reason });
      ctx.log(`${name}: rejected, it ${reason}.`, "error");
      continue;
    }
    const sha256 = await sha256Of(candidate.path, ctx.signal);
    const existing = await db.modelVersion.findFirst({
      where: { model: { name: ctx.job.model }, sha256 },
      select: { version: true },
    });
    if (existing) {
      result.skipped.push({
        file: name,
        reason: `already registered as version ${existing.version}`,
        version: existing.version,
        sha256,
      });
      ctx.log(
        `${name}: already registered as v${existing.version} (sha256 ${sha256.slice(0, 12)}…); skipped.`,
      );
      continue;
    }
    const handle = await openNoFollow(candidate.path);
    let staged;
    try {
      staged = await store.stage(handle.createReadStream({ autoClose: false }), {
        maxBytes: ctx.settings.maxArtifactBytes,
        signal: ctx.signal,
      });
    } finally {
      await handle.close();
    }
    try {
      const version = await registerStagedVersion(db, store, ctx.actor, staged, {
        modelName: ctx.job.model,
        originalFilename: name,
        source: `${display}/${name}`,
        description: `Imported from ${display}/${name} by job ${ctx.job.name}.`,
        lineage: { kind: "import" },
        signal: ctx.signal,
      });
      result.imported.push({
        file: name,
        version: version.version,
        sha256: version.sha256,
        sizeBytes: version.sizeBytes,
      });
      ctx.log(
        `${name}: registered as v${version.version} (sha256 ${version.sha256.slice(0, 12)}…).`,
      );
    } catch (error) {
      if (error instanceof ApiError && error.code === "conflict") {
        // Registered by someone else between our check and now: the same outcome as a skip.
        result.skipped.push({ file: name, reason: error.message, sha256: staged.sha256 });
        ctx.log(`${name}: ${error.message} Skipped.`);
        continue;
      }
      if (error instanceof ApiError && (error.code === "unprocessable" || error.status === 400)) {
        result.rejected.push({ file: name, reason: error.message });
        ctx.log(`${name}: rejected, not a loadable ONNX model: ${error.message}`, "error");
        continue;
      }
      throw error;
    }
  }
  ctx.log(
    `Imported ${result.imported.length}, skipped ${result.skipped.length} already registered, rejected ${result.rejected.length}, ignored ${result.ignored.length}.`,
  );
  if (action.thenEvaluate && result.imported.length > 0) {
    ctx.log(`Evaluating the imported versions on dataset ${action.thenEvaluate.dataset}.`);
    try {
      result.evaluation = await runEvaluateAndPromote(ctx, {
        datasetName: action.thenEvaluate.dataset,
        ...(action.thenEvaluate.datasetVersion !== undefined
          ? { datasetVersion: action.thenEvaluate.datasetVersion }
          : {}),
        candidates: "newer-than-production",
      });
    } catch (error) {
      // The import itself stands (its versions are registered); the run fails on the
      // evaluation, with what was imported in its result. Not retried: a retry would only
      // skip the files and evaluate nothing.
      const message = error instanceof Error ? error.message : String(error);
      throw new RunFailure(
        `Imported ${result.imported.length} version(s), then evaluation failed: ${message}`,
        {
          retryable: false,
          result,
        },
      );
    }
  }
  return result;
}
