/**
 * Promotion pre-flight: before an alias moves, the target version is loaded the way serving
 * will load it — an onnxruntime session from its artifact, then its stored sample request
 * when it has one — so a version that cannot serve is caught while the person promoting it
 * is still looking. The load runs in a child process (lib/onnx/load-check.ts): a session can
 * take seconds and onnxruntime creates it on the calling thread, which must not be the web's.
 *
 * `promoteAlias` is the one way people and API clients move an alias: pre-flight, then the
 * compare-and-set move of setAlias. A failed pre-flight refuses the move (422) unless the mover
 * explicitly overrides it; the override is kept in the audit entry with the pre-flight.
 */
import { ApiError, notFound } from "../api/errors";
import type { PrismaClient } from "../db/generated/client";
import { isOnnxValidationError } from "../onnx/errors";
import { checkOnnxLoads } from "../onnx/load-check";
import type { OnnxSignature } from "../onnx/types";
import { InferenceInputError, type HostTensor } from "../serving/protocol";
import { sampleFeeds } from "../serving/sample-request";
import type { ArtifactStore } from "../storage";
import {
  assertMayChangeAlias,
  assertStillAt,
  promotableVersion,
  setAlias,
  type AliasActor,
  type SetAliasInput,
  type SetAliasResult,
} from "./aliases";
import { aliasNameSchema, check } from "./names";
import { findModelId, isVersionNumber } from "./shared";

export type PreflightStage = "artifact" | "load" | "sample";

export type PreflightResult = {
  model: string;
  version: number;
  outcome: "passed" | "failed";
  /** Where it failed: reading the artifact, creating the session, or running the sample. */
  stage: PreflightStage | null;
  /** ran: the stored sample request ran; failed: it did not; none: the version has none. */
  sampleRequest: "ran" | "failed" | "none";
  /** One sentence for the person deciding: what loaded, or why it did not. */
  message: string;
  /** How long onnxruntime took to create the session (null when it did not). */
  loadMs: number | null;
  checkedAt: string;
  /** Set by promoteAlias: a failed pre-flight that the mover explicitly chose to override. */
  overridden: boolean;
};

export type PreflightOptions = { timeoutMs?: number; signal?: AbortSignal };

/**
 * The version's stored sample request (an Open Inference Protocol request body), or null.
 * Read from the whole row, so the column is picked up wherever the schema has it.
 */
function storedSampleRequest(row: object): unknown {
  return (row as { sampleRequest?: unknown }).sampleRequest ?? null;
}

/** Loads one version as serving would and reports how it went (never throws for the model's faults). */
export async function preflightVersion(
  db: PrismaClient,
  store: ArtifactStore,
  input: { modelName: string; version: number },
  options: PreflightOptions = {},
): Promise<PreflightResult> {
  const model = await findModelId(db, input.modelName);
  const row = isVersionNumber(input.version)
    ? await db.modelVersion.findUnique({
        where: { modelId_version: { modelId: model.id, version: input.version } },
      })
    : null;
  if (!row) throw notFound(`Version ${input.version} of model ${model.name}`);
  return preflightArtifact(
    store,
    {
      model: model.name,
      version: row.version,
      storageKey: row.storageKey,
      signature: row.signature as unknown as OnnxSignature,
      sampleRequest: storedSampleRequest(row),
    },
    options,
  );
}

/** The pre-flight of one artifact with its signature and optional sample request. */
export async function preflightArtifact(
  store: ArtifactStore,
  target: {
    model: string;
    version: number;
    storageKey: string;
    signature: OnnxSignature;
    sampleRequest: unknown;
  },
  options: PreflightOptions = {},
): Promise<PreflightResult> {
  const checkedAt = new Date().toISOString();
  const hasSample = target.sampleRequest !== null && target.sampleRequest !== undefined;
  const result = (
    outcome: PreflightResult["outcome"],
    stage: PreflightStage | null,
    message: string,
    loadMs: number | null,
    sampleRequest: PreflightResult["sampleRequest"],
  ): PreflightResult => ({
    model: target.model,
    version: target.version,
    outcome,
    stage,
    sampleRequest,
    message,
    loadMs,
    checkedAt,
    overridden: false,
  });

  let feeds: Record<string, HostTensor> | undefined;
  if (hasSample) {
    try {
      feeds = sampleFeeds(target.sampleRequest, target.signature);
    } catch (error) {
      if (!(error instanceof InferenceInputError)) throw error;
      return result(
        "failed",
        "sample",
        `Its stored sample request does not fit the model: ${error.message}`,
        null,
        "failed",
      );
    }
  }

  // The artifact comes through the store's local file (its own, or a verified cached copy):
  // a failure before `fn` runs is the artifact's, one inside it is the load's.
  let readArtifact = false;
  let loaded;
  try {
    loaded = await store.withLocalFile(target.storageKey, (file) => {
      readArtifact = true;
      return checkOnnxLoads(file, {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        ...(feeds ? { sample: feeds } : {}),
      });
    });
  } catch (error) {
    if (!readArtifact) {
      options.signal?.throwIfAborted();
      return result(
        "failed",
        "artifact",
        `Its artifact could not be read: ${(error as Error).message}`,
        null,
        hasSample ? "failed" : "none",
      );
    }
    if (!isOnnxValidationError(error)) throw error;
    if (error.reason === "sample_failed") {
      return result(
        "failed",
        "sample",
        `It loads, but its stored sample request fails: ${String(error.details?.runtimeMessage ?? error.message)}`,
        null,
        "failed",
      );
    }
    return result("failed", "load", error.message, null, hasSample ? "failed" : "none");
  }
  return result(
    "passed",
    null,
    feeds
      ? `onnxruntime loaded it in ${loaded.loadMs} ms and ran its sample request.`
      : `onnxruntime loaded it in ${loaded.loadMs} ms (it has no sample request to run).`,
    loaded.loadMs,
    feeds ? "ran" : "none",
  );
}

export type PromoteAliasInput = Omit<SetAliasInput, "preflight"> & {
  /** Move even though the pre-flight failed (recorded in the audit entry). */
  override?: boolean;
};

/** setAlias's result with the pre-flight it ran (null when nothing was to move). */
export type PromoteAliasResult = SetAliasResult & { preflight: PreflightResult | null };

/**
 * Moves an alias the way people and API clients do: permission and cheap checks first, then
 * the pre-flight of the target, then setAlias (compare-and-set, history, audit, approval). A
 * failed pre-flight is a 422 naming why, unless `override` is set. A move to where the alias
 * already points runs no pre-flight.
 */
export async function promoteAlias(
  db: PrismaClient,
  store: ArtifactStore,
  actor: AliasActor,
  input: PromoteAliasInput,
  ipAddress?: string | null,
  options: PreflightOptions = {},
): Promise<PromoteAliasResult> {
  const alias = check(aliasNameSchema, input.alias, "alias");
  assertMayChangeAlias(actor.role, alias);
  const model = await findModelId(db, input.modelName);
  const [target, current] = await Promise.all([
    promotableVersion(db, model, input.version),
    db.modelAlias.findUnique({
      where: { modelId_name: { modelId: model.id, name: alias } },
      select: { version: { select: { version: true } } },
    }),
  ]);
  const { override = false, ...move } = input;
  const currentVersion = current?.version.version ?? null;
  if (currentVersion === target.version) {
    return { ...(await setAlias(db, actor, move, ipAddress)), preflight: null };
  }
  // Not yet under the lock (setAlias checks again there): a move that is already stale
  // should not cost a model load first.
  assertStillAt(model, alias, currentVersion, input.expectedVersion);

  const preflight = await preflightVersion(
    db,
    store,
    { modelName: model.name, version: input.version },
    options,
  );
  if (preflight.outcome === "failed" && !override) {
    throw new ApiError(
      "unprocessable",
      `Version ${input.version} of model ${model.name} failed its pre-flight, so ${alias} was not moved: ${preflight.message} To promote it anyway, confirm the override ("override": true); it is recorded in the audit log.`,
      { reason: "preflight_failed", preflight },
    );
  }
  const recorded = { ...preflight, overridden: preflight.outcome === "failed" };
  const moved = await setAlias(db, actor, { ...move, preflight: recorded }, ipAddress);
  return { ...moved, preflight: moved.outcome === "unchanged" ? null : recorded };
}
