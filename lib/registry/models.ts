import { conflict, forbidden } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import type { Role } from "../auth/roles";
import { isUniqueViolation } from "../db/errors";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { likeLiteral } from "../db/like";
import { notifyModelEvent } from "./events";
import {
  check,
  descriptionSchema,
  modelNameSchema,
  modelTaskSchema,
  tagSchema,
  tagsSchema,
  type ModelTask,
} from "./names";
import {
  findModelId,
  lockModel,
  modelInclude,
  pageOf,
  toModelView,
  TX_OPTIONS,
  type ModelView,
} from "./shared";

export type CreateModelInput = {
  name: string;
  task: ModelTask;
  description?: string;
  tags?: string[];
  approvalRequired?: boolean;
};

export async function createModel(
  db: PrismaClient,
  actor: Actor,
  input: CreateModelInput,
  ipAddress?: string | null,
): Promise<ModelView> {
  const name = check(modelNameSchema, input.name, "name");
  const task = check(modelTaskSchema, input.task, "task");
  const description = check(descriptionSchema, input.description ?? "", "description");
  const tags = check(tagsSchema, input.tags ?? [], "tags");
  const approvalRequired = input.approvalRequired ?? false;
  try {
    return await db.$transaction(async (tx) => {
      const row = await tx.model.create({
        data: {
          name,
          task,
          description,
          tags,
          approvalRequired,
          createdByType: actor.type,
          createdById: actor.id ?? null,
          createdByLabel: actor.label,
        },
        include: modelInclude,
      });
      await notifyModelEvent(tx, {
        type: "model.created",
        modelId: row.id,
        model: name,
        alias: null,
        version: null,
        versionId: null,
        actor: actor.label,
        at: row.createdAt.toISOString(),
      });
      await recordAudit(tx, {
        actor,
        action: "model.create",
        resourceType: "model",
        resourceId: row.id,
        after: { name, task, description, tags, approvalRequired },
        ipAddress,
      });
      return toModelView(row);
    }, TX_OPTIONS);
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A model named ${name} already exists.`);
    throw error;
  }
}

export type UpdateModelInput = {
  description?: string;
  task?: ModelTask;
  tags?: string[];
  approvalRequired?: boolean;
};

/**
 * Edits a model's description, task, tags or approval setting. Changing `approvalRequired`
 * needs the admin role: otherwise whoever the approval step is meant to check could simply
 * switch it off. A call that changes nothing writes nothing (no audit entry, no event).
 */
export async function updateModel(
  db: PrismaClient,
  actor: Actor & { role: Role },
  name: string,
  input: UpdateModelInput,
  ipAddress?: string | null,
): Promise<ModelView> {
  const next: {
    description?: string;
    task?: ModelTask;
    tags?: string[];
    approvalRequired?: boolean;
  } = {};
  if (input.description !== undefined) {
    next.description = check(descriptionSchema, input.description, "description");
  }
  if (input.task !== undefined) next.task = check(modelTaskSchema, input.task, "task");
  if (input.tags !== undefined) next.tags = check(tagsSchema, input.tags, "tags");
  if (input.approvalRequired !== undefined) next.approvalRequired = input.approvalRequired;

  return db.$transaction(async (tx) => {
    const { id } = await lockModel(tx, { name });
    const current = await tx.model.findUniqueOrThrow({ where: { id }, include: modelInclude });
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(next) as [keyof typeof next, unknown][]) {
      if (JSON.stringify(current[key]) !== JSON.stringify(value)) {
        before[key] = current[key];
        after[key] = value;
      }
    }
    if (Object.keys(after).length === 0) return toModelView(current);
    if ("approvalRequired" in after && actor.role !== "admin") {
      throw forbidden("Only an admin can turn the approval requirement on or off.");
    }
    const row = await tx.model.update({
      where: { id },
      data: after as Prisma.ModelUpdateInput,
      include: modelInclude,
    });
    await notifyModelEvent(tx, {
      type: "model.updated",
      modelId: id,
      model: row.name,
      alias: null,
      version: null,
      versionId: null,
      actor: actor.label,
      at: row.updatedAt.toISOString(),
    });
    await recordAudit(tx, {
      actor,
      action: "model.update",
      resourceType: "model",
      resourceId: id,
      before: { name: row.name, ...before },
      after: { name: row.name, ...after },
      ipAddress,
    });
    return toModelView(row);
  }, TX_OPTIONS);
}

export async function getModel(db: PrismaClient, name: string): Promise<ModelView> {
  const { id } = await findModelId(db, name);
  const row = await db.model.findUniqueOrThrow({ where: { id }, include: modelInclude });
  return toModelView(row);
}

export type ListModelsFilter = {
  /** case-insensitive part of the name or description, or an exact tag */
  search?: string;
  task?: ModelTask;
  /** exact tag (tags are stored lower-case) */
  tag?: string;
  /** true: only models whose `production` alias is set; false: only those without */
  hasProduction?: boolean;
  page?: number;
  /** default 50, at most 200 */
  pageSize?: number;
};

export async function listModels(
  db: PrismaClient,
  filter: ListModelsFilter = {},
): Promise<{ models: ModelView[]; total: number; page: number; pageSize: number }> {
  const where: Prisma.ModelWhereInput = {};
  const search = filter.search?.trim();
  if (search) {
    where.OR = [
      { name: { contains: likeLiteral(search), mode: "insensitive" } },
      { description: { contains: likeLiteral(search), mode: "insensitive" } },
      { tags: { has: search.toLowerCase() } },
    ];
  }
  if (filter.task !== undefined) where.task = check(modelTaskSchema, filter.task, "task");
  if (filter.tag !== undefined) where.tags = { has: check(tagSchema, filter.tag, "tag") };
  if (filter.hasProduction !== undefined) {
    where.aliases = filter.hasProduction
      ? { some: { name: "production" } }
      : { none: { name: "production" } };
  }
  const { page, pageSize, skip } = pageOf(filter);
  const [rows, total] = await Promise.all([
    db.model.findMany({
      where,
      include: modelInclude,
      orderBy: { name: "asc" },
      skip,
      take: pageSize,
    }),
    db.model.count({ where }),
  ]);
  return { models: rows.map(toModelView), total, page, pageSize };
}

/**
 * Deletes a model with its versions, aliases, history and promotion requests (the audit log
 * keeps the record). Refused while any alias points at one of its versions, so a served
 * model is never deleted by accident: remove its aliases first. Artifact files are not
 * touched here (they live outside the transaction): the result lists the storage keys that
 * no version of any model references any more, for the caller to garbage-collect. A new
 * upload of the same bytes can race that collection; re-check each key with
 * `findUnreferencedStorageKeys` right before deleting its file.
 *
 * Admin only: the route checks the permission.
 */
export async function deleteModel(
  db: PrismaClient,
  actor: Actor,
  name: string,
  ipAddress?: string | null,
): Promise<{
  id: string;
  name: string;
  deletedVersions: number;
  unreferencedStorageKeys: string[];
}> {
  return db.$transaction(async (tx) => {
    const model = await lockModel(tx, { name }, "UPDATE");
    const aliases = await tx.modelAlias.findMany({
      where: { modelId: model.id },
      select: { name: true, version: { select: { version: true } } },
      orderBy: { name: "asc" },
    });
    if (aliases.length > 0) {
      const list = aliases.map((a) => `${a.name} → v${a.version.version}`).join(", ");
      throw conflict(
        `Model ${name} still has aliases (${list}); remove them before deleting the model.`,
        { aliases: aliases.map((a) => ({ name: a.name, version: a.version.version })) },
      );
    }
    const before = await tx.model.findUniqueOrThrow({ where: { id: model.id } });
    const versions = await tx.modelVersion.findMany({
      where: { modelId: model.id },
      select: { storageKey: true },
    });
    const keys = [...new Set(versions.map((v) => v.storageKey))];
    await tx.model.delete({ where: { id: model.id } });
    const unreferencedStorageKeys = await findUnreferencedStorageKeys(tx, keys);
    await notifyModelEvent(tx, {
      type: "model.deleted",
      modelId: model.id,
      model: name,
      alias: null,
      version: null,
      versionId: null,
      actor: actor.label,
      at: new Date().toISOString(),
    });
    await recordAudit(tx, {
      actor,
      action: "model.delete",
      resourceType: "model",
      resourceId: model.id,
      before: {
        name,
        task: before.task,
        description: before.description,
        tags: before.tags,
        approvalRequired: before.approvalRequired,
        versions: versions.length,
      },
      ipAddress,
    });
    return {
      id: model.id,
      name,
      deletedVersions: versions.length,
      unreferencedStorageKeys,
    };
  }, TX_OPTIONS);
}

/** Of `keys`, those that no model version references (safe to delete from the artifact store). */
export async function findUnreferencedStorageKeys(
  db: Pick<PrismaClient, "modelVersion">,
  keys: string[],
): Promise<string[]> {
  if (keys.length === 0) return [];
  const still = await db.modelVersion.findMany({
    where: { storageKey: { in: keys } },
    select: { storageKey: true },
    distinct: ["storageKey"],
  });
  const referenced = new Set(still.map((r) => r.storageKey));
  return keys.filter((k) => !referenced.has(k)).sort();
}
