import type { Prisma } from "../db/generated/client";
import { likeLiteral } from "../db/like";

/**
 * The audit log answers "who did that?". `recordAudit` is the only writer and takes the
 * caller's transaction client, so an entry exists exactly when its change committed.
 */
export type Actor =
  | { type: "user"; id: string; label: string }
  | { type: "token"; id: string; label: string }
  | { type: "system"; id?: undefined; label: string };

export const SYSTEM_ACTOR: Actor = { type: "system", label: "system" };

export type AuditRecord = {
  actor: Actor;
  /** dotted verb: `user.create`, `token.revoke`, `alias.move` */
  action: string;
  resourceType: string;
  resourceId?: string | null;
  before?: unknown;
  after?: unknown;
  ipAddress?: string | null;
};

type Tx = Pick<Prisma.TransactionClient, "auditEntry">;

function toJson(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  // Dates and other non-JSON values become their JSON form, so the log stores what an API shows.
  return JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
}

export async function recordAudit(tx: Tx, record: AuditRecord): Promise<void> {
  await tx.auditEntry.create({
    data: {
      actorType: record.actor.type,
      actorId: record.actor.id ?? null,
      actorLabel: record.actor.label,
      action: record.action,
      resourceType: record.resourceType,
      resourceId: record.resourceId ?? null,
      before: toJson(record.before),
      after: toJson(record.after),
      ipAddress: record.ipAddress ?? null,
    },
  });
}

export type AuditFilter = {
  /** matches actor id exactly, or a case-insensitive part of the actor's label */
  actor?: string;
  /** exact action, or a prefix ending in "." such as "user." */
  action?: string;
  resourceType?: string;
  resourceId?: string;
  from?: Date;
  to?: Date;
};

export type AuditEntryView = {
  id: string;
  at: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
  before: unknown;
  after: unknown;
  ipAddress: string | null;
};

export function auditWhere(filter: AuditFilter): Prisma.AuditEntryWhereInput {
  const where: Prisma.AuditEntryWhereInput = {};
  if (filter.actor) {
    where.OR = [
      { actorId: filter.actor },
      { actorLabel: { contains: likeLiteral(filter.actor), mode: "insensitive" } },
    ];
  }
  if (filter.action) {
    where.action = filter.action.endsWith(".")
      ? { startsWith: likeLiteral(filter.action) }
      : { equals: filter.action };
  }
  if (filter.resourceType) where.resourceType = filter.resourceType;
  if (filter.resourceId) where.resourceId = filter.resourceId;
  if (filter.from || filter.to) {
    where.at = {
      ...(filter.from ? { gte: filter.from } : {}),
      ...(filter.to ? { lte: filter.to } : {}),
    };
  }
  return where;
}

type AuditReader = Pick<Prisma.TransactionClient, "auditEntry">;

export async function listAuditEntries(
  db: AuditReader,
  filter: AuditFilter,
  page: { page: number; pageSize: number },
): Promise<{ entries: AuditEntryView[]; total: number; page: number; pageSize: number }> {
  const where = auditWhere(filter);
  const [rows, total] = await Promise.all([
    db.auditEntry.findMany({
      where,
      orderBy: [{ at: "desc" }, { id: "desc" }],
      skip: (page.page - 1) * page.pageSize,
      take: page.pageSize,
    }),
    db.auditEntry.count({ where }),
  ]);
  return {
    entries: rows.map((r) => ({
      id: r.id.toString(),
      at: r.at.toISOString(),
      actorType: r.actorType,
      actorId: r.actorId,
      actorLabel: r.actorLabel,
      action: r.action,
      resourceType: r.resourceType,
      resourceId: r.resourceId,
      before: r.before,
      after: r.after,
      ipAddress: r.ipAddress,
    })),
    total,
    page: page.page,
    pageSize: page.pageSize,
  };
}

/** Distinct actions and resource types, for the filter drop-downs. */
export async function auditFacets(db: AuditReader) {
  const [actions, resourceTypes] = await Promise.all([
    db.auditEntry.findMany({
      distinct: ["action"],
      select: { action: true },
      orderBy: { action: "asc" },
    }),
    db.auditEntry.findMany({
      distinct: ["resourceType"],
      select: { resourceType: true },
      orderBy: { resourceType: "asc" },
    }),
  ]);
  return {
    actions: actions.map((a) => a.action),
    resourceTypes: resourceTypes.map((r) => r.resourceType),
  };
}
