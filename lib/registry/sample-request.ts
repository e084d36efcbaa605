import { createHash } from "node:crypto";
import { ApiError, conflict, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import { Prisma, type PrismaClient } from "../db/generated/client";
import { withLocalFiles } from "../evaluation/files";
import { isOnnxValidationError } from "../onnx/errors";
import { checkOnnxLoads, type SampleFeeds } from "../onnx/load-check";
import type { OnnxSignature } from "../onnx/types";
import { InferenceInputError } from "../serving/protocol";
import {
  SAMPLE_REQUEST_MAX_BYTES,
  sampleFeeds,
  sampleRequestSchema,
  type SampleRequest,
} from "../serving/sample-request";
import type { ArtifactStore } from "../storage";
import { notifyModelEvent } from "./events";
import { check, invalid } from "./names";
import {
  isVersionNumber,
  lockModel,
  toVersionDetail,
  TX_OPTIONS,
  versionDetailSelect,
  type VersionDetail,
} from "./shared";

/**
 * A version's sample request (lib/serving/sample-request.ts): given at upload or set later,
 * accepted only once it fits the signature and onnxruntime answers it; stored with a digest
 * that serving compares to reload the version when it changes.
 */

export type CheckedSampleRequest = {
  request: SampleRequest;
  /** SHA-256 of the stored JSON text. */
  sha256: string;
  feeds: SampleFeeds;
};

const FIELD = "sampleRequest";

/** The text of an upload's `sampleRequest` field as JSON (400 when it is not). */
export function parseSampleRequestText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalid([{ field: FIELD, message: `is not valid JSON (${(error as Error).message})` }]);
  }
}

/**
 * Checks a sample request against the version's signature, with serving's own request parser:
 * 400 `validation_failed` naming `sampleRequest` when its shape is wrong or it does not fit.
 */
export function checkSampleRequest(value: unknown, signature: OnnxSignature): CheckedSampleRequest {
  const text = JSON.stringify(value) ?? "";
  if (text.length > SAMPLE_REQUEST_MAX_BYTES) {
    throw invalid([
      {
        field: FIELD,
        message: `is ${text.length} bytes of JSON; the limit is ${SAMPLE_REQUEST_MAX_BYTES}`,
      },
    ]);
  }
  const request = check(sampleRequestSchema, value, FIELD);
  let feeds: SampleFeeds;
  try {
    feeds = sampleFeeds(request, signature);
  } catch (error) {
    if (error instanceof InferenceInputError) {
      throw invalid([{ field: FIELD, message: `does not fit the model: ${error.message}` }]);
    }
    throw error;
  }
  const stored = JSON.stringify(request);
  return { request, sha256: createHash("sha256").update(stored).digest("hex"), feeds };
}

/** An upload's or a check's `sample_failed` / `load_failed` as the 422 the API answers. */
export function sampleRunError(error: unknown): unknown {
  if (isOnnxValidationError(error)) {
    return new ApiError("unprocessable", error.message, {
      reason: error.reason,
      field: FIELD,
      ...(error.details.runtimeMessage ? { runtimeMessage: error.details.runtimeMessage } : {}),
    });
  }
  return error;
}

/** What an audit entry keeps of a sample request: its digest and the inputs' shapes. */
function auditView(sample: { sha256: string; request: SampleRequest } | null) {
  if (!sample) return { sampleRequest: null };
  return {
    sampleRequest: {
      sha256: sample.sha256,
      inputs: sample.request.inputs.map((i) => ({
        name: i.name,
        datatype: i.datatype,
        shape: i.shape,
      })),
    },
  };
}

/**
 * Sets (or, with `sampleRequest: null`, clears) a version's sample request. A new one is
 * checked against the signature (400) and run by onnxruntime on the version's artifact, in a
 * child process (422 when it fails), before anything is written; the change, its audit entry
 * and the `version.updated` event (serving reloads the version) commit together. Clearing a
 * version that has none is a 409, so each call that returns wrote one audit entry.
 */
export async function setSampleRequest(
  db: PrismaClient,
  store: ArtifactStore,
  actor: Actor,
  input: { modelName: string; version: number; sampleRequest: unknown },
  ipAddress?: string | null,
): Promise<VersionDetail> {
  const { modelName, version } = input;
  const label = `Version ${version} of model ${modelName}`;
  const row = isVersionNumber(version)
    ? await db.modelVersion.findFirst({
        where: { model: { name: modelName }, version },
        select: { signature: true, storageKey: true },
      })
    : null;
  if (!row) throw notFound(label);

  let checked: CheckedSampleRequest | null = null;
  if (input.sampleRequest !== null) {
    const sample = checkSampleRequest(
      input.sampleRequest,
      row.signature as unknown as OnnxSignature,
    );
    await withLocalFiles(store, [row.storageKey], ([file]) =>
      checkOnnxLoads(file!, { sample: sample.feeds }),
    ).catch((error: unknown) => {
      throw sampleRunError(error);
    });
    checked = sample;
  }

  return db.$transaction(async (tx) => {
    const model = await lockModel(tx, { name: modelName });
    const current = await tx.modelVersion.findUnique({
      where: { modelId_version: { modelId: model.id, version } },
      select: { id: true, sampleRequest: true, sampleRequestSha256: true },
    });
    if (!current) throw notFound(label);
    if (!checked && current.sampleRequestSha256 === null) {
      throw conflict(`${label} has no sample request to clear.`);
    }
    const updated = await tx.modelVersion.update({
      where: { id: current.id },
      data: checked
        ? {
            sampleRequest: checked.request as Prisma.InputJsonObject,
            sampleRequestSha256: checked.sha256,
          }
        : { sampleRequest: Prisma.DbNull, sampleRequestSha256: null },
      select: versionDetailSelect,
    });
    await notifyModelEvent(tx, {
      type: "version.updated",
      modelId: model.id,
      model: model.name,
      alias: null,
      version,
      versionId: current.id,
      actor: actor.label,
      at: new Date().toISOString(),
    });
    await recordAudit(tx, {
      actor,
      action: checked ? "version.sample_request.set" : "version.sample_request.clear",
      resourceType: "model_version",
      resourceId: current.id,
      before: {
        model: model.name,
        version,
        ...auditView(
          current.sampleRequestSha256
            ? {
                sha256: current.sampleRequestSha256,
                request: current.sampleRequest as SampleRequest,
              }
            : null,
        ),
      },
      after: { model: model.name, version, ...auditView(checked) },
      ipAddress,
    });
    return toVersionDetail(updated);
  }, TX_OPTIONS);
}
