/**
 * Drift, the database side: which reference a model is compared with, the window of sampled
 * inputs from the prediction log, stored snapshots for the chart, and the scheduler task that
 * takes them. The statistics themselves are pure, in drift-stats.ts.
 *
 * - Reference: the dataset version of the latest succeeded evaluation of the version in
 *   scope (a given version, else the one `production` points at), else of any version of
 *   the model. Its per-feature distribution is computed once per (dataset version, feature
 *   columns) and stored in drift_reference.
 * - Current window: the newest MAX_WINDOW_REQUESTS sampled requests (prediction_log.inputs,
 *   sampled at the model's payloadSampleRate) of the window, decoded with the feature
 *   mapping the evaluation used (OIP tensors or /predict rows).
 * - Score: the share of features with enough data that drifted (drift-stats.ts); null when
 *   none had enough. `currentDriftScore` is what alert rules read.
 */
import { createHash } from "node:crypto";
import { ApiError, notFound } from "../api/errors";
import { checkDatasetFitsModel, type FeedPlan } from "../datasets/fit";
import { matrixEvaluationData, readDatasetMatrix } from "../datasets/matrix";
import { loadEvaluationData, type EvaluationData } from "../datasets/parse";
import {
  featureColumnsOf,
  type ColumnInfo,
  type DatasetFormat,
  type FeatureMapping,
} from "../datasets/types";
import { Prisma, type PrismaClient } from "../db/generated/client";
import { withLocalFiles } from "../evaluation/files";
import type { SystemTask } from "../jobs/system-tasks";
import type { Logger } from "../log";
import type { OnnxSignature } from "../onnx/types";
import { findModelId } from "../registry/shared";
import { getArtifactStore, type ArtifactStore } from "../storage";
import {
  buildFeatureReference,
  compareFeature,
  featureKindOf,
  MIN_SAMPLE_ROWS,
  summarizeDrift,
  type DriftSummary,
  type FeatureDrift,
  type FeatureReference,
} from "./drift-stats";

export const DEFAULT_DRIFT_WINDOW_MS = 60 * 60_000;
export const MIN_DRIFT_WINDOW_MS = 5 * 60_000;
export const MAX_DRIFT_WINDOW_MS = 30 * 24 * 60 * 60_000;
/** Sampled requests read per window at most (the newest): bounds the work per measurement. */
export const MAX_WINDOW_REQUESTS = 10_000;
/** Snapshots older than this are deleted by the snapshot task. */
export const SNAPSHOT_RETENTION_MS = 90 * 24 * 60 * 60_000;
/** How far back the chart's history goes. */
export const DRIFT_HISTORY_MS = 24 * 60 * 60_000;

/** Where a model's reference comes from, as the UI states it. */
export type DriftReferenceView = {
  id: string;
  dataset: string;
  datasetVersion: number;
  datasetVersionId: string;
  rowCount: number;
  /** The evaluation that named this dataset version. */
  evaluationId: string;
  evaluatedVersion: number;
  evaluatedAt: string;
  /** version: of the version in scope; production: of production's version; latest: of any version. */
  basis: "version" | "production" | "latest";
};

export type DriftResult = DriftSummary & {
  modelId: string;
  model: string;
  /** The version in scope; null: every version of the model. */
  version: number | null;
  windowMs: number;
  from: string;
  to: string;
  minSampleRows: number;
  reference: DriftReferenceView | null;
  /** Why there is no measurement at all (no reference), for people. */
  problem: string | null;
  sample: {
    /** Sampled requests read from the window. */
    requests: number;
    /** Rows they carried (what the statistics count). */
    rows: number;
    /** The window had more sampled requests than MAX_WINDOW_REQUESTS: the newest were used. */
    truncated: boolean;
    /** Requests whose logged inputs did not match the mapping (another signature). */
    skipped: number;
  };
  features: FeatureDrift[];
};

export type DriftSnapshotView = {
  at: string;
  windowMs: number;
  score: number | null;
  driftedFeatures: number;
  featureCount: number;
  sampleRows: number;
};

// ---------------------------------------------------------------------------------------
// Reference
// ---------------------------------------------------------------------------------------

type ReferenceChoice = {
  evaluationId: string;
  evaluatedVersion: number;
  evaluatedAt: Date;
  basis: DriftReferenceView["basis"];
  datasetVersion: {
    id: string;
    version: number;
    dataset: string;
    format: DatasetFormat;
    storageKey: string;
    matrixStorageKey: string | null;
    columns: ColumnInfo[];
    labelColumn: string;
    featureMapping: FeatureMapping;
  };
};

async function chooseReference(
  db: PrismaClient,
  modelId: string,
  versionId: string | undefined,
): Promise<ReferenceChoice | null> {
  const candidates: { versionId?: string; basis: DriftReferenceView["basis"] }[] = [];
  if (versionId) candidates.push({ versionId, basis: "version" });
  else {
    const production = await db.modelAlias.findUnique({
      where: { modelId_name: { modelId, name: "production" } },
      select: { versionId: true },
    });
    if (production) candidates.push({ versionId: production.versionId, basis: "production" });
  }
  candidates.push({ basis: "latest" });
  for (const c of candidates) {
    const evaluation = await db.evaluation.findFirst({
      where: { modelId, status: "succeeded", ...(c.versionId ? { versionId: c.versionId } : {}) },
      orderBy: [{ finishedAt: { sort: "desc", nulls: "last" } }, { createdAt: "desc" }],
      select: {
        id: true,
        finishedAt: true,
        createdAt: true,
        version: { select: { version: true } },
        datasetVersion: {
          select: {
            id: true,
            version: true,
            format: true,
            storageKey: true,
            matrixStorageKey: true,
            columns: true,
            labelColumn: true,
            featureMapping: true,
            dataset: { select: { name: true } },
          },
        },
      },
    });
    if (!evaluation) continue;
    const dv = evaluation.datasetVersion;
    return {
      evaluationId: evaluation.id,
      evaluatedVersion: evaluation.version.version,
      evaluatedAt: evaluation.finishedAt ?? evaluation.createdAt,
      basis: c.basis,
      datasetVersion: {
        id: dv.id,
        version: dv.version,
        dataset: dv.dataset.name,
        format: dv.format,
        storageKey: dv.storageKey,
        matrixStorageKey: dv.matrixStorageKey,
        columns: dv.columns as unknown as ColumnInfo[],
        labelColumn: dv.labelColumn,
        featureMapping: dv.featureMapping as unknown as FeatureMapping,
      },
    };
  }
  return null;
}

const mappingKeyOf = (featureColumns: string[]) =>
  createHash("sha256").update(JSON.stringify(featureColumns)).digest("hex");

async function loadFeatureValues(
  store: ArtifactStore,
  dv: ReferenceChoice["datasetVersion"],
  featureColumns: string[],
): Promise<EvaluationData> {
  if (dv.matrixStorageKey) {
    const key = dv.matrixStorageKey;
    const fromMatrix = await withLocalFiles(
      store,
      [key],
      async ([file]) => {
        const matrix = file ? await readDatasetMatrix(file).catch(() => null) : null;
        // Float32 is what drift compares anyway, so a rounded matrix is fine (needExact false).
        return matrix ? matrixEvaluationData(matrix, featureColumns, dv.labelColumn, false) : null;
      },
      { optional: [key] },
    );
    if (fromMatrix) return fromMatrix;
  }
  return withLocalFiles(store, [dv.storageKey], ([file]) =>
    loadEvaluationData(file!, dv.format, featureColumns, dv.labelColumn),
  );
}

/**
 * The stored reference of a dataset version's feature columns, computed and stored on first
 * use. Concurrent first uses may both compute it; the unique key keeps one row.
 */
async function ensureReference(
  db: PrismaClient,
  store: ArtifactStore,
  dv: ReferenceChoice["datasetVersion"],
): Promise<{ id: string; rowCount: number; features: FeatureReference[] }> {
  const featureColumns = featureColumnsOf(dv.featureMapping);
  const mappingKey = mappingKeyOf(featureColumns);
  const where = { datasetVersionId_mappingKey: { datasetVersionId: dv.id, mappingKey } };
  const stored = await db.driftReference.findUnique({ where });
  if (stored) {
    return {
      id: stored.id,
      rowCount: stored.rowCount,
      features: stored.features as unknown as FeatureReference[],
    };
  }
  const data = await loadFeatureValues(store, dv, featureColumns);
  const F = featureColumns.length;
  const columns = new Map(dv.columns.map((c) => [c.name, c]));
  const features: FeatureReference[] = [];
  for (const [f, name] of featureColumns.entries()) {
    const values = new Float64Array(data.rowCount);
    for (let r = 0; r < data.rowCount; r++) values[r] = data.features[r * F + f]!;
    const column = columns.get(name);
    features.push(buildFeatureReference(name, column ? featureKindOf(column) : "numeric", values));
    await yieldToEventLoop();
  }
  const row = await db.driftReference.upsert({
    where,
    create: {
      datasetVersionId: dv.id,
      mappingKey,
      rowCount: data.rowCount,
      features: features as unknown as Prisma.InputJsonValue,
    },
    update: {},
  });
  return {
    id: row.id,
    rowCount: row.rowCount,
    features: row.features as unknown as FeatureReference[],
  };
}

// ---------------------------------------------------------------------------------------
// Current window
// ---------------------------------------------------------------------------------------

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function flatten(data: unknown, out: unknown[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return NaN;
}

function isTensor(value: unknown): value is { name: string; data: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { name?: unknown }).name === "string" &&
    "data" in value
  );
}

type Decoder = {
  feeds: FeedPlan[];
  /** Feature names of the /predict form's object rows (model metadata), by position. */
  rowNames: string[] | null;
};

function featureNamesOf(signature: OnnxSignature): string[] | null {
  const raw = signature.metadata?.feature_names;
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) && parsed.every((n) => typeof n === "string") ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Adds one logged request's feature values to `columns` (by feature column name). Returns the
 * rows it carried, or null when its inputs do not fit the mapping.
 */
function decodeInputs(
  inputs: unknown,
  decoder: Decoder,
  columns: Map<string, number[]>,
): number | null {
  if (!Array.isArray(inputs) || inputs.length === 0) return null;
  const perColumn = new Map<string, number[]>();
  let rows = -1;
  if (inputs.every(isTensor)) {
    // Open Inference Protocol tensors: each feed's input, [batch, F] or [batch].
    for (const feed of decoder.feeds) {
      const tensor = inputs.find((t) => t.name === feed.input);
      if (!tensor) return null;
      const flat: unknown[] = [];
      flatten(tensor.data, flat);
      const F = feed.columns.length;
      if (flat.length === 0 || flat.length % F !== 0) return null;
      const n = flat.length / F;
      if (rows >= 0 && n !== rows) return null;
      rows = n;
      for (const [j, column] of feed.columns.entries()) {
        const values: number[] = [];
        for (let r = 0; r < n; r++) values.push(toNumber(flat[r * F + j]));
        perColumn.set(column, values);
      }
    }
  } else {
    // The /predict form: rows of F values, or objects keyed by the model's feature names.
    const feed = decoder.feeds.length === 1 ? decoder.feeds[0]! : null;
    if (!feed || feed.rank !== 2) return null;
    const F = feed.columns.length;
    const names = decoder.rowNames ?? feed.columns;
    const values = feed.columns.map(() => [] as number[]);
    for (const row of inputs) {
      if (Array.isArray(row)) {
        if (row.length !== F) return null;
        for (let j = 0; j < F; j++) values[j]!.push(toNumber(row[j]));
      } else if (row && typeof row === "object") {
        const obj = row as Record<string, unknown>;
        for (let j = 0; j < F; j++) values[j]!.push(toNumber(obj[names[j] ?? ""]));
      } else return null;
    }
    rows = inputs.length;
    feed.columns.forEach((c, j) => perColumn.set(c, values[j]!));
  }
  for (const [column, values] of perColumn) {
    const target = columns.get(column);
    if (!target) continue;
    for (const v of values) if (Number.isFinite(v)) target.push(v);
  }
  return rows;
}

type WindowRow = { versionId: string | null; inputs: unknown };

async function readWindow(
  db: PrismaClient,
  modelId: string,
  versionId: string | undefined,
  from: Date,
  to: Date,
): Promise<WindowRow[]> {
  return db.$queryRaw<WindowRow[]>`
    SELECT "versionId", inputs FROM prediction_log
     WHERE at > ${from} AND at <= ${to} AND "modelId" = ${modelId}::uuid
       AND inputs IS NOT NULL
       ${versionId ? Prisma.sql`AND "versionId" = ${versionId}::uuid` : Prisma.empty}
     ORDER BY at DESC
     LIMIT ${MAX_WINDOW_REQUESTS + 1}`;
}

// ---------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------

export type CurrentDriftOptions = {
  modelId: string;
  /** Only requests this version answered; default: every version of the model. */
  versionId?: string;
  windowMs: number;
  /** End of the window (default now). */
  now?: Date;
  store?: ArtifactStore;
};

/**
 * The model's drift over the window ending now: per-feature results and the overall score
 * (share of features that drifted; null when not enough data). What alert rules read.
 */
export async function currentDriftScore(
  db: PrismaClient,
  options: CurrentDriftOptions,
): Promise<DriftResult> {
  const { modelId, versionId, windowMs } = options;
  if (!(windowMs >= 1) || !Number.isFinite(windowMs)) {
    throw new ApiError("validation_failed", "The drift window must be a positive duration.");
  }
  const to = options.now ?? new Date();
  const from = new Date(to.getTime() - windowMs);
  const model = await db.model.findUnique({
    where: { id: modelId },
    select: { id: true, name: true, task: true },
  });
  if (!model) throw notFound(`Model ${modelId}`);
  const version = versionId
    ? await db.modelVersion.findFirst({
        where: { id: versionId, modelId },
        select: { version: true },
      })
    : null;
  if (versionId && !version) throw notFound(`Version ${versionId} of model ${model.name}`);

  const base = {
    modelId,
    model: model.name,
    version: version?.version ?? null,
    windowMs,
    from: from.toISOString(),
    to: to.toISOString(),
    minSampleRows: MIN_SAMPLE_ROWS,
  };
  const choice = await chooseReference(db, modelId, versionId);
  if (!choice) {
    return {
      ...base,
      reference: null,
      problem:
        "No succeeded evaluation yet: drift compares served inputs with the dataset a version was evaluated on. Evaluate a version to set the reference.",
      sample: { requests: 0, rows: 0, truncated: false, skipped: 0 },
      features: [],
      ...summarizeDrift([]),
    };
  }
  const reference = await ensureReference(
    db,
    options.store ?? getArtifactStore(),
    choice.datasetVersion,
  );
  const referenceView: DriftReferenceView = {
    id: reference.id,
    dataset: choice.datasetVersion.dataset,
    datasetVersion: choice.datasetVersion.version,
    datasetVersionId: choice.datasetVersion.id,
    rowCount: reference.rowCount,
    evaluationId: choice.evaluationId,
    evaluatedVersion: choice.evaluatedVersion,
    evaluatedAt: choice.evaluatedAt.toISOString(),
    basis: choice.basis,
  };

  const logged = await readWindow(db, modelId, versionId, from, to);
  const truncated = logged.length > MAX_WINDOW_REQUESTS;
  if (truncated) logged.length = MAX_WINDOW_REQUESTS;

  // Each version's signature decides how its logged inputs map to the dataset's columns.
  const decoders = new Map<string, Decoder | null>();
  const decoderFor = async (id: string | null): Promise<Decoder | null> => {
    if (!id) return null;
    if (decoders.has(id)) return decoders.get(id)!;
    const v = await db.modelVersion.findUnique({ where: { id }, select: { signature: true } });
    let decoder: Decoder | null = null;
    if (v) {
      const signature = v.signature as unknown as OnnxSignature;
      const task = model.task === "other" ? "regression" : model.task;
      const fit = checkDatasetFitsModel(
        {
          columns: choice.datasetVersion.columns,
          labelColumn: choice.datasetVersion.labelColumn,
          featureMapping: choice.datasetVersion.featureMapping,
        },
        signature,
        task,
      );
      if (fit.ok) decoder = { feeds: fit.plan.feeds, rowNames: featureNamesOf(signature) };
    }
    decoders.set(id, decoder);
    return decoder;
  };

  const columns = new Map(reference.features.map((f) => [f.feature, [] as number[]]));
  let rows = 0;
  let skipped = 0;
  for (const row of logged) {
    const decoder = await decoderFor(row.versionId);
    const n = decoder ? decodeInputs(row.inputs, decoder, columns) : null;
    if (n === null) skipped++;
    else rows += n;
  }

  const features: FeatureDrift[] = [];
  for (const ref of reference.features) {
    features.push(compareFeature(ref, columns.get(ref.feature) ?? []));
    await yieldToEventLoop(); // an exact KS p-value can take tens of milliseconds
  }
  return {
    ...base,
    reference: referenceView,
    problem: null,
    sample: { requests: logged.length, rows, truncated, skipped },
    features,
    ...summarizeDrift(features),
  };
}

// ---------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------

const snapshotView = (s: {
  at: Date;
  windowMs: number;
  score: number | null;
  driftedFeatures: number;
  featureCount: number;
  sampleRows: number;
}): DriftSnapshotView => ({
  at: s.at.toISOString(),
  windowMs: s.windowMs,
  score: s.score,
  driftedFeatures: s.driftedFeatures,
  featureCount: s.featureCount,
  sampleRows: s.sampleRows,
});

/** The newest stored snapshot of the model (version scope, or every version when omitted). */
export async function latestDriftSnapshot(
  db: PrismaClient,
  options: { modelId: string; versionId?: string },
): Promise<(DriftSnapshotView & { features: FeatureDrift[] }) | null> {
  const row = await db.driftSnapshot.findFirst({
    where: { modelId: options.modelId, versionId: options.versionId ?? null },
    orderBy: { at: "desc" },
  });
  return row ? { ...snapshotView(row), features: row.features as unknown as FeatureDrift[] } : null;
}

/** Stored snapshots in [from, to], oldest first (the chart's series). */
export async function listDriftSnapshots(
  db: PrismaClient,
  options: { modelId: string; versionId?: string; from: Date; to: Date },
): Promise<DriftSnapshotView[]> {
  const rows = await db.driftSnapshot.findMany({
    where: {
      modelId: options.modelId,
      versionId: options.versionId ?? null,
      at: { gte: options.from, lte: options.to },
    },
    orderBy: { at: "asc" },
    take: 5_000,
    select: {
      at: true,
      windowMs: true,
      score: true,
      driftedFeatures: true,
      featureCount: true,
      sampleRows: true,
    },
  });
  return rows.map(snapshotView);
}

/**
 * Measures every model that has a reference (a succeeded evaluation) over the window ending
 * at `at` and stores one snapshot each (every version together); deletes snapshots past the
 * retention. Run by the scheduler's drift task; returns how many were stored.
 */
export async function snapshotDrift(
  db: PrismaClient,
  options: {
    at: Date;
    windowMs?: number;
    store?: ArtifactStore;
    signal?: AbortSignal;
    log?: Logger;
  },
): Promise<number> {
  const windowMs = options.windowMs ?? DEFAULT_DRIFT_WINDOW_MS;
  const models = await db.model.findMany({
    where: { evaluations: { some: { status: "succeeded" } } },
    select: { id: true, name: true },
    orderBy: { name: "asc" },
  });
  let stored = 0;
  for (const model of models) {
    options.signal?.throwIfAborted();
    try {
      const result = await currentDriftScore(db, {
        modelId: model.id,
        windowMs,
        now: options.at,
        store: options.store,
      });
      await db.driftSnapshot.create({
        data: {
          modelId: model.id,
          versionId: null,
          at: options.at,
          windowMs,
          referenceId: result.reference?.id ?? null,
          score: result.score,
          driftedFeatures: result.driftedFeatures,
          featureCount: result.featureCount,
          sampleRows: result.sample.rows,
          features: result.features as unknown as Prisma.InputJsonValue,
        },
      });
      stored++;
    } catch (error) {
      // One model's unreadable dataset must not stop the others' snapshots.
      options.log?.warn({ err: error, model: model.name }, "drift snapshot failed");
    }
  }
  await db.driftSnapshot.deleteMany({
    where: { at: { lt: new Date(options.at.getTime() - SNAPSHOT_RETENTION_MS) } },
  });
  return stored;
}

/** The snapshot schedule: MODELDECK_DRIFT_SNAPSHOT_SCHEDULE (node-cron), default every 5 minutes. */
export function driftSnapshotSchedule(env: Record<string, string | undefined> = process.env) {
  return env.MODELDECK_DRIFT_SNAPSHOT_SCHEDULE?.trim() || "*/5 * * * *";
}

/** The scheduler's system task that stores drift snapshots (exactly once across replicas). */
export function driftSnapshotTask(deps: {
  db: PrismaClient;
  store: ArtifactStore;
  log: Logger;
}): SystemTask {
  return {
    name: "drift-snapshots",
    schedule: driftSnapshotSchedule(),
    run: async ({ at, signal }) => {
      const stored = await snapshotDrift(deps.db, {
        at,
        store: deps.store,
        signal,
        log: deps.log,
      });
      deps.log.debug({ stored }, "drift snapshots stored");
    },
  };
}

// ---------------------------------------------------------------------------------------
// The API's view
// ---------------------------------------------------------------------------------------

/** "15m", "1h", "24h", "7d" → milliseconds (the API's `window`). */
export function parseDriftWindow(text: string): number | null {
  const match = /^([1-9]\d{0,5})(m|h|d)$/.exec(text);
  if (!match) return null;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "m" | "h" | "d"];
  const ms = Number(match[1]) * unit;
  return ms >= MIN_DRIFT_WINDOW_MS && ms <= MAX_DRIFT_WINDOW_MS ? ms : null;
}

/**
 * A model's drift by name for the API and the model page: the live measurement over the
 * window and the stored snapshots of the last day (every version together).
 */
export async function getModelDrift(
  db: PrismaClient,
  modelName: string,
  options: { windowMs: number; version?: number; store?: ArtifactStore; now?: Date },
): Promise<{ drift: DriftResult; history: DriftSnapshotView[] }> {
  const { id: modelId } = await findModelId(db, modelName);
  let versionId: string | undefined;
  if (options.version !== undefined) {
    const v = await db.modelVersion.findUnique({
      where: { modelId_version: { modelId, version: options.version } },
      select: { id: true },
    });
    if (!v) throw notFound(`Version ${options.version} of model ${modelName}`);
    versionId = v.id;
  }
  const now = options.now ?? new Date();
  const [drift, history] = await Promise.all([
    currentDriftScore(db, {
      modelId,
      versionId,
      windowMs: options.windowMs,
      now,
      store: options.store,
    }),
    listDriftSnapshots(db, {
      modelId,
      from: new Date(now.getTime() - DRIFT_HISTORY_MS),
      to: now,
    }),
  ]);
  return { drift, history };
}
