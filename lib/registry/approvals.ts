import { conflict, forbidden, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import type { Prisma, PrismaClient } from "../db/generated/client";
import {
  AliasMovedError,
  assertStillAt,
  currentAlias,
  moveAliasLocked,
  promotableVersion,
  type AliasActor,
} from "./aliases";
import { notifyModelEvent } from "./events";
import { isValidModelName, MAX_REASON_LENGTH, optionalText, UUID_PATTERN } from "./names";
import {
  lockModel,
  pageOf,
  requestInclude,
  toRequestView,
  TX_OPTIONS,
  type AliasHistoryView,
  type AliasView,
  type PromotionRequestView,
  type Tx,
} from "./shared";

/**
 * Approval of promotions (per model, `approvalRequired`): `setAlias` on `production` opens a
 * pending request; an admin who is not the requester approves (the alias moves, history
 * kind `approval`) or rejects it (only the request changes); the requester may cancel it.
 * Decisions take the model lock first, like every alias move, so a request cannot be
 * decided twice nor race a promotion of the same model.
 */

export type PromotionStatus = PromotionRequestView["status"];

/**
 * The people behind an actor. An API token counts as the user who created it, so nobody can
 * approve their own request with a token they minted (or request with one and approve
 * signed in).
 */
async function partiesOf(
  tx: Pick<Tx, "apiToken">,
  actor: { type: string; id?: string | null },
): Promise<Set<string>> {
  const parties = new Set([`${actor.type}:${actor.id ?? ""}`]);
  if (actor.type === "token" && actor.id && UUID_PATTERN.test(actor.id)) {
    const token = await tx.apiToken.findUnique({
      where: { id: actor.id },
      select: { createdById: true },
    });
    if (token?.createdById) parties.add(`user:${token.createdById}`);
  }
  return parties;
}

async function isRequester(tx: Tx, actor: Actor, request: RequestRow): Promise<boolean> {
  const [mine, theirs] = await Promise.all([
    partiesOf(tx, actor),
    partiesOf(tx, { type: request.requestedByType, id: request.requestedById }),
  ]);
  return [...mine].some((p) => theirs.has(p));
}

type RequestRow = Prisma.PromotionRequestGetPayload<{ include: typeof requestInclude }>;

/**
 * Loads a request and locks its model, then re-reads the request under that lock (its
 * status may have changed while we waited).
 */
async function lockRequest(
  tx: Tx,
  requestId: string,
): Promise<{ request: RequestRow; model: Awaited<ReturnType<typeof lockModel>> }> {
  const missing = () => notFound(`Promotion request ${requestId}`);
  if (!UUID_PATTERN.test(requestId)) throw missing();
  const first = await tx.promotionRequest.findUnique({
    where: { id: requestId },
    select: { modelId: true },
  });
  if (!first) throw missing();
  const model = await lockModel(tx, { id: first.modelId });
  const request = await tx.promotionRequest.findUnique({
    where: { id: requestId },
    include: requestInclude,
  });
  if (!request) throw missing();
  return { request, model };
}

function assertPending(request: RequestRow): void {
  if (request.status !== "pending") {
    throw conflict(
      `This promotion request was already ${request.status}${request.decidedByLabel ? ` by ${request.decidedByLabel}` : ""}.`,
      { status: request.status },
    );
  }
}

async function assertMayDecide(tx: Tx, actor: AliasActor, request: RequestRow, verb: string) {
  if (actor.role !== "admin") {
    throw forbidden(`Only an admin can ${verb} a promotion request.`);
  }
  if (await isRequester(tx, actor, request)) {
    throw forbidden(
      `You requested this promotion, so you cannot ${verb} it; another admin must (or cancel it).`,
    );
  }
}

function decision(actor: Actor, status: PromotionStatus, note: string | null) {
  return {
    status,
    decidedByType: actor.type,
    decidedById: actor.id ?? null,
    decidedByLabel: actor.label,
    decidedAt: new Date(),
    note,
  };
}

export type ApprovePromotionResult = {
  request: PromotionRequestView;
  /** the alias after approval */
  alias: AliasView;
  /** the history entry written, or null if the alias already pointed at the target */
  history: AliasHistoryView | null;
};

/**
 * Approves a pending request and moves its alias (history kind `approval`, linked to the
 * request; one `promotion.approve` audit entry). 403 unless the approver holds the admin role
 * and is not the requester; 409 if the request is no longer pending or its target version was
 * archived meanwhile. If the alias already points at the target, the request is approved and
 * no history entry is written.
 *
 * Compare-and-set like every alias move: with `expectedVersion`, the alias must still point
 * there. Without it, the alias must not have moved since the request was made: a request
 * asked to replace what production was then, and approving it blindly after another
 * promotion would silently undo that one (AliasMovedError, `reason: "alias_moved"`, with the
 * version it points at now; approve again with that as `expectedVersion` to go ahead).
 */
export async function approvePromotion(
  db: PrismaClient,
  actor: AliasActor,
  input: { requestId: string; note?: string | null; expectedVersion?: number | null },
  ipAddress?: string | null,
): Promise<ApprovePromotionResult> {
  const note = optionalText(input.note, "note", MAX_REASON_LENGTH);
  return db.$transaction(async (tx) => {
    const { request, model } = await lockRequest(tx, input.requestId);
    await assertMayDecide(tx, actor, request, "approve");
    assertPending(request);
    const target = await promotableVersion(tx, model, request.version.version);
    const before = await tx.modelAlias.findUnique({
      where: { modelId_name: { modelId: model.id, name: request.alias } },
      select: { version: { select: { version: true } } },
    });
    const currentVersion = before?.version.version ?? null;
    if (input.expectedVersion !== undefined) {
      assertStillAt(model, request.alias, currentVersion, input.expectedVersion);
    } else {
      const movedSince = await tx.aliasHistory.findFirst({
        where: { modelId: model.id, alias: request.alias, at: { gt: request.createdAt } },
        orderBy: { id: "asc" },
        select: { fromVersion: { select: { version: true } } },
      });
      if (movedSince) {
        throw new AliasMovedError(
          model.name,
          request.alias,
          movedSince.fromVersion?.version ?? null,
          currentVersion,
        );
      }
    }
    const moved = await moveAliasLocked(
      tx,
      model,
      request.alias,
      target,
      actor,
      "approval",
      request.reason,
      request.id,
    );
    const row = await tx.promotionRequest.update({
      where: { id: request.id },
      data: decision(actor, "approved", note),
      include: requestInclude,
    });
    if (!moved) {
      await notifyModelEvent(tx, {
        type: "promotion.approved",
        modelId: model.id,
        model: model.name,
        alias: request.alias,
        version: target.version,
        versionId: target.id,
        requestId: request.id,
        actor: actor.label,
        at: row.decidedAt!.toISOString(),
      });
    }
    await recordAudit(tx, {
      actor,
      action: "promotion.approve",
      resourceType: "promotion_request",
      resourceId: request.id,
      before: {
        model: model.name,
        alias: request.alias,
        status: "pending",
        version: before?.version.version ?? null,
      },
      after: {
        model: model.name,
        alias: request.alias,
        status: "approved",
        version: target.version,
        requestedBy: request.requestedByLabel,
        note,
      },
      ipAddress,
    });
    const alias = moved?.alias ?? (await currentAlias(tx, model, request.alias))!;
    return { request: toRequestView(row), alias, history: moved?.history ?? null };
  }, TX_OPTIONS);
}

/** Rejects a pending request: only the request changes. Same 403/409 rules as approval. */
export async function rejectPromotion(
  db: PrismaClient,
  actor: AliasActor,
  input: { requestId: string; note?: string | null },
  ipAddress?: string | null,
): Promise<PromotionRequestView> {
  const note = optionalText(input.note, "note", MAX_REASON_LENGTH);
  return db.$transaction(async (tx) => {
    const { request, model } = await lockRequest(tx, input.requestId);
    await assertMayDecide(tx, actor, request, "reject");
    assertPending(request);
    return closeRequest(tx, actor, request, model, "rejected", note, ipAddress);
  }, TX_OPTIONS);
}

/** The requester withdraws a pending request (403 for anyone else, 409 if not pending). */
export async function cancelPromotion(
  db: PrismaClient,
  actor: Actor,
  input: { requestId: string; note?: string | null },
  ipAddress?: string | null,
): Promise<PromotionRequestView> {
  const note = optionalText(input.note, "note", MAX_REASON_LENGTH);
  return db.$transaction(async (tx) => {
    const { request, model } = await lockRequest(tx, input.requestId);
    if (!(await isRequester(tx, actor, request))) {
      throw forbidden("Only the requester can cancel a promotion request.");
    }
    assertPending(request);
    return closeRequest(tx, actor, request, model, "cancelled", note, ipAddress);
  }, TX_OPTIONS);
}

async function closeRequest(
  tx: Tx,
  actor: Actor,
  request: RequestRow,
  model: { id: string; name: string },
  status: "rejected" | "cancelled",
  note: string | null,
  ipAddress?: string | null,
): Promise<PromotionRequestView> {
  const row = await tx.promotionRequest.update({
    where: { id: request.id },
    data: decision(actor, status, note),
    include: requestInclude,
  });
  await notifyModelEvent(tx, {
    type: status === "rejected" ? "promotion.rejected" : "promotion.cancelled",
    modelId: model.id,
    model: model.name,
    alias: request.alias,
    version: request.version.version,
    versionId: request.versionId,
    requestId: request.id,
    actor: actor.label,
    at: row.decidedAt!.toISOString(),
  });
  await recordAudit(tx, {
    actor,
    action: status === "rejected" ? "promotion.reject" : "promotion.cancel",
    resourceType: "promotion_request",
    resourceId: request.id,
    before: {
      model: model.name,
      alias: request.alias,
      version: request.version.version,
      status: "pending",
    },
    after: {
      model: model.name,
      alias: request.alias,
      version: request.version.version,
      status,
      note,
    },
    ipAddress,
  });
  return toRequestView(row);
}

export async function getPromotionRequest(
  db: PrismaClient,
  requestId: string,
): Promise<PromotionRequestView> {
  const row = UUID_PATTERN.test(requestId)
    ? await db.promotionRequest.findUnique({ where: { id: requestId }, include: requestInclude })
    : null;
  if (!row) throw notFound(`Promotion request ${requestId}`);
  return toRequestView(row);
}

/**
 * Requests newest first, optionally by status and model (the Overview shows every pending
 * request; the model page its own). An unknown model name matches nothing.
 */
export async function listPromotionRequests(
  db: PrismaClient,
  filter: { status?: PromotionStatus; modelName?: string; page?: number; pageSize?: number } = {},
): Promise<{ requests: PromotionRequestView[]; total: number; page: number; pageSize: number }> {
  const where: Prisma.PromotionRequestWhereInput = {};
  if (filter.status) where.status = filter.status;
  if (filter.modelName !== undefined) {
    where.model = { name: isValidModelName(filter.modelName) ? filter.modelName : "" };
  }
  const { page, pageSize, skip } = pageOf(filter);
  const [rows, total] = await Promise.all([
    db.promotionRequest.findMany({
      where,
      include: requestInclude,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip,
      take: pageSize,
    }),
    db.promotionRequest.count({ where }),
  ]);
  return { requests: rows.map(toRequestView), total, page, pageSize };
}
