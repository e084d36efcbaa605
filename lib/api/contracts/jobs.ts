import { jobActionSchema } from "../../jobs/action-schema";
import { MAX_SCHEDULE_LENGTH } from "../../jobs/cron";
import { defineContract, registry, z } from "../contract";

/** Refresh jobs under /api/v1/jobs, their runs under /api/v1/runs, and the cron helper. */

const Actor = z.object({ type: z.string(), id: z.string().nullable(), label: z.string() });
const JobId = z
  .string()
  .min(1)
  .max(63)
  .openapi({ description: "The job's id, or its name.", example: "nightly-import" });
const RunId = z
  .string()
  .min(1)
  .max(63)
  .openapi({ example: "0b9e4c7e-4f7a-4f8e-9f57-3c1a0c2d9b11" });
const RunStatus = z.enum(["queued", "running", "succeeded", "failed", "skipped"]);
const Schedule = z.string().min(1).max(MAX_SCHEDULE_LENGTH).openapi({
  description:
    "A cron expression: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; nicknames such as @daily work too.",
  example: "0 3 * * 1-5",
});
const Timezone = z
  .string()
  .min(1)
  .max(64)
  .openapi({ description: "IANA time zone the schedule is read in.", example: "Europe/Berlin" });

// lib/jobs' schema as it is: it may be built before contract.ts extends zod, so it cannot take
// .openapi() here; the operation descriptions say what each action does.
const Action = jobActionSchema;
const ACTIONS_TEXT =
  'Actions: `import` registers the new `.onnx` files of `${MODELDECK_DATA_DIR}/imports/<directory>` (idempotent by sha256), optionally `thenEvaluate` on a dataset; `evaluate-and-promote` evaluates the candidates ("newer-than-production" or "challenger") and production on `dataset` and promotes the best that passes the gate; `retrain` runs the admin-configured external trainer on `dataset` (DATASET_PATH, OUTPUT_PATH, `timeLimitSeconds`) and registers its output with lineage retrain.';

const RunSummary = z.object({
  id: z.string(),
  status: RunStatus,
  trigger: z.enum(["schedule", "manual"]),
  scheduledFor: z
    .string()
    .nullable()
    .openapi({ description: "The cron fire time (schedule runs)." }),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

const Job = registry.register(
  "RefreshJob",
  z.object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    model: z.object({ id: z.string(), name: z.string() }),
    schedule: z.string(),
    timezone: z.string(),
    enabled: z.boolean(),
    action: z.unknown().openapi({ description: "The job's action (see the request body)." }),
    actionSummary: z.string(),
    scheduleDescription: z.string().openapi({ example: "At 03:00, Monday through Friday" }),
    nextRuns: z
      .array(z.string())
      .openapi({ description: "Next five fire times (ISO instants); empty while disabled." }),
    nextRunsLocal: z
      .array(z.string())
      .openapi({ description: "The same, as wall-clock times in the job's time zone." }),
    lastRun: RunSummary.nullable(),
    activeRun: RunSummary.nullable().openapi({
      description: "A queued or running run; fires are skipped while one exists.",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdBy: Actor,
    updatedBy: Actor,
  }),
);

const runFields = {
  ...RunSummary.shape,
  jobId: z.string(),
  job: z.string(),
  model: z.string(),
  action: z
    .unknown()
    .openapi({ description: "The job's action as it was when the run was created." }),
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  availableAt: z
    .string()
    .openapi({ description: "A queued run is not taken before this (retry backoff)." }),
  instanceId: z
    .string()
    .nullable()
    .openapi({ description: "The scheduler instance running (or that ran) it." }),
  leaseExpiresAt: z.string().nullable(),
  heartbeatAt: z.string().nullable(),
  result: z.unknown().openapi({
    description:
      "The action's result: imported / skipped / rejected files, the trainer's registered version, or the promotion decision with each gate criterion.",
  }),
  error: z.string().nullable(),
  reason: z.string().nullable().openapi({ description: "Why a run was skipped." }),
  requestedBy: Actor,
  durationMs: z.number().nullable(),
};
const Run = registry.register("JobRun", z.object(runFields));
const RunDetail = registry.register(
  "JobRunDetail",
  z.object({
    ...runFields,
    log: z.array(
      z.object({
        id: z.string(),
        at: z.string(),
        stream: z.string().openapi({ description: "info | warn | error | stdout | stderr" }),
        line: z.string(),
      }),
    ),
    logCursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `afterLogId` to get only lines written after these." }),
    logMore: z.boolean().openapi({ description: "More lines follow (ask again with the cursor)." }),
  }),
);

const ScheduleProblem = z.object({ field: z.enum(["schedule", "timezone"]), message: z.string() });
const ScheduleDescription = registry.register(
  "ScheduleDescription",
  z.object({
    valid: z.boolean(),
    schedule: z.string(),
    timezone: z.string(),
    description: z.string().optional(),
    nextRuns: z.array(z.string()).optional(),
    nextRunsLocal: z.array(z.string()).optional(),
    problems: z.array(ScheduleProblem).optional(),
  }),
);

const jobParams = z.object({ id: JobId });
const boolQuery = z.enum(["true", "false"]).transform((v) => v === "true");

export const listJobs = defineContract({
  method: "get",
  path: "/api/v1/jobs",
  operationId: "listJobs",
  summary: "List refresh jobs with their schedule in words, next run and last run",
  tags: ["Jobs"],
  scope: "jobs:read",
  query: z
    .object({
      model: z.string().max(63).optional(),
      enabled: boolQuery.optional(),
      page: z.coerce.number().int().min(1).default(1),
      pageSize: z.coerce.number().int().min(1).max(200).default(50),
    })
    .strict(),
  response: z.object({
    jobs: z.array(Job),
    total: z.number().int(),
    page: z.number().int(),
    pageSize: z.number().int(),
  }),
});

export const createJob = defineContract({
  method: "post",
  path: "/api/v1/jobs",
  operationId: "createJob",
  summary: "Create a refresh job",
  description:
    "An invalid cron expression or time zone is a 400 whose `details.fields` names `schedule` or `timezone`; an unknown model names `model`. " +
    ACTIONS_TEXT,
  tags: ["Jobs"],
  scope: "jobs:run",
  successStatus: 201,
  extraErrors: { 409: "A job with this name exists." },
  body: z
    .object({
      name: z.string().min(1).max(63).openapi({ example: "nightly-import" }),
      model: z.string().min(1).max(63).openapi({ example: "iris-classifier" }),
      schedule: Schedule,
      timezone: Timezone.optional().openapi({ description: "Default UTC." }),
      enabled: z.boolean().optional(),
      description: z.string().max(10_000).optional(),
      action: Action,
    })
    .strict(),
  response: z.object({ job: Job }),
});

export const getJob = defineContract({
  method: "get",
  path: "/api/v1/jobs/{id}",
  operationId: "getJob",
  summary: "A refresh job",
  tags: ["Jobs"],
  scope: "jobs:read",
  extraErrors: { 404: "No such job." },
  params: jobParams,
  response: z.object({ job: Job }),
});

export const updateJob = defineContract({
  method: "patch",
  path: "/api/v1/jobs/{id}",
  operationId: "updateJob",
  summary: "Edit a job, or enable / disable it",
  description:
    "Fields left out keep their value. `enabled` alone is audited as job.enable / job.disable.",
  tags: ["Jobs"],
  scope: "jobs:run",
  extraErrors: { 404: "No such job." },
  params: jobParams,
  body: z
    .object({
      model: z.string().min(1).max(63).optional(),
      schedule: Schedule.optional(),
      timezone: Timezone.optional(),
      enabled: z.boolean().optional(),
      description: z.string().max(10_000).optional(),
      action: Action.optional(),
    })
    .strict()
    .refine((b) => Object.keys(b).length > 0, {
      message: "send at least one of model, schedule, timezone, enabled, description, action",
    }),
  response: z.object({ job: Job }),
});

export const deleteJob = defineContract({
  method: "delete",
  path: "/api/v1/jobs/{id}",
  operationId: "deleteJob",
  summary: "Delete a job and its run history",
  description: "Refused (409) while a run of the job is queued or running.",
  tags: ["Jobs"],
  scope: "jobs:run",
  extraErrors: { 404: "No such job.", 409: "A run of the job is queued or running." },
  params: jobParams,
  response: z.object({
    deleted: z.object({ id: z.string(), name: z.string(), deletedRuns: z.number().int() }),
  }),
});

export const runJob = defineContract({
  method: "post",
  path: "/api/v1/jobs/{id}/run",
  operationId: "runJobNow",
  summary: "Run a job now",
  description:
    "Queues a manual run that exactly one scheduler takes. Allowed on a disabled job. Refused (409) while a run of the job is queued or running: runs of one job never overlap.",
  tags: ["Jobs"],
  scope: "jobs:run",
  successStatus: 201,
  extraErrors: { 404: "No such job.", 409: "A run of the job is already queued or running." },
  params: jobParams,
  response: z.object({ run: Run }),
});

export const listJobRuns = defineContract({
  method: "get",
  path: "/api/v1/jobs/{id}/runs",
  operationId: "listJobRuns",
  summary: "A job's runs, newest first",
  tags: ["Jobs"],
  scope: "jobs:read",
  extraErrors: { 404: "No such job." },
  params: jobParams,
  query: z
    .object({
      status: RunStatus.optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
      before: z
        .string()
        .max(63)
        .optional()
        .openapi({ description: "A run id: runs created before it." }),
    })
    .strict(),
  response: z.object({ runs: z.array(Run), more: z.boolean() }),
});

export const getRun = defineContract({
  method: "get",
  path: "/api/v1/runs/{id}",
  operationId: "getJobRun",
  summary: "A run: status, log, result (decision) and error",
  description:
    "While a run is live, poll with `afterLogId` set to the last `logCursor` to receive only new log lines.",
  tags: ["Jobs"],
  scope: "jobs:read",
  extraErrors: { 404: "No such run." },
  params: z.object({ id: RunId }),
  query: z
    .object({
      afterLogId: z.string().regex(/^\d+$/, "must be a log line id").optional(),
      logLimit: z.coerce.number().int().min(1).max(2000).default(2000),
    })
    .strict(),
  response: z.object({ run: RunDetail }),
});

export const describeCron = defineContract({
  method: "post",
  path: "/api/v1/cron/describe",
  operationId: "describeCron",
  summary: "Validate a cron schedule and describe it: words and the next five fire times",
  description:
    "For forms that check a schedule as it is typed. An invalid schedule or time zone is not an error of this call: the answer has `valid: false` and `problems` naming the field.",
  tags: ["Jobs"],
  scope: "jobs:read",
  body: z
    .object({
      schedule: z.string().max(MAX_SCHEDULE_LENGTH),
      timezone: z.string().max(64).optional().openapi({ description: "Default UTC." }),
    })
    .strict(),
  response: ScheduleDescription,
});
