import { ApiError, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import { getDatasetVersion } from "../datasets/datasets";
import { checkDatasetFitsModel, describeMisfit } from "../datasets/fit";
import type { Prisma, PrismaClient } from "../db/generated/client";
import type { OnnxSignature } from "../onnx/types";
import { getModel, resolveVersion } from "../registry";
import { UUID_PATTERN } from "../registry/names";

/**
 * Batch predictions: a dataset version scored by a model version, asynchronously. `submit`
 * resolves the alias (or version) once, checks the dataset fits it and records a queued row;
 * a scheduler process takes it from the queue (poller.ts), scores it in a child process and
 * stores the output CSV in the artifact store.
 *
 * The queue is this table, worked like lib/jobs/runs.ts's run queue: claim with
 * FOR UPDATE SKIP LOCKED, a lease renewed while running, and any live scheduler fails a row
 * whose lease expired (its process died). Times are the database's clock (now()).
 */

export type BatchPredictionStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export type BatchPredictionView = {
  id: string;
  model: string;
  alias: string | null;
  version: number;
  dataset: string;
  datasetVersion: number;
  status: BatchPredictionStatus;
  rowsTotal: number;
  rowsDone: number;
  /** rowsDone / rowsTotal, 0..1 */
  progress: number;
  resultSizeBytes: number | null;
  /** Where the CSV is downloaded from, once it succeeded. */
  resultUrl: string | null;
  error: string | null;
  createdBy: { type: string; id: string | null; label: string };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};

const include = {
  model: { select: { name: true } },
  version: { select: { version: true } },
  datasetVersion: { select: { version: true, dataset: { select: { name: true } } } },
} satisfies Prisma.BatchPredictionInclude;

type Row = Prisma.BatchPredictionGetPayload<{ include: typeof include }>;

export const resultPath = (id: string) => `/api/v1/batch-predictions/${id}/result`;

function toView(row: Row): BatchPredictionView {
  return {
    id: row.id,
    model: row.model.name,
    alias: row.alias,
    version: row.version.version,
    dataset: row.datasetVersion.dataset.name,
    datasetVersion: row.datasetVersion.version,
    status: row.status,
    rowsTotal: row.rowsTotal,
    rowsDone: row.rowsDone,
    progress: row.rowsTotal > 0 ? Math.min(1, row.rowsDone / row.rowsTotal) : 0,
    resultSizeBytes: row.resultSizeBytes === null ? null : Number(row.resultSizeBytes),
    resultUrl: row.status === "succeeded" && row.resultKey ? resultPath(row.id) : null,
    error: row.error,
    createdBy: { type: row.createdByType, id: row.createdById, label: row.createdByLabel },
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

export type SubmitBatchInput = {
  modelName: string;
  datasetName: string;
  datasetVersion?: number | null;
  /** Default `production` when no version is given. */
  alias?: string | null;
  version?: number | null;
  ipAddress?: string | null;
};

/** 400 naming why a dataset cannot be scored by the model version. */
export class BatchDatasetMismatchError extends ApiError {
  constructor(
    readonly problems: string[],
    what: string,
  ) {
    super("bad_request", `${what}: ${describeMisfit(problems)}.`, {
      reason: "dataset_mismatch",
      problems,
    });
    this.name = "BatchDatasetMismatchError";
  }
}

/**
 * Resolves the version (404 for an unknown model, alias, version or dataset), checks that
 * the dataset fits it (400 otherwise) and records a queued batch prediction, audited, in one
 * transaction. Nothing is queued when any check fails.
 */
export async function submitBatchPrediction(
  db: PrismaClient,
  actor: Actor,
  input: SubmitBatchInput,
): Promise<BatchPredictionView> {
  if (input.alias && input.version) {
    throw new ApiError("bad_request", "Give either an alias or a version, not both.");
  }
  const model = await getModel(db, input.modelName);
  const alias = input.version ? null : (input.alias ?? "production");
  const version = await resolveVersion(db, model.name, input.version ?? alias!);
  const dataset = await getDatasetVersion(db, input.datasetName, input.datasetVersion ?? null);
  const fit = checkDatasetFitsModel(dataset, version.signature as OnnxSignature, model.task);
  if (!fit.ok) {
    throw new BatchDatasetMismatchError(
      fit.problems,
      `Dataset ${dataset.dataset} v${dataset.version} cannot be scored by ${model.name} v${version.version}`,
    );
  }
  const row = await db.$transaction(async (tx) => {
    const created = await tx.batchPrediction.create({
      data: {
        modelId: model.id,
        alias,
        versionId: version.id,
        datasetVersionId: dataset.id,
        rowsTotal: dataset.rowCount,
        createdByType: actor.type,
        createdById: actor.id ?? null,
        createdByLabel: actor.label,
      },
      include,
    });
    await recordAudit(tx, {
      actor,
      action: "batch_prediction.submit",
      resourceType: "batch_prediction",
      resourceId: created.id,
      after: {
        model: model.name,
        alias,
        version: version.version,
        dataset: dataset.dataset,
        datasetVersion: dataset.version,
      },
      ipAddress: input.ipAddress,
    });
    return created;
  });
  return toView(row);
}

export async function getBatchPrediction(
  db: PrismaClient,
  id: string,
): Promise<BatchPredictionView> {
  const row = UUID_PATTERN.test(id)
    ? await db.batchPrediction.findUnique({ where: { id }, include })
    : null;
  if (!row) throw notFound(`Batch prediction ${JSON.stringify(id)}`);
  return toView(row);
}

/** The stored CSV of a succeeded batch prediction (404 while it has none). */
export async function getBatchResult(
  db: PrismaClient,
  id: string,
): Promise<{ view: BatchPredictionView; key: string }> {
  const row = UUID_PATTERN.test(id)
    ? await db.batchPrediction.findUnique({ where: { id }, include })
    : null;
  if (!row) throw notFound(`Batch prediction ${JSON.stringify(id)}`);
  if (row.status !== "succeeded" || !row.resultKey) {
    throw new ApiError("conflict", `Batch prediction ${id} has no result (it is ${row.status}).`);
  }
  return { view: toView(row), key: row.resultKey };
}

export async function listBatchPredictions(
  db: PrismaClient,
  modelName: string,
  options: { limit?: number } = {},
): Promise<BatchPredictionView[]> {
  const model = await getModel(db, modelName);
  const rows = await db.batchPrediction.findMany({
    where: { modelId: model.id },
    include,
    orderBy: { createdAt: "desc" },
    take: Math.min(Math.max(options.limit ?? 50, 1), 200),
  });
  return rows.map(toView);
}

// ---- The queue (used by poller.ts in the scheduler process) ----

/** Takes the oldest queued batch prediction, marks it running with a lease; null when none. */
export async function claimNextBatch(
  db: PrismaClient,
  instanceId: string,
  leaseMs: number,
): Promise<string | null> {
  return db.$transaction(
    async (tx) => {
      const rows = await tx.$queryRaw<{ id: string }[]>`
        UPDATE batch_prediction SET status = 'running', "instanceId" = ${instanceId},
               "startedAt" = now(), "heartbeatAt" = now(),
               "leaseExpiresAt" = now() + ${Math.round(leaseMs)} * interval '1 millisecond'
         WHERE id = (SELECT id FROM batch_prediction WHERE status = 'queued'
                      ORDER BY "createdAt" LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id`;
      return rows[0]?.id ?? null;
    },
    { isolationLevel: "ReadCommitted" },
  );
}

/** Extends the lease (and records progress); false when this instance no longer holds it. */
export async function renewBatchLease(
  db: PrismaClient,
  id: string,
  instanceId: string,
  leaseMs: number,
  rowsDone?: number,
): Promise<boolean> {
  const n =
    rowsDone === undefined
      ? await db.$executeRaw`
          UPDATE batch_prediction SET "heartbeatAt" = now(),
                 "leaseExpiresAt" = now() + ${Math.round(leaseMs)} * interval '1 millisecond'
           WHERE id = ${id}::uuid AND status = 'running' AND "instanceId" = ${instanceId}`
      : await db.$executeRaw`
          UPDATE batch_prediction SET "heartbeatAt" = now(), "rowsDone" = ${rowsDone},
                 "leaseExpiresAt" = now() + ${Math.round(leaseMs)} * interval '1 millisecond'
           WHERE id = ${id}::uuid AND status = 'running' AND "instanceId" = ${instanceId}`;
  return n === 1;
}

/** Ends a run this instance holds; false when it no longer held it (its lease was taken). */
export async function endBatch(
  db: PrismaClient,
  id: string,
  instanceId: string,
  outcome:
    | { status: "succeeded"; resultKey: string; sizeBytes: number; rows: number }
    | { status: "failed"; error: string }
    | { status: "queued" },
): Promise<boolean> {
  const where = { id, status: "running" as const, instanceId };
  const common = { leaseExpiresAt: null };
  const data: Prisma.BatchPredictionUpdateManyMutationInput =
    outcome.status === "succeeded"
      ? {
          ...common,
          status: "succeeded",
          resultKey: outcome.resultKey,
          resultSizeBytes: BigInt(outcome.sizeBytes),
          rowsDone: outcome.rows,
          finishedAt: new Date(),
          error: null,
        }
      : outcome.status === "failed"
        ? { ...common, status: "failed", error: outcome.error, finishedAt: new Date() }
        : // Given back on shutdown: another scheduler starts it again from the beginning.
          { ...common, status: "queued", rowsDone: 0, startedAt: null, instanceId: null };
  const { count } = await db.batchPrediction.updateMany({ where, data });
  return count === 1;
}

/** Fails running batch predictions whose lease expired (their process died); returns ids. */
export async function failExpiredBatches(db: PrismaClient): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE batch_prediction
       SET status = 'failed', "finishedAt" = now(),
           error = 'The scheduler process running it stopped (instance ' || coalesce("instanceId", '?') ||
                   ', last heartbeat ' || to_char("heartbeatAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ||
                   '); its lease expired. Submit it again.',
           "leaseExpiresAt" = NULL
     WHERE status = 'running' AND "leaseExpiresAt" < now()
    RETURNING id::text AS id`;
  return rows.map((r) => r.id);
}

/** What the poller needs to run a claimed batch prediction. */
export async function loadClaimedBatch(db: PrismaClient, id: string) {
  return db.batchPrediction.findUniqueOrThrow({
    where: { id },
    select: {
      id: true,
      rowsTotal: true,
      model: { select: { name: true, task: true } },
      version: { select: { version: true, storageKey: true, signature: true } },
      datasetVersionId: true,
    },
  });
}

/**
 * Cancels a queued or running batch prediction (409 once it ended). A running one is
 * stopped by its scheduler at its next lease renewal, which no longer finds it running.
 */
export async function cancelBatchPrediction(
  db: PrismaClient,
  actor: Actor,
  id: string,
  ipAddress?: string | null,
): Promise<BatchPredictionView> {
  const before = await getBatchPrediction(db, id);
  const row = await db.$transaction(async (tx) => {
    const { count } = await tx.batchPrediction.updateMany({
      where: { id, status: { in: ["queued", "running"] } },
      data: {
        status: "cancelled",
        finishedAt: new Date(),
        leaseExpiresAt: null,
        error: `Cancelled by ${actor.label}.`,
      },
    });
    if (count !== 1) {
      throw new ApiError("conflict", `Batch prediction ${id} already ended (${before.status}).`);
    }
    await recordAudit(tx, {
      actor,
      action: "batch_prediction.cancel",
      resourceType: "batch_prediction",
      resourceId: id,
      before: { status: before.status, rowsDone: before.rowsDone },
      ipAddress,
    });
    return tx.batchPrediction.findUniqueOrThrow({ where: { id }, include });
  });
  return toView(row);
}
