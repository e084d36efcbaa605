import { notFound } from "../api/errors";
import type { Actor } from "../audit";
import type { Prisma } from "../db/generated/client";
import { orderedSampleRequest, type SampleRequest } from "../serving/sample-request";
import { isProtectedAlias, isValidModelName } from "./names";

/** Shared pieces of lib/registry: transaction settings, the model lock, row → view mappers. */

export type Tx = Prisma.TransactionClient;

/**
 * Read committed, so each statement after the model lock sees what the previous lock holder
 * committed. The waits are generous because registry writes on one model queue behind each
 * other on that lock (a burst of promotions or uploads waits its turn instead of failing).
 */
export const TX_OPTIONS = {
  isolationLevel: "ReadCommitted",
  maxWait: 15_000,
  timeout: 30_000,
} as const;

export type LockedModel = { id: string; name: string; approvalRequired: boolean };

/**
 * Every registry write on a model starts here: a row lock on the model serialises version
 * numbering, alias moves and promotion decisions per model, so "next version", "current
 * target" and "still pending" are read by one writer at a time. FOR NO KEY UPDATE rather
 * than FOR UPDATE: it conflicts with itself but not with the key-share locks of foreign-key
 * checks, so rows that merely reference the model (elsewhere in ModelDeck) are never blocked.
 */
export async function lockModel(
  tx: Tx,
  by: { name: string } | { id: string },
  mode: "NO KEY UPDATE" | "UPDATE" = "NO KEY UPDATE",
): Promise<LockedModel> {
  let rows: LockedModel[];
  if ("name" in by) {
    if (!isValidModelName(by.name)) throw notFound(`Model ${JSON.stringify(by.name)}`);
    rows =
      mode === "UPDATE"
        ? await tx.$queryRaw<LockedModel[]>`
            SELECT id::text AS id, name, "approvalRequired" FROM model WHERE name = ${by.name} FOR UPDATE`
        : await tx.$queryRaw<LockedModel[]>`
            SELECT id::text AS id, name, "approvalRequired" FROM model WHERE name = ${by.name} FOR NO KEY UPDATE`;
  } else {
    rows = await tx.$queryRaw<LockedModel[]>`
      SELECT id::text AS id, name, "approvalRequired" FROM model WHERE id = ${by.id}::uuid FOR NO KEY UPDATE`;
  }
  const row = rows[0];
  if (!row) throw notFound("name" in by ? `Model ${by.name}` : `Model ${by.id}`);
  return row;
}

/** A model by name for reads (404 when unknown or not even a valid name). */
export async function findModelId(
  db: Pick<Tx, "model">,
  name: string,
): Promise<{ id: string; name: string }> {
  const row = isValidModelName(name)
    ? await db.model.findUnique({ where: { name }, select: { id: true, name: true } })
    : null;
  if (!row) throw notFound(`Model ${JSON.stringify(name)}`);
  return row;
}

// ---------------------------------------------------------------------------------------
// Actors
// ---------------------------------------------------------------------------------------

/** Who did something, as frozen on the row (a user, an API token, or the system). */
export type ActorRef = { type: string; id: string | null; label: string };

export const actorRef = (type: string, id: string | null, label: string): ActorRef => ({
  type,
  id,
  label,
});

export const actorFields = (actor: Actor) => ({
  type: actor.type,
  id: actor.id ?? null,
  label: actor.label,
});

// ---------------------------------------------------------------------------------------
// Views (what routes return and pages render: plain JSON, dates as ISO strings)
// ---------------------------------------------------------------------------------------

export type VersionRef = { id: string; version: number };

export type ModelView = {
  id: string;
  name: string;
  description: string;
  task: "classification" | "regression" | "other";
  tags: string[];
  approvalRequired: boolean;
  createdAt: string;
  updatedAt: string;
  createdBy: ActorRef;
  versionCount: number;
  latestVersion: number | null;
  /** every alias of the model, by name */
  aliases: { name: string; version: number; versionId: string; protected: boolean }[];
  /** shortcut for the Overview: the version `production` points at */
  productionVersion: number | null;
  pendingPromotionCount: number;
};

export const modelInclude = {
  aliases: { include: { version: { select: { version: true } } }, orderBy: { name: "asc" } },
  versions: { select: { version: true }, orderBy: { version: "desc" }, take: 1 },
  _count: { select: { versions: true, promotions: { where: { status: "pending" } } } },
} satisfies Prisma.ModelInclude;

type ModelRow = Prisma.ModelGetPayload<{ include: typeof modelInclude }>;

export function toModelView(row: ModelRow): ModelView {
  const aliases = row.aliases.map((a) => ({
    name: a.name,
    version: a.version.version,
    versionId: a.versionId,
    protected: isProtectedAlias(a.name),
  }));
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    task: row.task,
    tags: row.tags,
    approvalRequired: row.approvalRequired,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    createdBy: actorRef(row.createdByType, row.createdById, row.createdByLabel),
    versionCount: row._count.versions,
    latestVersion: row.versions[0]?.version ?? null,
    aliases,
    productionVersion: aliases.find((a) => a.name === "production")?.version ?? null,
    pendingPromotionCount: row._count.promotions,
  };
}

export type VersionView = {
  id: string;
  modelId: string;
  model: string;
  version: number;
  sha256: string;
  /** a number: artifacts stay far below 2^53 bytes */
  sizeBytes: number;
  storageKey: string;
  /** display copies of signature facts (null when unknown) */
  opset: number | null;
  inputCount: number | null;
  outputCount: number | null;
  description: string;
  tags: string[];
  source: string | null;
  originalFilename: string | null;
  lineage: { kind: "upload" | "retrain" | "import"; parent: VersionRef | null };
  status: "ready" | "archived";
  archivedAt: string | null;
  createdAt: string;
  createdBy: ActorRef;
  /** names of the aliases pointing at this version */
  aliases: string[];
};

export type VersionDetail = VersionView & {
  /** the opaque signature JSON stored at upload (produced by lib/onnx) */
  signature: unknown;
  /**
   * An inference request (Open Inference Protocol) the version answers: serving's warm-up, the
   * documented and "Try it" example; null when none is stored (lib/registry/sample-request.ts)
   */
  sampleRequest: SampleRequest | null;
};

export const versionSelect = {
  id: true,
  modelId: true,
  version: true,
  sha256: true,
  sizeBytes: true,
  storageKey: true,
  signatureOpset: true,
  signatureInputCount: true,
  signatureOutputCount: true,
  description: true,
  tags: true,
  source: true,
  originalFilename: true,
  lineageKind: true,
  status: true,
  archivedAt: true,
  createdAt: true,
  createdByType: true,
  createdById: true,
  createdByLabel: true,
  model: { select: { name: true } },
  parentVersion: { select: { id: true, version: true } },
  aliases: { select: { name: true }, orderBy: { name: "asc" } },
} satisfies Prisma.ModelVersionSelect;

export const versionDetailSelect = {
  ...versionSelect,
  signature: true,
  sampleRequest: true,
} satisfies Prisma.ModelVersionSelect;

type VersionRow = Prisma.ModelVersionGetPayload<{ select: typeof versionSelect }>;

export function toVersionView(row: VersionRow): VersionView {
  return {
    id: row.id,
    modelId: row.modelId,
    model: row.model.name,
    version: row.version,
    sha256: row.sha256,
    sizeBytes: Number(row.sizeBytes),
    storageKey: row.storageKey,
    opset: row.signatureOpset,
    inputCount: row.signatureInputCount,
    outputCount: row.signatureOutputCount,
    description: row.description,
    tags: row.tags,
    source: row.source,
    originalFilename: row.originalFilename,
    lineage: { kind: row.lineageKind, parent: row.parentVersion ?? null },
    status: row.status,
    archivedAt: row.archivedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    createdBy: actorRef(row.createdByType, row.createdById, row.createdByLabel),
    aliases: row.aliases.map((a) => a.name),
  };
}

export function toVersionDetail(
  row: Prisma.ModelVersionGetPayload<{ select: typeof versionDetailSelect }>,
): VersionDetail {
  return {
    ...toVersionView(row),
    signature: row.signature,
    // Checked against sampleRequestSchema before it was stored (sample-request.ts).
    sampleRequest:
      row.sampleRequest === null ? null : orderedSampleRequest(row.sampleRequest as SampleRequest),
  };
}

export type AliasView = {
  model: string;
  name: string;
  version: number;
  versionId: string;
  protected: boolean;
  updatedAt: string;
  updatedBy: ActorRef;
};

export type AliasHistoryView = {
  /** a decimal string (the column is a bigint); ids grow in the order moves happened */
  id: string;
  model: string;
  alias: string;
  kind: "promote" | "rollback" | "remove" | "approval";
  fromVersion: VersionRef | null;
  /** null when the alias was removed */
  toVersion: VersionRef | null;
  actor: ActorRef;
  reason: string | null;
  /** the approved request, for kind "approval" */
  promotionRequestId: string | null;
  at: string;
};

export const historyInclude = {
  model: { select: { name: true } },
  fromVersion: { select: { id: true, version: true } },
  toVersion: { select: { id: true, version: true } },
} satisfies Prisma.AliasHistoryInclude;

export function toHistoryView(
  row: Prisma.AliasHistoryGetPayload<{ include: typeof historyInclude }>,
): AliasHistoryView {
  return {
    id: row.id.toString(),
    model: row.model.name,
    alias: row.alias,
    kind: row.kind,
    fromVersion: row.fromVersion ?? null,
    toVersion: row.toVersion ?? null,
    actor: actorRef(row.actorType, row.actorId, row.actorLabel),
    reason: row.reason,
    promotionRequestId: row.promotionRequestId,
    at: row.at.toISOString(),
  };
}

export type PromotionRequestView = {
  id: string;
  modelId: string;
  model: string;
  alias: string;
  version: VersionRef & { status: "ready" | "archived" };
  status: "pending" | "approved" | "rejected" | "cancelled";
  reason: string | null;
  requestedBy: ActorRef;
  createdAt: string;
  decidedBy: ActorRef | null;
  decidedAt: string | null;
  note: string | null;
};

export const requestInclude = {
  model: { select: { name: true } },
  version: { select: { id: true, version: true, status: true } },
} satisfies Prisma.PromotionRequestInclude;

export function toRequestView(
  row: Prisma.PromotionRequestGetPayload<{ include: typeof requestInclude }>,
): PromotionRequestView {
  return {
    id: row.id,
    modelId: row.modelId,
    model: row.model.name,
    alias: row.alias,
    version: row.version,
    status: row.status,
    reason: row.reason,
    requestedBy: actorRef(row.requestedByType, row.requestedById, row.requestedByLabel),
    createdAt: row.createdAt.toISOString(),
    decidedBy:
      row.decidedByType && row.decidedByLabel
        ? actorRef(row.decidedByType, row.decidedById, row.decidedByLabel)
        : null,
    decidedAt: row.decidedAt?.toISOString() ?? null,
    note: row.note,
  };
}

/** Version numbers are positive Postgres integers; anything else cannot exist (404, not 500). */
export const isVersionNumber = (n: number) => Number.isInteger(n) && n >= 1 && n <= 2_147_483_647;

export function pageOf(input: { page?: number; pageSize?: number }, maxPageSize = 200) {
  const page = Math.max(1, Math.floor(input.page ?? 1));
  const pageSize = Math.min(maxPageSize, Math.max(1, Math.floor(input.pageSize ?? 50)));
  return { page, pageSize, skip: (page - 1) * pageSize };
}
