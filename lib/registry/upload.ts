import type { Actor } from "../audit";
import { recordAudit } from "../audit";
import { ApiError } from "../api/errors";
import type { PrismaClient } from "../db/generated/client";
import { inspectOnnxFile } from "../onnx/inspect";
import { isOnnxValidationError } from "../onnx/errors";
import { Readable } from "node:stream";
import type { ArtifactStore, StagedArtifact } from "../storage";
import { readUpload } from "../uploads";
import { SAMPLE_REQUEST_MAX_BYTES } from "../serving/sample-request";
import { getModel } from "./models";
import { tagsSchema } from "./names";
import {
  checkSampleRequest,
  parseSampleRequestText,
  sampleRunError,
  type CheckedSampleRequest,
} from "./sample-request";
import type { VersionDetail } from "./shared";
import { assertNewContent, createVersion, type LineageInput } from "./versions";

/**
 * Metadata an upload may carry beside the file (multipart fields, query or X-ModelDeck-*
 * headers). `sampleRequest` is JSON text: an inference request the model answers.
 */
export const UPLOAD_FIELDS = ["description", "tags", "source", "sampleRequest"] as const;

export type UploadVersionInput = {
  modelName: string;
  request: Request;
  maxBytes: number;
  ipAddress?: string | null;
};

function parseTags(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const tags = [
    ...new Set(
      text
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  const parsed = tagsSchema.safeParse(tags);
  if (!parsed.success) {
    throw new ApiError(
      "validation_failed",
      `Invalid request: tags ${parsed.error.issues[0]?.message ?? "are invalid"}.`,
      {
        fields: [{ field: "tags", message: parsed.error.issues[0]?.message ?? "are invalid" }],
      },
    );
  }
  return parsed.data;
}

/**
 * A new version from an upload: stream the body to the artifact store (hashed on the way),
 * then hand the staged bytes to `registerStagedVersion`.
 */
export async function uploadVersion(
  db: PrismaClient,
  store: ArtifactStore,
  actor: Actor,
  input: UploadVersionInput,
): Promise<VersionDetail> {
  // Unknown model: answer 404 before reading (possibly gigabytes of) body.
  await getModel(db, input.modelName);
  const { staged, filename, fields } = await readUpload(input.request, {
    maxBytes: input.maxBytes,
    store,
    fields: UPLOAD_FIELDS,
    // Room for a sample request; the other fields are short.
    limits: { maxFieldBytes: SAMPLE_REQUEST_MAX_BYTES },
  });
  return registerStagedVersion(db, store, actor, staged, {
    modelName: input.modelName,
    originalFilename: filename,
    description: fields.description ?? null,
    tags: fields.tags,
    source: fields.source ?? null,
    sampleRequestText: fields.sampleRequest,
    lineage: { kind: "upload" },
    ipAddress: input.ipAddress,
    signal: input.request.signal,
  });
}

export type StagedVersionInput = {
  modelName: string;
  originalFilename?: string | null;
  description?: string | null;
  /** comma-separated, as an upload carries them */
  tags?: string;
  source?: string | null;
  /** The upload's `sampleRequest` field (JSON text); blank or absent: none. */
  sampleRequestText?: string;
  lineage: LineageInput;
  ipAddress?: string | null;
  signal?: AbortSignal;
};

/**
 * The second half of every new version (upload, retrain, import): prove the staged bytes are
 * a new, loadable ONNX model (that answers its sample request, when one is given), record the
 * version, then publish the file. The staged copy is discarded on any failure.
 *
 * Ordering keeps "no row without a file, no file without a row": nothing is published until
 * the row exists; if publishing then fails, the row is taken back in a second transaction.
 * A file is never deleted on a failed upload once committed, because content addressing
 * means another version may own the same bytes.
 */
export async function registerStagedVersion(
  db: PrismaClient,
  store: ArtifactStore,
  actor: Actor,
  staged: StagedArtifact,
  input: StagedVersionInput,
): Promise<VersionDetail> {
  let version: VersionDetail;
  try {
    const tags = parseTags(input.tags);
    const sampleText = input.sampleRequestText?.trim();
    const sampleValue = sampleText ? parseSampleRequestText(sampleText) : undefined;
    await assertNewContent(db, input.modelName, staged.sha256);
    let sample: CheckedSampleRequest | null = null;
    const signature = await inspectOnnxFile(staged.tempPath, {
      signal: input.signal,
      ...(sampleValue !== undefined
        ? {
            sample: (sig) => {
              sample = checkSampleRequest(sampleValue, sig);
              return sample.feeds;
            },
          }
        : {}),
    }).catch((error: unknown) => {
      if (isOnnxValidationError(error) && error.reason === "sample_failed") {
        throw sampleRunError(error);
      }
      if (isOnnxValidationError(error)) {
        throw new ApiError("unprocessable", error.message, { reason: error.reason });
      }
      throw error;
    });
    version = await createVersion(
      db,
      actor,
      {
        modelName: input.modelName,
        sha256: staged.sha256,
        sizeBytes: staged.sizeBytes,
        storageKey: store.keyFor(staged.sha256),
        signature,
        originalFilename: input.originalFilename ?? null,
        description: input.description ?? null,
        tags,
        source: input.source ?? null,
        lineage: input.lineage,
        sampleRequest: sample,
      },
      input.ipAddress,
    );
  } catch (error) {
    await staged.discard();
    throw error;
  }
  try {
    await staged.commit();
  } catch (error) {
    await staged.discard();
    await db.$transaction(async (tx) => {
      await tx.modelVersion.delete({ where: { id: version.id } });
      await recordAudit(tx, {
        actor,
        action: "version.create.undo",
        resourceType: "model_version",
        resourceId: version.id,
        before: { model: version.model, version: version.version, sha256: version.sha256 },
        after: { reason: "the artifact could not be stored" },
        ipAddress: input.ipAddress,
      });
    });
    throw error;
  }
  return version;
}

/** A new version from bytes in memory (seeding, tests, benchmarks, the built-in trainer). */
export async function registerVersionBytes(
  db: PrismaClient,
  store: ArtifactStore,
  actor: Actor,
  bytes: Uint8Array,
  input: Omit<StagedVersionInput, "signal">,
): Promise<VersionDetail> {
  const staged = await store.stage(Readable.from([bytes]), { maxBytes: bytes.length });
  return registerStagedVersion(db, store, actor, staged, input);
}
