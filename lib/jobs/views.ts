import type { Prisma } from "../db/generated/client";
import type { ActorRef } from "../registry";
import { describeAction, jobActionSchema, type JobAction } from "./action-schema";
import { formatInZone, nextFireTimes, scheduleInWords, validateCron } from "./cron";

/** What routes return and pages render for jobs and runs: plain JSON, dates as ISO strings. */

export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "skipped";
export type RunTrigger = "schedule" | "manual";

export type RunSummary = {
  id: string;
  status: RunStatus;
  trigger: RunTrigger;
  scheduledFor: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};

export type JobView = {
  id: string;
  name: string;
  description: string;
  model: { id: string; name: string };
  schedule: string;
  timezone: string;
  enabled: boolean;
  action: JobAction;
  /** "Import .onnx files from imports/incoming" */
  actionSummary: string;
  /** The schedule in words ("At 03:00, Monday through Friday") */
  scheduleDescription: string;
  /** Next five fire times (ISO instants); empty while the job is disabled. */
  nextRuns: string[];
  /** The same instants as wall-clock times in the job's time zone. */
  nextRunsLocal: string[];
  lastRun: RunSummary | null;
  /** A queued or running run, if any (a new fire is skipped while one exists). */
  activeRun: RunSummary | null;
  createdAt: string;
  updatedAt: string;
  createdBy: ActorRef;
  updatedBy: ActorRef;
};

export type RunView = RunSummary & {
  jobId: string;
  job: string;
  model: string;
  action: JobAction | unknown;
  attempt: number;
  maxAttempts: number;
  availableAt: string;
  instanceId: string | null;
  leaseExpiresAt: string | null;
  heartbeatAt: string | null;
  result: unknown;
  error: string | null;
  reason: string | null;
  requestedBy: ActorRef;
  durationMs: number | null;
};

export type RunLogLine = { id: string; at: string; stream: string; line: string };

export type RunDetail = RunView & {
  log: RunLogLine[];
  /** Pass as `afterLogId` to get only newer lines. */
  logCursor: string | null;
  /** More lines exist after these (ask again with the cursor). */
  logMore: boolean;
};

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export const runSummarySelect = {
  id: true,
  status: true,
  trigger: true,
  scheduledFor: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
} satisfies Prisma.JobRunSelect;

type RunSummaryRow = Prisma.JobRunGetPayload<{ select: typeof runSummarySelect }>;

export function toRunSummary(row: RunSummaryRow): RunSummary {
  return {
    id: row.id,
    status: row.status,
    trigger: row.trigger,
    scheduledFor: iso(row.scheduledFor),
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
  };
}

export const jobInclude = {
  model: { select: { id: true, name: true } },
  runs: { select: runSummarySelect, orderBy: { createdAt: "desc" }, take: 1 },
} satisfies Prisma.RefreshJobInclude;

type JobRow = Prisma.RefreshJobGetPayload<{ include: typeof jobInclude }>;

/** The stored action, parsed (a row written by an older version may not parse: shown raw). */
export function parseStoredAction(value: unknown): JobAction {
  const parsed = jobActionSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  return value as JobAction;
}

export function toJobView(row: JobRow, activeRun: RunSummary | null, now = new Date()): JobView {
  const action = parseStoredAction(row.action);
  const valid = validateCron(row.schedule).length === 0;
  const next = row.enabled && valid ? nextFireTimes(row.schedule, row.timezone, 5, now) : [];
  let actionSummary: string;
  try {
    actionSummary = describeAction(action);
  } catch {
    actionSummary = String((action as { type?: unknown }).type ?? "unknown action");
  }
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    model: row.model,
    schedule: row.schedule,
    timezone: row.timezone,
    enabled: row.enabled,
    action,
    actionSummary,
    scheduleDescription: scheduleInWords(row.schedule) ?? row.schedule,
    nextRuns: next.map((d) => d.toISOString()),
    nextRunsLocal: next.map((d) => formatInZone(d, row.timezone)),
    lastRun: row.runs[0] ? toRunSummary(row.runs[0]) : null,
    activeRun,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    createdBy: { type: row.createdByType, id: row.createdById, label: row.createdByLabel },
    updatedBy: { type: row.updatedByType, id: row.updatedById, label: row.updatedByLabel },
  };
}

export const runInclude = {
  job: { select: { name: true, model: { select: { name: true } } } },
} satisfies Prisma.JobRunInclude;

type RunRow = Prisma.JobRunGetPayload<{ include: typeof runInclude }>;

export function toRunView(row: RunRow): RunView {
  return {
    ...toRunSummary(row),
    jobId: row.jobId,
    job: row.job.name,
    model: row.job.model.name,
    action: row.action,
    attempt: row.attempt,
    maxAttempts: row.maxAttempts,
    availableAt: row.availableAt.toISOString(),
    instanceId: row.instanceId,
    leaseExpiresAt: iso(row.leaseExpiresAt),
    heartbeatAt: iso(row.heartbeatAt),
    result: row.result ?? null,
    error: row.error,
    reason: row.reason,
    requestedBy: { type: row.requestedByType, id: row.requestedById, label: row.requestedByLabel },
    durationMs:
      row.startedAt && row.finishedAt ? row.finishedAt.getTime() - row.startedAt.getTime() : null,
  };
}
