import { z } from "zod";
import { conflict, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import { isUniqueViolation } from "../db/errors";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { check, descriptionSchema, invalid, SLUG_PATTERN, UUID_PATTERN } from "../registry/names";
import { TX_OPTIONS, type Tx } from "../registry/shared";
import {
  jobActionSchema,
  maxAttemptsFor,
  type JobAction,
  type JobActionInput,
} from "./action-schema";
import { validateSchedule } from "./cron";
import { notifyJobEvent } from "./events";
import {
  jobInclude,
  parseStoredAction,
  runInclude,
  runSummarySelect,
  toJobView,
  toRunSummary,
  toRunView,
  type JobView,
  type RunDetail,
  type RunStatus,
  type RunSummary,
  type RunView,
} from "./views";

/**
 * Refresh jobs: create, edit, enable/disable, delete and "Run now", each audited in its own
 * transaction together with a NOTIFY that tells the schedulers to re-sync.
 */

export const jobNameSchema = z
  .string()
  .regex(
    SLUG_PATTERN,
    "must be 1-63 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit",
  );

export const DEFAULT_TIMEZONE = "UTC";

export type CreateJobInput = {
  name: string;
  model: string;
  schedule: string;
  timezone?: string;
  enabled?: boolean;
  description?: string;
  action: JobActionInput;
};

export type UpdateJobInput = Partial<Omit<CreateJobInput, "name">>;

function checkSchedule(schedule: string, timezone: string): string {
  const problems = validateSchedule(schedule, timezone);
  if (problems.length > 0) throw invalid(problems);
  return schedule.trim();
}

function checkAction(action: unknown): JobAction {
  return check(jobActionSchema, action, "action");
}

async function modelIdOf(
  db: Pick<Tx, "model">,
  name: string,
): Promise<{ id: string; name: string }> {
  const row = SLUG_PATTERN.test(name)
    ? await db.model.findUnique({ where: { name }, select: { id: true, name: true } })
    : null;
  if (!row) {
    throw invalid([
      { field: "model", message: `names no registered model (${JSON.stringify(name)})` },
    ]);
  }
  return row;
}

const activeStatuses: RunStatus[] = ["queued", "running"];

async function activeRunOf(db: Pick<Tx, "jobRun">, jobId: string): Promise<RunSummary | null> {
  const row = await db.jobRun.findFirst({
    where: { jobId, status: { in: activeStatuses } },
    select: runSummarySelect,
    orderBy: { createdAt: "desc" },
  });
  return row ? toRunSummary(row) : null;
}

/** The job row, locked for this transaction (FOR NO KEY UPDATE: run inserts still pass). */
export async function lockJob(
  tx: Tx,
  id: string,
): Promise<{ id: string; name: string; enabled: boolean }> {
  const rows = UUID_PATTERN.test(id)
    ? await tx.$queryRaw<{ id: string; name: string; enabled: boolean }[]>`
        SELECT id::text AS id, name, enabled FROM refresh_job WHERE id = ${id}::uuid FOR NO KEY UPDATE`
    : [];
  const row = rows[0];
  if (!row) throw notFound(`Job ${JSON.stringify(id)}`);
  return row;
}

/** A job id from an id or a name (404 when neither matches). */
async function resolveJobId(db: Pick<Tx, "refreshJob">, idOrName: string): Promise<string> {
  const row = UUID_PATTERN.test(idOrName)
    ? await db.refreshJob.findUnique({ where: { id: idOrName }, select: { id: true } })
    : SLUG_PATTERN.test(idOrName)
      ? await db.refreshJob.findUnique({ where: { name: idOrName }, select: { id: true } })
      : null;
  if (!row) throw notFound(`Job ${JSON.stringify(idOrName)}`);
  return row.id;
}

async function viewOf(db: Pick<Tx, "refreshJob" | "jobRun">, id: string): Promise<JobView> {
  // One after the other: inside a transaction both go over the same connection.
  const row = await db.refreshJob.findUniqueOrThrow({ where: { id }, include: jobInclude });
  return toJobView(row, await activeRunOf(db, id));
}

/** The parts of a job the audit log keeps as before/after. */
function auditShape(row: {
  name: string;
  description: string;
  modelId: string;
  schedule: string;
  timezone: string;
  enabled: boolean;
  action: unknown;
}) {
  return {
    name: row.name,
    description: row.description,
    modelId: row.modelId,
    schedule: row.schedule,
    timezone: row.timezone,
    enabled: row.enabled,
    action: row.action,
  };
}

export async function createJob(
  db: PrismaClient,
  actor: Actor,
  input: CreateJobInput,
  ipAddress?: string | null,
): Promise<JobView> {
  const problems: { field: string; message: string }[] = [];
  const name = jobNameSchema.safeParse(input.name);
  if (!name.success) problems.push({ field: "name", message: name.error.issues[0]!.message });
  const timezone = input.timezone ?? DEFAULT_TIMEZONE;
  problems.push(...validateSchedule(input.schedule ?? "", timezone));
  const action = jobActionSchema.safeParse(input.action);
  if (!action.success) {
    for (const issue of action.error.issues) {
      problems.push({
        field: ["action", ...issue.path.map(String)].join("."),
        message: issue.message,
      });
    }
  }
  const description = descriptionSchema.safeParse(input.description ?? "");
  if (!description.success) {
    problems.push({ field: "description", message: description.error.issues[0]!.message });
  }
  // Every problem of the form at once, so a person fixes them in one go.
  if (problems.length > 0) throw invalid(problems);
  const model = await modelIdOf(db, input.model);
  try {
    return await db.$transaction(async (tx) => {
      const row = await tx.refreshJob.create({
        data: {
          name: name.data!,
          description: description.data!,
          modelId: model.id,
          schedule: input.schedule.trim(),
          timezone,
          enabled: input.enabled ?? true,
          action: action.data as Prisma.InputJsonValue,
          createdByType: actor.type,
          createdById: actor.id ?? null,
          createdByLabel: actor.label,
          updatedByType: actor.type,
          updatedById: actor.id ?? null,
          updatedByLabel: actor.label,
        },
      });
      await notifyJobEvent(tx, { type: "job.created", jobId: row.id });
      await recordAudit(tx, {
        actor,
        action: "job.create",
        resourceType: "refresh_job",
        resourceId: row.id,
        after: { ...auditShape(row), model: model.name },
        ipAddress,
      });
      return viewOf(tx, row.id);
    }, TX_OPTIONS);
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A job named ${name.data} already exists.`);
    throw error;
  }
}

/** Edits a job; fields left out keep their value. A call that changes nothing writes nothing. */
export async function updateJob(
  db: PrismaClient,
  actor: Actor,
  idOrName: string,
  input: UpdateJobInput,
  ipAddress?: string | null,
): Promise<JobView> {
  const id = await resolveJobId(db, idOrName);
  const model = input.model !== undefined ? await modelIdOf(db, input.model) : undefined;
  const action = input.action !== undefined ? checkAction(input.action) : undefined;
  const description =
    input.description !== undefined
      ? check(descriptionSchema, input.description, "description")
      : undefined;
  return db.$transaction(async (tx) => {
    await lockJob(tx, id);
    const current = await tx.refreshJob.findUniqueOrThrow({ where: { id } });
    const schedule = input.schedule ?? current.schedule;
    const timezone = input.timezone ?? current.timezone;
    if (input.schedule !== undefined || input.timezone !== undefined) {
      checkSchedule(schedule, timezone);
    }
    const next: Record<string, unknown> = {
      schedule: schedule.trim(),
      timezone,
      ...(model ? { modelId: model.id } : {}),
      ...(action ? { action } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
    };
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(next)) {
      const old = (current as Record<string, unknown>)[key];
      if (JSON.stringify(old) !== JSON.stringify(value)) {
        before[key] = old;
        after[key] = value;
      }
    }
    if (Object.keys(after).length === 0) return viewOf(tx, id);
    await tx.refreshJob.update({
      where: { id },
      data: {
        ...(after as Prisma.RefreshJobUncheckedUpdateInput),
        updatedByType: actor.type,
        updatedById: actor.id ?? null,
        updatedByLabel: actor.label,
      },
    });
    await notifyJobEvent(tx, { type: "job.updated", jobId: id });
    await recordAudit(tx, {
      actor,
      action: "job.update",
      resourceType: "refresh_job",
      resourceId: id,
      before: { name: current.name, ...before },
      after: { name: current.name, ...after },
      ipAddress,
    });
    return viewOf(tx, id);
  }, TX_OPTIONS);
}

/** Turns a job's schedule on or off (audited as job.enable / job.disable). */
export async function setJobEnabled(
  db: PrismaClient,
  actor: Actor,
  idOrName: string,
  enabled: boolean,
  ipAddress?: string | null,
): Promise<JobView> {
  const id = await resolveJobId(db, idOrName);
  return db.$transaction(async (tx) => {
    const job = await lockJob(tx, id);
    if (job.enabled === enabled) return viewOf(tx, id);
    await tx.refreshJob.update({
      where: { id },
      data: {
        enabled,
        updatedByType: actor.type,
        updatedById: actor.id ?? null,
        updatedByLabel: actor.label,
      },
    });
    await notifyJobEvent(tx, { type: "job.updated", jobId: id });
    await recordAudit(tx, {
      actor,
      action: enabled ? "job.enable" : "job.disable",
      resourceType: "refresh_job",
      resourceId: id,
      before: { name: job.name, enabled: !enabled },
      after: { name: job.name, enabled },
      ipAddress,
    });
    return viewOf(tx, id);
  }, TX_OPTIONS);
}

/**
 * Deletes a job and its run history (the audit log keeps the record). Refused while a run is
 * queued or running: wait for it to end (or disable the job first).
 */
export async function deleteJob(
  db: PrismaClient,
  actor: Actor,
  idOrName: string,
  ipAddress?: string | null,
): Promise<{ id: string; name: string; deletedRuns: number }> {
  const id = await resolveJobId(db, idOrName);
  return db.$transaction(async (tx) => {
    await lockJob(tx, id);
    const active = await activeRunOf(tx, id);
    if (active) {
      throw conflict(
        `A run of this job is ${active.status} (run ${active.id}); delete the job once it has ended.`,
        { run: active },
      );
    }
    const current = await tx.refreshJob.findUniqueOrThrow({ where: { id } });
    const deletedRuns = await tx.jobRun.count({ where: { jobId: id } });
    await tx.refreshJob.delete({ where: { id } });
    await notifyJobEvent(tx, { type: "job.deleted", jobId: id });
    await recordAudit(tx, {
      actor,
      action: "job.delete",
      resourceType: "refresh_job",
      resourceId: id,
      before: { ...auditShape(current), runs: deletedRuns },
      ipAddress,
    });
    return { id, name: current.name, deletedRuns };
  }, TX_OPTIONS);
}

/**
 * "Run now": queues a manual run that exactly one scheduler picks up. Refused (409) while a
 * run of the job is queued or running, since runs of one job never overlap. Allowed on a
 * disabled job (disabling stops the schedule, not the job).
 */
export async function runJobNow(
  db: PrismaClient,
  actor: Actor,
  idOrName: string,
  ipAddress?: string | null,
): Promise<RunView> {
  const id = await resolveJobId(db, idOrName);
  return db.$transaction(async (tx) => {
    const job = await lockJob(tx, id);
    const active = await activeRunOf(tx, id);
    if (active) {
      throw conflict(
        `A run of this job is already ${active.status} (run ${active.id}); runs of one job never overlap.`,
        { run: active },
      );
    }
    const current = await tx.refreshJob.findUniqueOrThrow({ where: { id } });
    const action = parseStoredAction(current.action);
    const run = await tx.jobRun.create({
      data: {
        jobId: id,
        trigger: "manual",
        status: "queued",
        action: current.action as Prisma.InputJsonValue,
        maxAttempts: maxAttemptsFor(action),
        requestedByType: actor.type,
        requestedById: actor.id ?? null,
        requestedByLabel: actor.label,
      },
      include: runInclude,
    });
    await notifyJobEvent(tx, { type: "run.queued", jobId: id, runId: run.id });
    await recordAudit(tx, {
      actor,
      action: "job.run",
      resourceType: "refresh_job",
      resourceId: id,
      after: { name: job.name, runId: run.id, trigger: "manual" },
      ipAddress,
    });
    return toRunView(run);
  }, TX_OPTIONS);
}

export async function getJob(db: PrismaClient, idOrName: string): Promise<JobView> {
  const id = await resolveJobId(db, idOrName);
  return viewOf(db, id);
}

export type ListJobsFilter = {
  model?: string;
  enabled?: boolean;
  page?: number;
  pageSize?: number;
};

export async function listJobs(
  db: PrismaClient,
  filter: ListJobsFilter = {},
): Promise<{ jobs: JobView[]; total: number; page: number; pageSize: number }> {
  const where: Prisma.RefreshJobWhereInput = {};
  if (filter.model !== undefined) where.model = { name: filter.model };
  if (filter.enabled !== undefined) where.enabled = filter.enabled;
  const page = Math.max(1, Math.floor(filter.page ?? 1));
  const pageSize = Math.min(200, Math.max(1, Math.floor(filter.pageSize ?? 50)));
  const [rows, total] = await Promise.all([
    db.refreshJob.findMany({
      where,
      include: jobInclude,
      orderBy: { name: "asc" },
      skip: (page - 1) * pageSize,
      take: pageSize,
    }),
    db.refreshJob.count({ where }),
  ]);
  const active = rows.length
    ? await db.jobRun.findMany({
        where: { jobId: { in: rows.map((r) => r.id) }, status: { in: activeStatuses } },
        select: { ...runSummarySelect, jobId: true },
        orderBy: { createdAt: "desc" },
      })
    : [];
  const activeByJob = new Map<string, RunSummary>();
  for (const r of active) if (!activeByJob.has(r.jobId)) activeByJob.set(r.jobId, toRunSummary(r));
  const now = new Date();
  return {
    jobs: rows.map((r) => toJobView(r, activeByJob.get(r.id) ?? null, now)),
    total,
    page,
    pageSize,
  };
}

export type ListRunsFilter = { status?: RunStatus; limit?: number; before?: string };

/** A job's runs, newest first; `before` (a run id) pages back through history. */
export async function listRuns(
  db: PrismaClient,
  idOrName: string,
  filter: ListRunsFilter = {},
): Promise<{ runs: RunView[]; more: boolean }> {
  const id = await resolveJobId(db, idOrName);
  const limit = Math.min(500, Math.max(1, Math.floor(filter.limit ?? 50)));
  const where: Prisma.JobRunWhereInput = { jobId: id };
  if (filter.status) where.status = filter.status;
  if (filter.before) {
    const pivot = UUID_PATTERN.test(filter.before)
      ? await db.jobRun.findUnique({ where: { id: filter.before }, select: { createdAt: true } })
      : null;
    if (!pivot) throw invalid([{ field: "before", message: "names no run of this job" }]);
    where.createdAt = { lt: pivot.createdAt };
  }
  const rows = await db.jobRun.findMany({
    where,
    include: runInclude,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
  });
  return { runs: rows.slice(0, limit).map(toRunView), more: rows.length > limit };
}

export const MAX_LOG_PAGE = 2_000;

/**
 * One run with its log. `afterLogId` returns only newer lines (for streaming while the run
 * is live); at most `logLimit` lines per call, `logMore` says whether more follow.
 */
export async function getRun(
  db: PrismaClient,
  runId: string,
  opts: { afterLogId?: string; logLimit?: number } = {},
): Promise<RunDetail> {
  const row = UUID_PATTERN.test(runId)
    ? await db.jobRun.findUnique({ where: { id: runId }, include: runInclude })
    : null;
  if (!row) throw notFound(`Run ${JSON.stringify(runId)}`);
  const limit = Math.min(MAX_LOG_PAGE, Math.max(1, Math.floor(opts.logLimit ?? MAX_LOG_PAGE)));
  const after = opts.afterLogId && /^\d+$/.test(opts.afterLogId) ? BigInt(opts.afterLogId) : null;
  const lines = await db.jobRunLog.findMany({
    where: { runId: row.id, ...(after !== null ? { id: { gt: after } } : {}) },
    orderBy: { id: "asc" },
    take: limit + 1,
  });
  const page = lines.slice(0, limit);
  return {
    ...toRunView(row),
    log: page.map((l) => ({
      id: l.id.toString(),
      at: l.at.toISOString(),
      stream: l.stream,
      line: l.line,
    })),
    logCursor: page.length ? page[page.length - 1]!.id.toString() : (opts.afterLogId ?? null),
    logMore: lines.length > limit,
  };
}
