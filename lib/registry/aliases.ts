import { ApiError, conflict, forbidden, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import type { Role } from "../auth/roles";
import type { PrismaClient } from "../db/generated/client";
import { notifyModelEvent } from "./events";
import type { PreflightResult } from "./preflight";
import {
  aliasNameSchema,
  canChangeAlias,
  check,
  invalid,
  isProtectedAlias,
  MAX_REASON_LENGTH,
  optionalText,
  SLUG_PATTERN,
} from "./names";
import {
  actorRef,
  findModelId,
  historyInclude,
  isVersionNumber,
  lockModel,
  requestInclude,
  toHistoryView,
  toRequestView,
  TX_OPTIONS,
  type AliasHistoryView,
  type AliasView,
  type LockedModel,
  type PromotionRequestView,
  type Tx,
  type VersionRef,
} from "./shared";

/**
 * Aliases: movable names pointing at versions. Every move, rollback and removal runs in one
 * transaction that (1) locks the model row, so concurrent moves of one model queue up and
 * each sees the target its predecessor committed; (2) re-points the alias; (3) appends an
 * alias-history row whose `fromVersion` is the target it replaced; (4) queues a NOTIFY;
 * (5) writes one audit entry. Hence history is a chain: each entry's fromVersion is the
 * previous entry's toVersion, in id order.
 *
 * Moving an alias to the version it already points at is a successful no-op
 * (`outcome: "unchanged"`): nothing is written, no history, no audit, no event. A retried
 * request must not fill the history with non-moves, and it is not the caller's error.
 *
 * Moves are compare-and-set: given `expectedVersion` (the version the mover saw the alias
 * point at), a move happens only if the alias still points there when the lock is held;
 * otherwise it is an AliasMovedError (409) and nothing changes. So a decision made on what
 * production was (a person's, an automated evaluation's) never overwrites a newer one.
 */

export type AliasActor = Actor & { role: Role };

export type SetAliasInput = {
  modelName: string;
  alias: string;
  version: number;
  reason?: string | null;
  /** The version the mover saw the alias point at (null: it was not set); omitted: no check. */
  expectedVersion?: number | null;
  /** The target's pre-flight (lib/registry/preflight.ts), kept in the audit entry. */
  preflight?: PreflightResult | null;
};

export type AliasMoveResult =
  | { outcome: "moved"; alias: AliasView; history: AliasHistoryView }
  | { outcome: "unchanged"; alias: AliasView };

export type SetAliasResult =
  | AliasMoveResult
  /** the model requires approval for `production`: nothing moved, a request is pending */
  | { outcome: "requested"; request: PromotionRequestView };

export function assertMayChangeAlias(role: string, alias: string): void {
  if (canChangeAlias(role, alias)) return;
  throw forbidden(
    isProtectedAlias(alias)
      ? `Moving the protected alias ${alias} needs the models:promote permission, which the ${role} role does not have.`
      : `Changing aliases needs the models:write permission, which the ${role} role does not have.`,
  );
}

const aliasResource = (modelName: string, alias: string) => `${modelName}/${alias}`;

const versionLabel = (version: number | null) => (version === null ? "nothing" : `v${version}`);

/** A move refused because the alias no longer points where the mover saw it (409). */
export class AliasMovedError extends ApiError {
  constructor(
    readonly model: string,
    readonly alias: string,
    readonly expectedVersion: number | null,
    readonly currentVersion: number | null,
  ) {
    super(
      "conflict",
      `${alias} of model ${model} points at ${versionLabel(currentVersion)}, not ${versionLabel(expectedVersion)} as this change expected: it was moved meanwhile. Nothing changed; look at it again before deciding.`,
      { reason: "alias_moved", alias, expectedVersion, currentVersion },
    );
    this.name = "AliasMovedError";
  }
}

/**
 * The compare-and-set check (`expected` undefined: no check). Under the model lock it decides;
 * before it (promoteAlias) it only saves a pre-flight that could not lead to a move.
 */
export function assertStillAt(
  model: { name: string },
  alias: string,
  current: number | null,
  expected: number | null | undefined,
): void {
  if (expected !== undefined && expected !== current) {
    throw new AliasMovedError(model.name, alias, expected, current);
  }
}

/** What the audit entry keeps of a pre-flight: its outcome, and whether it was overridden. */
function preflightAudit(preflight: PreflightResult | null | undefined) {
  if (!preflight) return {};
  return {
    preflight: {
      outcome: preflight.outcome,
      stage: preflight.stage,
      message: preflight.message,
      sampleRequest: preflight.sampleRequest,
      overridden: preflight.overridden,
    },
  };
}

/** The version an alias may be moved to: it must exist in this model and not be archived. */
export async function promotableVersion(
  tx: Pick<Tx, "modelVersion">,
  model: Pick<LockedModel, "id" | "name">,
  version: number,
): Promise<VersionRef> {
  const row = isVersionNumber(version)
    ? await tx.modelVersion.findUnique({
        where: { modelId_version: { modelId: model.id, version } },
        select: { id: true, version: true, status: true },
      })
    : null;
  if (!row) throw notFound(`Version ${version} of model ${model.name}`);
  if (row.status === "archived") {
    throw conflict(
      `Version ${version} of model ${model.name} is archived and cannot be promoted; unarchive it first.`,
    );
  }
  return { id: row.id, version: row.version };
}

async function aliasRow(tx: Pick<Tx, "modelAlias">, modelId: string, name: string) {
  return tx.modelAlias.findUnique({
    where: { modelId_name: { modelId, name } },
    include: { version: { select: { id: true, version: true } } },
  });
}

function toAliasView(
  modelName: string,
  row: NonNullable<Awaited<ReturnType<typeof aliasRow>>>,
): AliasView {
  return {
    model: modelName,
    name: row.name,
    version: row.version.version,
    versionId: row.versionId,
    protected: isProtectedAlias(row.name),
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: actorRef(row.updatedByType, row.updatedById, row.updatedByLabel),
  };
}

/**
 * Re-points (or creates) an alias under a lock the caller holds, with its history row and
 * event. The caller writes the audit entry (its action says why the alias moved). Returns
 * null when the alias already points at `target`.
 */
export async function moveAliasLocked(
  tx: Tx,
  model: LockedModel,
  alias: string,
  target: VersionRef,
  actor: Actor,
  kind: "promote" | "rollback" | "approval",
  reason: string | null,
  promotionRequestId: string | null = null,
): Promise<{ alias: AliasView; history: AliasHistoryView; from: VersionRef | null } | null> {
  const current = await aliasRow(tx, model.id, alias);
  if (current?.versionId === target.id) return null;
  // Set here, after the lock: the column default (transaction start) could run backwards
  // relative to the order in which queued moves actually happen.
  const at = new Date();
  const updatedBy = {
    updatedAt: at,
    updatedByType: actor.type,
    updatedById: actor.id ?? null,
    updatedByLabel: actor.label,
  };
  const row = current
    ? await tx.modelAlias.update({
        where: { id: current.id },
        data: { versionId: target.id, ...updatedBy },
        include: { version: { select: { id: true, version: true } } },
      })
    : await tx.modelAlias.create({
        data: { modelId: model.id, name: alias, versionId: target.id, ...updatedBy },
        include: { version: { select: { id: true, version: true } } },
      });
  const from = current ? current.version : null;
  const history = await tx.aliasHistory.create({
    data: {
      modelId: model.id,
      alias,
      fromVersionId: from?.id ?? null,
      toVersionId: target.id,
      kind,
      actorType: actor.type,
      actorId: actor.id ?? null,
      actorLabel: actor.label,
      reason,
      promotionRequestId,
      at,
    },
    include: historyInclude,
  });
  await notifyModelEvent(tx, {
    type: "alias.moved",
    modelId: model.id,
    model: model.name,
    alias,
    version: target.version,
    versionId: target.id,
    fromVersion: from?.version ?? null,
    kind,
    historyId: history.id.toString(),
    ...(promotionRequestId ? { requestId: promotionRequestId } : {}),
    actor: actor.label,
    at: at.toISOString(),
  });
  return { alias: toAliasView(model.name, row), history: toHistoryView(history), from };
}

/** The alias as it stands (inside the caller's transaction), or null if it is not set. */
export async function currentAlias(
  tx: Pick<Tx, "modelAlias">,
  model: { id: string; name: string },
  alias: string,
): Promise<AliasView | null> {
  const row = await aliasRow(tx, model.id, alias);
  return row ? toAliasView(model.name, row) : null;
}

async function unchanged(tx: Tx, model: LockedModel, alias: string): Promise<AliasMoveResult> {
  return { outcome: "unchanged", alias: (await currentAlias(tx, model, alias))! };
}

/**
 * Promotes: points `alias` at `version`. `production` and `staging` need models:promote,
 * other aliases models:write (403 otherwise); `latest` and non-slug names are a 400; an
 * archived version is a 409, and so is an `expectedVersion` the alias no longer points at
 * (AliasMovedError). On a model with `approvalRequired`, moving `production` does not move it
 * but opens a pending PromotionRequest (an identical pending request is a 409). It does not
 * load the version: promoteAlias (preflight.ts) checks that first for people and API clients.
 */
export async function setAlias(
  db: PrismaClient,
  actor: AliasActor,
  input: SetAliasInput,
  ipAddress?: string | null,
): Promise<SetAliasResult> {
  const alias = check(aliasNameSchema, input.alias, "alias");
  assertMayChangeAlias(actor.role, alias);
  const reason = optionalText(input.reason, "reason", MAX_REASON_LENGTH);

  return db.$transaction(async (tx): Promise<SetAliasResult> => {
    const model = await lockModel(tx, { name: input.modelName });
    const target = await promotableVersion(tx, model, input.version);
    const current = await aliasRow(tx, model.id, alias);
    if (current?.versionId === target.id) return unchanged(tx, model, alias);
    assertStillAt(model, alias, current?.version.version ?? null, input.expectedVersion);

    if (model.approvalRequired && alias === "production") {
      const pending = await tx.promotionRequest.findFirst({
        where: { modelId: model.id, alias, versionId: target.id, status: "pending" },
        select: { id: true },
      });
      if (pending) {
        throw conflict(
          `A request to move ${alias} of model ${model.name} to version ${target.version} is already pending.`,
          { requestId: pending.id },
        );
      }
      const request = await tx.promotionRequest.create({
        data: {
          modelId: model.id,
          alias,
          versionId: target.id,
          reason,
          requestedByType: actor.type,
          requestedById: actor.id ?? null,
          requestedByLabel: actor.label,
        },
        include: requestInclude,
      });
      await notifyModelEvent(tx, {
        type: "promotion.requested",
        modelId: model.id,
        model: model.name,
        alias,
        version: target.version,
        versionId: target.id,
        fromVersion: current?.version.version ?? null,
        requestId: request.id,
        actor: actor.label,
        at: request.createdAt.toISOString(),
      });
      await recordAudit(tx, {
        actor,
        action: "promotion.request",
        resourceType: "promotion_request",
        resourceId: request.id,
        after: {
          model: model.name,
          alias,
          version: target.version,
          currentVersion: current?.version.version ?? null,
          reason,
          status: "pending",
          ...preflightAudit(input.preflight),
        },
        ipAddress,
      });
      return { outcome: "requested", request: toRequestView(request) };
    }

    const moved = (await moveAliasLocked(tx, model, alias, target, actor, "promote", reason))!;
    await recordAudit(tx, {
      actor,
      action: "alias.move",
      resourceType: "model_alias",
      resourceId: aliasResource(model.name, alias),
      before: { model: model.name, alias, version: moved.from?.version ?? null },
      after: {
        model: model.name,
        alias,
        version: target.version,
        reason,
        ...preflightAudit(input.preflight),
      },
      ipAddress,
    });
    return { outcome: "moved", alias: moved.alias, history: moved.history };
  }, TX_OPTIONS);
}

/** Removes an alias (same permissions as moving it); the history records the removal. */
export async function removeAlias(
  db: PrismaClient,
  actor: AliasActor,
  input: { modelName: string; alias: string; reason?: string | null },
  ipAddress?: string | null,
): Promise<{ history: AliasHistoryView }> {
  const alias = input.alias;
  const reason = optionalText(input.reason, "reason", MAX_REASON_LENGTH);
  if (SLUG_PATTERN.test(alias)) assertMayChangeAlias(actor.role, alias);

  return db.$transaction(async (tx) => {
    const model = await lockModel(tx, { name: input.modelName });
    const current = SLUG_PATTERN.test(alias) ? await aliasRow(tx, model.id, alias) : null;
    if (!current) throw notFound(`Alias ${JSON.stringify(alias)} of model ${model.name}`);
    await tx.modelAlias.delete({ where: { id: current.id } });
    const at = new Date();
    const history = await tx.aliasHistory.create({
      data: {
        modelId: model.id,
        alias,
        fromVersionId: current.versionId,
        toVersionId: null,
        kind: "remove",
        actorType: actor.type,
        actorId: actor.id ?? null,
        actorLabel: actor.label,
        reason,
        at,
      },
      include: historyInclude,
    });
    await notifyModelEvent(tx, {
      type: "alias.removed",
      modelId: model.id,
      model: model.name,
      alias,
      version: null,
      versionId: null,
      fromVersion: current.version.version,
      kind: "remove",
      historyId: history.id.toString(),
      actor: actor.label,
      at: at.toISOString(),
    });
    await recordAudit(tx, {
      actor,
      action: "alias.remove",
      resourceType: "model_alias",
      resourceId: aliasResource(model.name, alias),
      before: { model: model.name, alias, version: current.version.version },
      after: { model: model.name, alias, version: null, reason },
      ipAddress,
    });
    return { history: toHistoryView(history) };
  }, TX_OPTIONS);
}

export type RollbackAliasInput = {
  modelName: string;
  alias: string;
  reason?: string | null;
  /** As for setAlias: the version the mover saw the alias point at; omitted: no check. */
  expectedVersion?: number | null;
} & (
  | { toHistoryEntryId: string; previous?: undefined }
  | { previous: true; toHistoryEntryId?: undefined }
);

/**
 * One-click rollback: re-points `alias` to the version a history entry moved it to
 * (`toHistoryEntryId`, an entry of this model and alias), or with `previous: true` to the
 * version it pointed at before its latest change ("previous production"). Appends a
 * `rollback` history entry. Not subject to approval: its target already served under this
 * alias, and a rollback is what you reach for when the approver may not be around.
 * 409 when there is nothing to roll back to, the target is archived, or the alias no longer
 * points at `expectedVersion`.
 */
export async function rollbackAlias(
  db: PrismaClient,
  actor: AliasActor,
  input: RollbackAliasInput,
  ipAddress?: string | null,
): Promise<AliasMoveResult> {
  const alias = input.alias;
  const reason = optionalText(input.reason, "reason", MAX_REASON_LENGTH);
  const byEntry = input.toHistoryEntryId !== undefined;
  if (byEntry === (input.previous === true)) {
    throw invalid([
      { field: "toHistoryEntryId", message: "give either toHistoryEntryId or previous: true" },
    ]);
  }
  if (SLUG_PATTERN.test(alias)) assertMayChangeAlias(actor.role, alias);

  return db.$transaction(async (tx): Promise<AliasMoveResult> => {
    const model = await lockModel(tx, { name: input.modelName });
    if (!SLUG_PATTERN.test(alias)) {
      throw notFound(`Alias ${JSON.stringify(alias)} of model ${model.name}`);
    }
    let targetId: string | null;
    let entryId: string;
    if (byEntry) {
      const id = input.toHistoryEntryId!;
      const entry = /^[0-9]{1,18}$/.test(id)
        ? await tx.aliasHistory.findFirst({
            where: { id: BigInt(id), modelId: model.id, alias },
            select: { id: true, toVersionId: true },
          })
        : null;
      if (!entry) throw notFound(`History entry ${id} of alias ${alias} of model ${model.name}`);
      if (!entry.toVersionId) {
        throw conflict(
          `History entry ${id} removed ${alias}; roll back to an entry that pointed it at a version.`,
        );
      }
      targetId = entry.toVersionId;
      entryId = id;
    } else {
      const latest = await tx.aliasHistory.findFirst({
        where: { modelId: model.id, alias },
        orderBy: { id: "desc" },
        select: { id: true, fromVersionId: true },
      });
      if (!latest) throw notFound(`History of alias ${alias} of model ${model.name}`);
      if (!latest.fromVersionId) {
        throw conflict(`${alias} of model ${model.name} has no previous version to roll back to.`);
      }
      targetId = latest.fromVersionId;
      entryId = latest.id.toString();
    }
    const version = await tx.modelVersion.findUniqueOrThrow({
      where: { id: targetId },
      select: { version: true },
    });
    const target = await promotableVersion(tx, model, version.version);
    const current = await aliasRow(tx, model.id, alias);
    if (current?.versionId === target.id) return unchanged(tx, model, alias);
    assertStillAt(model, alias, current?.version.version ?? null, input.expectedVersion);
    const moved = await moveAliasLocked(tx, model, alias, target, actor, "rollback", reason);
    if (!moved) return unchanged(tx, model, alias);
    await recordAudit(tx, {
      actor,
      action: "alias.rollback",
      resourceType: "model_alias",
      resourceId: aliasResource(model.name, alias),
      before: { model: model.name, alias, version: moved.from?.version ?? null },
      after: {
        model: model.name,
        alias,
        version: target.version,
        reason,
        rolledBackTo: byEntry ? { historyEntryId: entryId } : { previousOf: entryId },
      },
      ipAddress,
    });
    return { outcome: "moved", alias: moved.alias, history: moved.history };
  }, TX_OPTIONS);
}

/** A model's aliases, by name. */
export async function listAliases(db: PrismaClient, modelName: string): Promise<AliasView[]> {
  const model = await findModelId(db, modelName);
  const rows = await db.modelAlias.findMany({
    where: { modelId: model.id },
    include: { version: { select: { id: true, version: true } } },
    orderBy: { name: "asc" },
  });
  return rows.map((r) => toAliasView(model.name, r));
}

export async function getAlias(
  db: PrismaClient,
  modelName: string,
  alias: string,
): Promise<AliasView> {
  const model = await findModelId(db, modelName);
  const row = SLUG_PATTERN.test(alias) ? await aliasRow(db, model.id, alias) : null;
  if (!row) throw notFound(`Alias ${JSON.stringify(alias)} of model ${model.name}`);
  return toAliasView(model.name, row);
}

/**
 * The alias history of a model (or of one alias), newest first, with versions and actors.
 * An alias that never existed has an empty history (not a 404: it may be about to exist).
 * Page backwards with `beforeId` (the last id of the previous page).
 */
export async function getAliasHistory(
  db: PrismaClient,
  modelName: string,
  alias?: string,
  options: { limit?: number; beforeId?: string } = {},
): Promise<AliasHistoryView[]> {
  const model = await findModelId(db, modelName);
  const limit = Math.min(1000, Math.max(1, Math.floor(options.limit ?? 200)));
  const before =
    options.beforeId !== undefined && /^[0-9]{1,18}$/.test(options.beforeId)
      ? BigInt(options.beforeId)
      : undefined;
  const rows = await db.aliasHistory.findMany({
    where: {
      modelId: model.id,
      ...(alias !== undefined ? { alias } : {}),
      ...(before !== undefined ? { id: { lt: before } } : {}),
    },
    include: historyInclude,
    orderBy: { id: "desc" },
    take: limit,
  });
  return rows.map(toHistoryView);
}
