import { z } from "zod";
import { ApiError, conflict, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import { isUniqueViolation } from "../db/errors";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { notifyModelEvent } from "./events";
import { check, descriptionSchema, invalid, optionalText, tagsSchema } from "./names";
import {
  findModelId,
  lockModel,
  toVersionDetail,
  toVersionView,
  TX_OPTIONS,
  isVersionNumber,
  versionDetailSelect,
  versionSelect,
  type Tx,
  type VersionDetail,
  type VersionView,
} from "./shared";

export type LineageInput = {
  kind: "upload" | "retrain" | "import";
  /** the version (of the same model) this one was derived from, e.g. retrained from */
  parentVersion?: number | null;
};

export type SignatureSummary = {
  /** default-domain (ai.onnx) opset version */
  opset?: number | null;
  inputCount?: number | null;
  outputCount?: number | null;
};

export type CreateVersionInput = {
  modelName: string;
  /** hex SHA-256 of the staged artifact (either case; stored lower-case) */
  sha256: string;
  sizeBytes: number | bigint;
  /** where the caller staged the bytes in the artifact store */
  storageKey: string;
  /** the JSON object lib/onnx produced; stored as is */
  signature: unknown;
  /** display facts of the signature; when omitted they are read from common field names */
  summary?: SignatureSummary;
  originalFilename?: string | null;
  description?: string | null;
  tags?: string[];
  source?: string | null;
  lineage?: LineageInput;
  /** A sample request already checked against this signature and run (sample-request.ts). */
  sampleRequest?: { request: unknown; sha256: string } | null;
};

const sha256Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hexadecimal characters")
  .transform((s) => s.toLowerCase());
const sizeSchema = z.union([
  z
    .bigint()
    .nonnegative()
    .refine((n) => n <= 9_223_372_036_854_775_807n, "is too large"),
  z.number().int("must be a whole number").nonnegative().max(Number.MAX_SAFE_INTEGER),
]);
const storageKeySchema = z.string().min(1, "must not be empty").max(1024);
const lineageKindSchema = z.enum(["upload", "retrain", "import"]);
const smallInt = z.number().int().min(0).max(1_000_000).nullable().optional();
const summarySchema = z.object({ opset: smallInt, inputCount: smallInt, outputCount: smallInt });

/** The signature must be a JSON object; returns it as Prisma JSON (throws 400 otherwise). */
function signatureJson(value: unknown): Prisma.InputJsonObject {
  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    json = undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw invalid([{ field: "signature", message: "must be a JSON object" }]);
  }
  return json as Prisma.InputJsonObject;
}

const count = (v: unknown) => (Array.isArray(v) ? v.length : null);
const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : null);

/**
 * Best-effort display facts when the caller gives none. The signature stays opaque to the
 * registry: a shape we do not recognise just leaves these null.
 */
export function summariseSignature(signature: Record<string, unknown>): Required<SignatureSummary> {
  let opset = int(signature.opset);
  const imports = signature.opsetImports ?? signature.opset_import ?? signature.opsets;
  if (opset === null && Array.isArray(imports)) {
    for (const entry of imports as unknown[]) {
      if (typeof entry !== "object" || entry === null) continue;
      const { domain, version } = entry as { domain?: unknown; version?: unknown };
      if (domain === "" || domain === "ai.onnx" || domain === undefined) {
        opset = int(typeof version === "string" ? Number(version) : version);
        if (opset !== null) break;
      }
    }
  }
  return {
    opset,
    inputCount: count(signature.inputs),
    outputCount: count(signature.outputs),
  };
}

/** Keeps only the last path segment, so a display name can never look like a path. */
function baseName(name: string): string {
  return name.split(/[\\/]/).pop() ?? name;
}

/**
 * Registers an artifact the caller has already staged as the model's next version. Numbers
 * are allocated under the model's row lock, so concurrent uploads get 1, 2, 3… with no gap
 * and no duplicate; a failed call consumes no number. The same bytes twice in one model are
 * a 409 naming the existing version (and nothing is written): the caller may then drop its
 * staged copy unless another version references the storage key.
 */
/** 409 for bytes a model already has as a version; the message names that version. */
function duplicateContent(
  modelName: string,
  sha256: string,
  existing: { id: string; version: number },
) {
  return conflict(
    `These bytes (sha256 ${sha256.slice(0, 12)}…) are already version ${existing.version} of model ${modelName}.`,
    { existingVersion: existing.version, existingVersionId: existing.id, sha256 },
  );
}

/**
 * The same 409 as createVersion, asked before expensive work (an upload's onnxruntime load
 * check); createVersion still enforces it under the model lock.
 */
export async function assertNewContent(
  db: PrismaClient,
  modelName: string,
  sha256: string,
): Promise<void> {
  const existing = await db.modelVersion.findFirst({
    where: { model: { name: modelName }, sha256 },
    select: { id: true, version: true },
  });
  if (existing) throw duplicateContent(modelName, sha256, existing);
}

export async function createVersion(
  db: PrismaClient,
  actor: Actor,
  input: CreateVersionInput,
  ipAddress?: string | null,
): Promise<VersionDetail> {
  const sha256 = check(sha256Schema, input.sha256, "sha256");
  const sizeBytes = BigInt(check(sizeSchema, input.sizeBytes, "sizeBytes"));
  const storageKey = check(storageKeySchema, input.storageKey, "storageKey");
  const signature = signatureJson(input.signature);
  const summary = {
    ...summariseSignature(signature),
    ...(input.summary ? check(summarySchema, input.summary, "summary") : {}),
  };
  const description = check(descriptionSchema, input.description ?? "", "description");
  const tags = check(tagsSchema, input.tags ?? [], "tags");
  const source = optionalText(input.source, "source", 2_000);
  const filename = optionalText(input.originalFilename, "originalFilename", 1_000);
  const originalFilename = filename === null ? null : baseName(filename).slice(0, 255) || null;
  const lineageKind = check(lineageKindSchema, input.lineage?.kind ?? "upload", "lineage.kind");
  const parentNumber = input.lineage?.parentVersion ?? null;
  if (parentNumber !== null && !isVersionNumber(parentNumber)) {
    throw invalid([{ field: "lineage.parentVersion", message: "must be a version number" }]);
  }

  const created = db.$transaction(async (tx) => {
    const model = await lockModel(tx, { name: input.modelName });
    const existing = await tx.modelVersion.findUnique({
      where: { modelId_sha256: { modelId: model.id, sha256 } },
      select: { id: true, version: true },
    });
    if (existing) throw duplicateContent(model.name, sha256, existing);
    let parentVersionId: string | null = null;
    if (parentNumber !== null) {
      const parent = await tx.modelVersion.findUnique({
        where: { modelId_version: { modelId: model.id, version: parentNumber } },
        select: { id: true },
      });
      if (!parent) throw notFound(`Version ${parentNumber} of model ${model.name}`);
      parentVersionId = parent.id;
    }
    const { _max } = await tx.modelVersion.aggregate({
      where: { modelId: model.id },
      _max: { version: true },
    });
    const version = (_max.version ?? 0) + 1;
    const row = await tx.modelVersion.create({
      data: {
        modelId: model.id,
        version,
        sha256,
        sizeBytes,
        storageKey,
        signature,
        signatureOpset: summary.opset ?? null,
        signatureInputCount: summary.inputCount ?? null,
        signatureOutputCount: summary.outputCount ?? null,
        description,
        tags,
        source,
        originalFilename,
        lineageKind,
        parentVersionId,
        ...(input.sampleRequest
          ? {
              sampleRequest: input.sampleRequest.request as Prisma.InputJsonObject,
              sampleRequestSha256: input.sampleRequest.sha256,
            }
          : {}),
        createdByType: actor.type,
        createdById: actor.id ?? null,
        createdByLabel: actor.label,
      },
      select: versionDetailSelect,
    });
    await notifyModelEvent(tx, {
      type: "version.created",
      modelId: model.id,
      model: model.name,
      alias: null,
      version,
      versionId: row.id,
      actor: actor.label,
      at: row.createdAt.toISOString(),
    });
    await recordAudit(tx, {
      actor,
      action: "version.create",
      resourceType: "model_version",
      resourceId: row.id,
      after: {
        model: model.name,
        version,
        sha256,
        sizeBytes: Number(sizeBytes),
        storageKey,
        originalFilename,
        source,
        lineage: { kind: lineageKind, parentVersion: parentNumber },
        sampleRequestSha256: input.sampleRequest?.sha256 ?? null,
      },
      ipAddress,
    });
    return toVersionDetail(row);
  }, TX_OPTIONS);

  return created.catch(async (error: unknown) => {
    // Only reachable if a writer bypassed the model lock; answer as the lock would have.
    if (!isUniqueViolation(error)) throw error;
    const model = await findModelId(db, input.modelName);
    const existing = await db.modelVersion.findUnique({
      where: { modelId_sha256: { modelId: model.id, sha256 } },
      select: { id: true, version: true },
    });
    throw existing
      ? duplicateContent(model.name, sha256, existing)
      : conflict("Another version was registered at the same moment; try again.");
  });
}

async function findVersion(
  db: Pick<Tx, "model" | "modelVersion">,
  modelName: string,
  version: number,
): Promise<{ modelId: string; id: string }> {
  const model = await findModelId(db, modelName);
  const row = isVersionNumber(version)
    ? await db.modelVersion.findUnique({
        where: { modelId_version: { modelId: model.id, version } },
        select: { id: true },
      })
    : null;
  if (!row) throw notFound(`Version ${version} of model ${model.name}`);
  return { modelId: model.id, id: row.id };
}

/** One version with its signature, lineage and the aliases pointing at it. */
export async function getVersion(
  db: PrismaClient,
  modelName: string,
  version: number,
): Promise<VersionDetail> {
  const { id } = await findVersion(db, modelName, version);
  return toVersionDetail(
    await db.modelVersion.findUniqueOrThrow({ where: { id }, select: versionDetailSelect }),
  );
}

/**
 * A version by reference: a number (or its decimal string), an alias name, or `latest` (the
 * newest version that is not archived). What serving and "try it" resolve paths with.
 */
export async function resolveVersion(
  db: PrismaClient,
  modelName: string,
  ref: number | string,
): Promise<VersionDetail> {
  if (typeof ref === "number" || /^[1-9][0-9]{0,9}$/.test(ref)) {
    return getVersion(db, modelName, Number(ref));
  }
  const model = await findModelId(db, modelName);
  const where: Prisma.ModelVersionWhereInput =
    ref === "latest"
      ? { modelId: model.id, status: "ready" }
      : { modelId: model.id, aliases: { some: { name: ref } } };
  const row = await db.modelVersion.findFirst({
    where,
    orderBy: { version: "desc" },
    select: versionDetailSelect,
  });
  if (!row) {
    throw notFound(
      ref === "latest"
        ? `A ready version of model ${model.name}`
        : `Alias ${JSON.stringify(ref)} of model ${model.name}`,
    );
  }
  return toVersionDetail(row);
}

/** All versions of a model, newest first, each with the aliases pointing at it. */
export async function listVersions(
  db: PrismaClient,
  modelName: string,
  filter: { status?: "ready" | "archived" } = {},
): Promise<VersionView[]> {
  const model = await findModelId(db, modelName);
  const rows = await db.modelVersion.findMany({
    where: { modelId: model.id, ...(filter.status ? { status: filter.status } : {}) },
    orderBy: { version: "desc" },
    select: versionSelect,
  });
  return rows.map(toVersionView);
}

/**
 * Archives a version: it stays downloadable and keeps its number, but can no longer be
 * promoted. Refused while an alias points at it (under the model lock, so an alias cannot
 * move onto it meanwhile). Archiving an archived version is a 409, so each call that
 * returns normally wrote exactly one audit entry.
 */
export async function archiveVersion(
  db: PrismaClient,
  actor: Actor,
  input: { modelName: string; version: number },
  ipAddress?: string | null,
): Promise<VersionView> {
  return setStatus(db, actor, input, "archived", ipAddress);
}

export async function unarchiveVersion(
  db: PrismaClient,
  actor: Actor,
  input: { modelName: string; version: number },
  ipAddress?: string | null,
): Promise<VersionView> {
  return setStatus(db, actor, input, "ready", ipAddress);
}

async function setStatus(
  db: PrismaClient,
  actor: Actor,
  input: { modelName: string; version: number },
  status: "ready" | "archived",
  ipAddress?: string | null,
): Promise<VersionView> {
  return db.$transaction(async (tx) => {
    const model = await lockModel(tx, { name: input.modelName });
    const current = isVersionNumber(input.version)
      ? await tx.modelVersion.findUnique({
          where: { modelId_version: { modelId: model.id, version: input.version } },
          select: { id: true, status: true, aliases: { select: { name: true } } },
        })
      : null;
    if (!current) throw notFound(`Version ${input.version} of model ${model.name}`);
    const label = `Version ${input.version} of model ${model.name}`;
    if (current.status === status) {
      throw conflict(`${label} is already ${status === "archived" ? "archived" : "not archived"}.`);
    }
    if (status === "archived" && current.aliases.length > 0) {
      const names = current.aliases.map((a) => a.name).sort();
      throw conflict(
        `${label} is what ${names.join(", ")} ${names.length === 1 ? "points" : "point"} at; move or remove ${names.length === 1 ? "that alias" : "those aliases"} first.`,
        { aliases: names },
      );
    }
    const row = await tx.modelVersion.update({
      where: { id: current.id },
      data: { status, archivedAt: status === "archived" ? new Date() : null },
      select: versionSelect,
    });
    await notifyModelEvent(tx, {
      type: status === "archived" ? "version.archived" : "version.unarchived",
      modelId: model.id,
      model: model.name,
      alias: null,
      version: row.version,
      versionId: row.id,
      actor: actor.label,
      at: new Date().toISOString(),
    });
    await recordAudit(tx, {
      actor,
      action: status === "archived" ? "version.archive" : "version.unarchive",
      resourceType: "model_version",
      resourceId: row.id,
      before: { model: model.name, version: row.version, status: current.status },
      after: { model: model.name, version: row.version, status },
      ipAddress,
    });
    return toVersionView(row);
  }, TX_OPTIONS);
}

/** For route handlers: a version path segment as a number, or the 404 an unknown one gets. */
export function parseVersionNumber(text: string): number {
  if (!/^[0-9]{1,10}$/.test(text) || !isVersionNumber(Number(text))) {
    throw new ApiError("not_found", `Version ${JSON.stringify(text)} was not found.`);
  }
  return Number(text);
}
