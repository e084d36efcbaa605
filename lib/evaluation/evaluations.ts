import { hostname } from "node:os";
import { ApiError, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import {
  checkDatasetFitsModel,
  describeMisfit,
  type DatasetShape,
  type EvaluationPlan,
} from "../datasets/fit";
import { getDatasetMatrixKey, getDatasetVersion } from "../datasets/datasets";
import type { Prisma, PrismaClient } from "../db/generated/client";
import type { OnnxSignature } from "../onnx/types";
import { getModel, getVersion } from "../registry";
import { UUID_PATTERN } from "../registry/names";
import { isVersionNumber } from "../registry/shared";
import type { ArtifactStore } from "../storage";
import { withLocalFiles } from "./files";
import {
  DEFAULT_EVALUATION_TIMEOUT_MS,
  prestartEvaluationChild,
  runEvaluationInChild,
} from "./runner";
import type { EvaluationView } from "./types";

/**
 * Evaluations: a model version scored on a dataset version. `createEvaluation` checks that
 * the two fit and records a queued row; `runEvaluation` runs it in a child process
 * (runner.ts) and records the outcome. `evaluateVersion` does both and waits;
 * `startEvaluation` returns at once and runs it in the background of this process.
 */

/** A queued or running evaluation whose heartbeat is older than this was orphaned. */
export const STALE_AFTER_MS = 60_000;
const HEARTBEAT_MS = 5_000;
const INSTANCE_ID = `${hostname()}:${process.pid}`;

export function evaluationTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.MODELDECK_EVALUATION_TIMEOUT_SECONDS);
  return Number.isFinite(n) && n > 0 ? n * 1000 : DEFAULT_EVALUATION_TIMEOUT_MS;
}

const include = {
  model: { select: { name: true } },
  version: { select: { version: true } },
  datasetVersion: { select: { version: true, dataset: { select: { name: true } } } },
} satisfies Prisma.EvaluationInclude;

type Row = Prisma.EvaluationGetPayload<{ include: typeof include }>;

/** A row just written by this process, with the names it already knows (no re-read). */
function withNames(
  row: Prisma.EvaluationGetPayload<object>,
  names: Pick<EvaluationView, "model" | "version" | "dataset" | "datasetVersion">,
): Row {
  return {
    ...row,
    model: { name: names.model },
    version: { version: names.version },
    datasetVersion: { version: names.datasetVersion, dataset: { name: names.dataset } },
  };
}

function toView(row: Row): EvaluationView {
  return {
    id: row.id,
    model: row.model.name,
    modelId: row.modelId,
    version: row.version.version,
    versionId: row.versionId,
    dataset: row.datasetVersion.dataset.name,
    datasetVersion: row.datasetVersion.version,
    datasetVersionId: row.datasetVersionId,
    status: row.status,
    task: row.task as EvaluationView["task"],
    rowCount: row.rowCount,
    metrics: row.metrics as EvaluationView["metrics"],
    latency: row.latency as EvaluationView["latency"],
    error: row.error,
    trigger: row.trigger as EvaluationView["trigger"],
    triggerRef: row.triggerRef,
    triggeredBy: { type: row.triggeredByType, id: row.triggeredById, label: row.triggeredByLabel },
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

export type CreateEvaluationInput = {
  modelName: string;
  version: number;
  datasetName: string;
  /** Default: the dataset's newest version. */
  datasetVersion?: number | null;
  trigger?: { kind: "manual" | "job"; ref?: string | null };
  ipAddress?: string | null;
};

export type PreparedEvaluation = {
  evaluation: EvaluationView;
  plan: EvaluationPlan;
  modelKey: string;
  datasetKey: string;
  /** The dataset version's binary form, when it has one (lib/datasets/matrix.ts). */
  matrixKey: string | null;
  format: "csv" | "jsonl";
};

/** 422 naming why a dataset cannot be scored by a model version. */
export class DatasetMismatchError extends ApiError {
  constructor(
    readonly problems: string[],
    what: string,
  ) {
    super("unprocessable", `${what}: ${describeMisfit(problems)}.`, {
      reason: "dataset_mismatch",
      problems,
    });
    this.name = "DatasetMismatchError";
  }
}

/**
 * Checks the model version and dataset version exist and fit (404 / 422 otherwise), then
 * records a queued evaluation. A person's (or token's) manual start is audited.
 */
export async function createEvaluation(
  db: PrismaClient,
  actor: Actor,
  input: CreateEvaluationInput,
): Promise<PreparedEvaluation> {
  const { model, version, dataset } =
    (await findSubjects(db, input)) ?? (await findSubjectsOrThrow(db, input));
  const what = `Dataset ${dataset.name} v${dataset.version} cannot be scored by ${model.name} v${version.version}`;
  const fit = checkDatasetFitsModel(dataset, version.signature as OnnxSignature, model.task);
  if (!fit.ok) throw new DatasetMismatchError(fit.problems, what);
  const trigger = input.trigger ?? { kind: "manual" };
  const data = {
    modelId: model.id,
    versionId: version.id,
    datasetVersionId: dataset.id,
    task: fit.plan.task,
    trigger: trigger.kind,
    triggerRef: trigger.ref ?? null,
    triggeredByType: actor.type,
    triggeredById: actor.id ?? null,
    triggeredByLabel: actor.label,
    heartbeatAt: new Date(),
    instanceId: INSTANCE_ID,
  } satisfies Prisma.EvaluationUncheckedCreateInput;
  const names = {
    model: model.name,
    version: version.version,
    dataset: dataset.name,
    datasetVersion: dataset.version,
  };
  // A person's (or token's) start is written with its audit entry; a job's or the system's is
  // one statement, atomic by itself, so it needs no transaction around it.
  const created =
    trigger.kind === "manual" && actor.type !== "system"
      ? await db.$transaction(async (tx) => {
          const row = await tx.evaluation.create({ data });
          await recordAudit(tx, {
            actor,
            action: "evaluation.start",
            resourceType: "evaluation",
            resourceId: row.id,
            after: names,
            ipAddress: input.ipAddress,
          });
          return row;
        })
      : await db.evaluation.create({ data });
  return {
    evaluation: toView(withNames(created, names)),
    plan: fit.plan,
    modelKey: version.storageKey,
    datasetKey: dataset.storageKey,
    matrixKey: dataset.matrixKey,
    format: dataset.format,
  };
}

type Subjects = {
  model: { id: string; name: string; task: "classification" | "regression" | "other" };
  version: { id: string; version: number; signature: unknown; storageKey: string };
  dataset: DatasetShape & {
    id: string;
    name: string;
    version: number;
    storageKey: string;
    format: "csv" | "jsonl";
    matrixKey: string | null;
  };
};

/**
 * What an evaluation needs of its model version and dataset version, in two queries (the
 * registry's and the datasets' own lookups take seven, with includes the views need: 12–28
 * ms of an evaluation's fixed cost here). Null when either is missing.
 */
async function findSubjects(
  db: PrismaClient,
  input: CreateEvaluationInput,
): Promise<Subjects | null> {
  const datasetVersion = input.datasetVersion ?? null;
  if (!isVersionNumber(input.version)) return null;
  if (datasetVersion !== null && !isVersionNumber(datasetVersion)) return null;
  const [version, dataset] = await Promise.all([
    db.modelVersion.findFirst({
      where: { version: input.version, model: { name: input.modelName } },
      select: {
        id: true,
        version: true,
        signature: true,
        storageKey: true,
        model: { select: { id: true, name: true, task: true } },
      },
    }),
    db.datasetVersion.findFirst({
      where: {
        dataset: { name: input.datasetName },
        ...(datasetVersion !== null ? { version: datasetVersion } : {}),
      },
      orderBy: { version: "desc" },
      select: {
        id: true,
        version: true,
        storageKey: true,
        format: true,
        columns: true,
        labelColumn: true,
        featureMapping: true,
        matrixStorageKey: true,
        dataset: { select: { name: true } },
      },
    }),
  ]);
  if (!version || !dataset) return null;
  return {
    model: version.model,
    version,
    dataset: {
      id: dataset.id,
      name: dataset.dataset.name,
      version: dataset.version,
      storageKey: dataset.storageKey,
      format: dataset.format,
      columns: dataset.columns as DatasetShape["columns"],
      labelColumn: dataset.labelColumn,
      featureMapping: dataset.featureMapping as DatasetShape["featureMapping"],
      matrixKey: dataset.matrixStorageKey,
    },
  };
}

/** The registry's and datasets' own lookups: their 404s, in order (model, version, dataset). */
async function findSubjectsOrThrow(
  db: PrismaClient,
  input: CreateEvaluationInput,
): Promise<Subjects> {
  const [model, version, dataset] = await inOrder([
    getModel(db, input.modelName),
    getVersion(db, input.modelName, input.version),
    getDatasetVersion(db, input.datasetName, input.datasetVersion ?? null),
  ] as const);
  return {
    model,
    version,
    dataset: {
      ...dataset,
      name: dataset.dataset,
      matrixKey: await getDatasetMatrixKey(db, dataset.id),
    },
  };
}

/** Awaits every promise, then rejects with the first failure in list order (not in time). */
async function inOrder<T extends readonly unknown[]>(promises: {
  [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(promises);
  for (const s of settled) if (s.status === "rejected") throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export type RunEvaluationOptions = {
  signal?: AbortSignal;
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Most rows timed one at a time for the latency percentiles (rule: score.ts LATENCY_RUNS). */
  latencyRuns?: number;
  batchSize?: number;
  threads?: number;
};

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;

/**
 * Runs a prepared evaluation to its end and records it: succeeded with metrics and latency,
 * or failed with the reason. Never throws for a failed evaluation (only when the database
 * itself fails); the returned view says what happened.
 */
export async function runEvaluation(
  db: PrismaClient,
  store: ArtifactStore,
  prepared: PreparedEvaluation,
  options: RunEvaluationOptions = {},
): Promise<EvaluationView> {
  const id = prepared.evaluation.id;
  const log = options.log ?? (() => {});
  const beat = setInterval(() => {
    void db.evaluation
      .updateMany({
        where: { id, status: { in: ["queued", "running"] } },
        data: { heartbeatAt: new Date() },
      })
      .catch(() => {});
  }, HEARTBEAT_MS);
  beat.unref();
  let lastLogged = "";
  try {
    const result = await withLocalFiles(
      store,
      prepared.matrixKey
        ? [prepared.modelKey, prepared.datasetKey, prepared.matrixKey]
        : [prepared.modelKey, prepared.datasetKey],
      ([modelPath, datasetPath, matrixPath]) =>
        runEvaluationInChild(
          {
            modelPath: modelPath!,
            datasetPath: datasetPath!,
            matrixPath: matrixPath ?? null,
            format: prepared.format,
            plan: prepared.plan,
            batchSize: options.batchSize,
            latencyRuns: options.latencyRuns,
            threads: options.threads ?? 1,
          },
          {
            signal: options.signal,
            timeoutMs: options.timeoutMs ?? evaluationTimeoutMs(),
            replenish: false, // after the result is recorded (finally, below)
            onSpawn: () => {
              void db.evaluation
                .updateMany({
                  where: { id, status: "queued" },
                  data: { status: "running", startedAt: new Date(), heartbeatAt: new Date() },
                })
                .catch(() => {});
            },
            onProgress: (p) => {
              const line =
                p.phase === "loaded"
                  ? `read ${p.total} rows`
                  : p.phase === "latency"
                    ? `latency runs ${p.done}/${p.total}`
                    : `scored ${p.done}/${p.total} rows`;
              if (line !== lastLogged && (p.phase === "loaded" || p.done === p.total)) {
                lastLogged = line;
                log(`evaluation ${id.slice(0, 8)}: ${line}`);
              }
            },
          },
        ),
      // The binary form is derived: without it the child reads the original file.
      { optional: prepared.matrixKey ? [prepared.matrixKey] : [] },
    );
    const row = await db.evaluation.update({
      where: { id },
      data: {
        status: "succeeded",
        rowCount: result.rowCount,
        metrics: json(result.metrics),
        latency: json({ ...result.latency, notes: result.notes, timings: result.timings }),
        error: null,
        finishedAt: new Date(),
        heartbeatAt: new Date(),
      },
    });
    return toView(withNames(row, prepared.evaluation));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`evaluation ${id.slice(0, 8)} failed: ${message}`);
    const row = await db.evaluation.update({
      where: { id },
      data: { status: "failed", error: message.slice(0, 4000), finishedAt: new Date() },
    });
    return toView(withNames(row, prepared.evaluation));
  } finally {
    clearInterval(beat);
    void prestartEvaluationChild();
  }
}

export type EvaluateVersionInput = CreateEvaluationInput & RunEvaluationOptions;

/** Creates and runs an evaluation, resolving when it has succeeded or failed. */
export async function evaluateVersion(
  db: PrismaClient,
  store: ArtifactStore,
  actor: Actor,
  input: EvaluateVersionInput,
): Promise<EvaluationView> {
  const prepared = await createEvaluation(db, actor, input);
  input.log?.(
    `evaluating ${prepared.evaluation.model} v${prepared.evaluation.version} on ${prepared.evaluation.dataset} v${prepared.evaluation.datasetVersion} (evaluation ${prepared.evaluation.id})`,
  );
  return runEvaluation(db, store, prepared, input);
}

/**
 * Creates an evaluation and runs it in the background of this process (in a child process
 * of it): returns the queued view at once. The web process uses this for the API's 202.
 */
export async function startEvaluation(
  db: PrismaClient,
  store: ArtifactStore,
  actor: Actor,
  input: CreateEvaluationInput & { onError?: (error: unknown) => void },
): Promise<EvaluationView> {
  const prepared = await createEvaluation(db, actor, input);
  void runEvaluation(db, store, prepared).catch((error: unknown) => input.onError?.(error));
  return prepared.evaluation;
}

/**
 * Marks queued or running evaluations whose process stopped heart-beating as failed (a
 * web or scheduler process that died mid-run). Called before reads, so what a reader sees
 * is never a run that will not finish.
 */
export async function failStaleEvaluations(db: PrismaClient, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - STALE_AFTER_MS);
  const { count } = await db.evaluation.updateMany({
    where: { status: { in: ["queued", "running"] }, heartbeatAt: { lt: cutoff } },
    data: {
      status: "failed",
      finishedAt: now,
      error: `The process running this evaluation stopped (no heartbeat for ${STALE_AFTER_MS / 1000} s).`,
    },
  });
  return count;
}

export async function getEvaluation(db: PrismaClient, id: string): Promise<EvaluationView> {
  if (!UUID_PATTERN.test(id)) throw notFound(`Evaluation ${JSON.stringify(id)}`);
  await failStaleEvaluations(db);
  const row = await db.evaluation.findUnique({ where: { id }, include });
  if (!row) throw notFound(`Evaluation ${id}`);
  return toView(row);
}

/** A model's evaluations, newest first (optionally of one version). */
export async function listEvaluations(
  db: PrismaClient,
  modelName: string,
  filter: { version?: number; limit?: number } = {},
): Promise<EvaluationView[]> {
  const model = await getModel(db, modelName);
  await failStaleEvaluations(db);
  const rows = await db.evaluation.findMany({
    where: {
      modelId: model.id,
      ...(filter.version !== undefined ? { version: { version: filter.version } } : {}),
    },
    include,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: Math.min(500, Math.max(1, filter.limit ?? 100)),
  });
  return rows.map(toView);
}
