import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { ApiError, conflict, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import { isUniqueViolation } from "../db/errors";
import type { Prisma, PrismaClient } from "../db/generated/client";
import type { ArtifactStore, StagedArtifact } from "../storage";
import { readUpload } from "../uploads";
import {
  DATASET_UPLOAD_FIELDS,
  detectFormat,
  isValidDatasetName,
  parseUploadFields,
  type DatasetUploadFields,
} from "./names";
import { encodeDatasetMatrix } from "./matrix";
import { MAX_LISTED_PROBLEMS, scanDataset } from "./parse";
import type {
  Cell,
  ColumnInfo,
  DatasetFormat,
  DatasetProblem,
  DatasetVersionDetail,
  DatasetVersionView,
  DatasetView,
  FeatureMapping,
} from "./types";

/**
 * Datasets: named, immutable versions of labelled rows. An upload streams to the artifact
 * store (hashed on the way, like a model artifact), is read once in full to infer column
 * types and find bad rows, and only a clean file becomes a version: on any problem the
 * staged bytes are dropped and no row is written.
 */

/** Largest dataset file (MODELDECK_MAX_DATASET_BYTES, default 1 GiB). */
export function maxDatasetBytes(env: Record<string, string | undefined> = process.env): number {
  const raw = env.MODELDECK_MAX_DATASET_BYTES;
  const n = raw === undefined || raw === "" ? NaN : Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : 1024 ** 3;
}

const TX_OPTIONS = { isolationLevel: "ReadCommitted", maxWait: 15_000, timeout: 30_000 } as const;

const versionSelect = {
  id: true,
  version: true,
  sha256: true,
  sizeBytes: true,
  storageKey: true,
  format: true,
  originalFilename: true,
  rowCount: true,
  columns: true,
  labelColumn: true,
  featureMapping: true,
  createdAt: true,
  createdByType: true,
  createdById: true,
  createdByLabel: true,
  dataset: { select: { name: true } },
} satisfies Prisma.DatasetVersionSelect;

type VersionRow = Prisma.DatasetVersionGetPayload<{ select: typeof versionSelect }>;

function toVersionView(row: VersionRow): DatasetVersionView {
  return {
    id: row.id,
    dataset: row.dataset.name,
    version: row.version,
    sha256: row.sha256,
    sizeBytes: Number(row.sizeBytes),
    storageKey: row.storageKey,
    format: row.format,
    originalFilename: row.originalFilename,
    rowCount: row.rowCount,
    columns: row.columns as ColumnInfo[],
    labelColumn: row.labelColumn,
    featureMapping: row.featureMapping as FeatureMapping,
    createdAt: row.createdAt.toISOString(),
    createdBy: { type: row.createdByType, id: row.createdById, label: row.createdByLabel },
  };
}

const datasetInclude = {
  versions: { select: versionSelect, orderBy: { version: "desc" }, take: 1 },
  _count: { select: { versions: true } },
} satisfies Prisma.DatasetInclude;

function toDatasetView(
  row: Prisma.DatasetGetPayload<{ include: typeof datasetInclude }>,
): DatasetView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    createdBy: { type: row.createdByType, id: row.createdById, label: row.createdByLabel },
    versionCount: row._count.versions,
    latest: row.versions[0] ? toVersionView(row.versions[0]) : null,
  };
}

/** The 422 for a file with bad rows: the first problems with line numbers, and the total. */
export class DatasetProblemsError extends ApiError {
  constructor(
    readonly problems: DatasetProblem[],
    readonly problemCount: number,
    readonly columns: ColumnInfo[],
  ) {
    const first = problems
      .slice(0, 3)
      .map((p) => p.message)
      .join(" ");
    const more = problemCount > 3 ? ` (${problemCount} problems in all)` : "";
    super("unprocessable", `The dataset was not stored: ${first}${more}`, {
      reason: "invalid_rows",
      problems,
      problemCount,
      listed: Math.min(problems.length, MAX_LISTED_PROBLEMS),
      columns,
    });
    this.name = "DatasetProblemsError";
  }
}

export type UploadDatasetInput = {
  request: Request;
  maxBytes?: number;
  ipAddress?: string | null;
};

export type DatasetUploadResult = {
  dataset: DatasetView;
  version: DatasetVersionDetail;
  /** true when this upload created the dataset (version 1). */
  created: boolean;
};

/** A new dataset version from an HTTP upload (multipart `file` plus fields, or raw + query). */
export async function uploadDataset(
  db: PrismaClient,
  store: ArtifactStore,
  actor: Actor,
  input: UploadDatasetInput,
): Promise<DatasetUploadResult> {
  const { staged, filename, fields } = await readUpload(input.request, {
    maxBytes: input.maxBytes ?? maxDatasetBytes(),
    store,
    fields: DATASET_UPLOAD_FIELDS,
  });
  let parsed: DatasetUploadFields;
  try {
    parsed = parseUploadFields(fields);
  } catch (error) {
    await staged.discard();
    throw error;
  }
  return registerStagedDataset(db, store, actor, staged, {
    ...parsed,
    originalFilename: filename,
    ipAddress: input.ipAddress,
    signal: input.request.signal,
  });
}

export type StagedDatasetInput = DatasetUploadFields & {
  originalFilename?: string | null;
  ipAddress?: string | null;
  signal?: AbortSignal;
};

async function firstByteOf(file: string): Promise<number | null> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(4);
    const { bytesRead } = await handle.read(buffer, 0, 4, 0);
    // Skip a UTF-8 byte-order mark.
    if (bytesRead >= 4 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) {
      return buffer[3]!;
    }
    return bytesRead > 0 ? buffer[0]! : null;
  } finally {
    await handle.close();
  }
}

/**
 * The second half of every dataset upload: read the staged file in full (types, preview,
 * problems), then record the version and publish the file, or drop it. "No row without a
 * file, no file without a row", in the same order as model versions.
 */
export async function registerStagedDataset(
  db: PrismaClient,
  store: ArtifactStore,
  actor: Actor,
  staged: StagedArtifact,
  input: StagedDatasetInput,
): Promise<DatasetUploadResult> {
  let result: DatasetUploadResult;
  let matrix: StagedArtifact | null = null;
  const discardAll = async () => {
    await staged.discard();
    await matrix?.discard();
  };
  try {
    const format = detectFormat(
      input.format,
      input.originalFilename ?? null,
      await firstByteOf(staged.tempPath),
    );
    const scan = await scanDataset(staged.tempPath, format, {
      labelColumn: input.labelColumn,
      mapping: input.mapping,
      defaultInput: input.input,
      signal: input.signal,
      collectMatrix: true,
    });
    if (!scan.ok || !scan.mapping) {
      throw new DatasetProblemsError(scan.problems, scan.problemCount, scan.columns);
    }
    // The binary form for evaluations (matrix.ts), staged like the file itself.
    const bytes = scan.matrix
      ? encodeDatasetMatrix({
          featureColumns: scan.matrix.featureColumns,
          features: scan.matrix.features(),
          labels: scan.matrix.labels,
          labelColumn: input.labelColumn,
          featuresExact: scan.matrix.exact,
        })
      : null;
    if (bytes) {
      matrix = await store.stage(Readable.from([bytes]), { maxBytes: bytes.length });
    }
    result = await createDatasetVersion(db, actor, {
      name: input.name,
      description: input.description,
      sha256: staged.sha256,
      sizeBytes: staged.sizeBytes,
      storageKey: store.keyFor(staged.sha256),
      format,
      originalFilename: input.originalFilename ?? null,
      rowCount: scan.rowCount,
      columns: scan.columns,
      labelColumn: input.labelColumn,
      featureMapping: scan.mapping,
      preview: scan.preview,
      matrixStorageKey: matrix ? store.keyFor(matrix.sha256) : null,
      ipAddress: input.ipAddress,
    });
  } catch (error) {
    await discardAll();
    throw error;
  }
  const published: string[] = [];
  try {
    for (const artifact of matrix ? [staged, matrix] : [staged]) {
      const committed = await artifact.commit();
      if (committed.created) published.push(committed.key);
    }
  } catch (error) {
    await discardAll();
    await db.$transaction(async (tx) => {
      await tx.datasetVersion.delete({ where: { id: result.version.id } });
      if (result.created) await tx.dataset.delete({ where: { id: result.dataset.id } });
      await recordAudit(tx, {
        actor,
        action: "dataset.version.create.undo",
        resourceType: "dataset_version",
        resourceId: result.version.id,
        before: { dataset: result.dataset.name, version: result.version.version },
        after: { reason: "the file could not be stored" },
        ipAddress: input.ipAddress,
      });
    });
    // Nothing half-made: a file this upload published goes too, unless another version
    // (same content, uploaded meanwhile) references it.
    for (const key of published) {
      const users = await db.datasetVersion.count({
        where: { OR: [{ storageKey: key }, { matrixStorageKey: key }] },
      });
      if (users === 0) await store.remove(key).catch(() => {});
    }
    throw error;
  }
  return result;
}

/** A dataset version from bytes in memory (seeding, tests, benchmarks). */
export async function registerDatasetBytes(
  db: PrismaClient,
  store: ArtifactStore,
  actor: Actor,
  bytes: Uint8Array | string,
  input: Omit<StagedDatasetInput, "signal" | "mapping" | "input" | "format" | "description"> &
    Partial<Pick<DatasetUploadFields, "mapping" | "input" | "format" | "description">>,
): Promise<DatasetUploadResult> {
  const data = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  const staged = await store.stage(Readable.from([data]), { maxBytes: data.length });
  return registerStagedDataset(db, store, actor, staged, {
    mapping: null,
    input: "features",
    format: null,
    description: null,
    ...input,
  });
}

type CreateDatasetVersionInput = {
  name: string;
  description: string | null;
  sha256: string;
  sizeBytes: number;
  storageKey: string;
  format: DatasetFormat;
  originalFilename: string | null;
  rowCount: number;
  columns: ColumnInfo[];
  labelColumn: string;
  featureMapping: FeatureMapping;
  preview: Cell[][];
  matrixStorageKey: string | null;
  ipAddress?: string | null;
};

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;

/**
 * Records a version (creating the dataset on its first upload). Numbers are allocated under
 * a row lock on the dataset, so concurrent uploads get 1, 2, 3… without gaps.
 */
async function createDatasetVersion(
  db: PrismaClient,
  actor: Actor,
  input: CreateDatasetVersionInput,
): Promise<DatasetUploadResult> {
  const attempt = () =>
    db.$transaction(async (tx) => {
      let created = false;
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text AS id FROM dataset WHERE name = ${input.name} FOR NO KEY UPDATE`;
      let datasetId = locked[0]?.id;
      if (!datasetId) {
        const row = await tx.dataset.create({
          data: {
            name: input.name,
            description: input.description ?? "",
            createdByType: actor.type,
            createdById: actor.id ?? null,
            createdByLabel: actor.label,
          },
        });
        datasetId = row.id;
        created = true;
        await recordAudit(tx, {
          actor,
          action: "dataset.create",
          resourceType: "dataset",
          resourceId: row.id,
          after: { name: input.name, description: row.description },
          ipAddress: input.ipAddress,
        });
      }
      const { _max } = await tx.datasetVersion.aggregate({
        where: { datasetId },
        _max: { version: true },
      });
      const version = (_max.version ?? 0) + 1;
      const row = await tx.datasetVersion.create({
        data: {
          datasetId,
          version,
          sha256: input.sha256,
          sizeBytes: BigInt(input.sizeBytes),
          storageKey: input.storageKey,
          format: input.format,
          originalFilename: input.originalFilename?.slice(0, 255) ?? null,
          rowCount: input.rowCount,
          columns: json(input.columns),
          labelColumn: input.labelColumn,
          featureMapping: json(input.featureMapping),
          preview: json(input.preview),
          matrixStorageKey: input.matrixStorageKey,
          createdByType: actor.type,
          createdById: actor.id ?? null,
          createdByLabel: actor.label,
        },
        select: { ...versionSelect, preview: true },
      });
      if (!created) {
        await tx.dataset.update({ where: { id: datasetId }, data: { updatedAt: new Date() } });
      }
      await recordAudit(tx, {
        actor,
        action: "dataset.version.create",
        resourceType: "dataset_version",
        resourceId: row.id,
        after: {
          dataset: input.name,
          version,
          sha256: input.sha256,
          sizeBytes: input.sizeBytes,
          format: input.format,
          rowCount: input.rowCount,
          labelColumn: input.labelColumn,
          featureMapping: input.featureMapping,
          originalFilename: input.originalFilename,
        },
        ipAddress: input.ipAddress,
      });
      const dataset = await tx.dataset.findUniqueOrThrow({
        where: { id: datasetId },
        include: datasetInclude,
      });
      return {
        dataset: toDatasetView(dataset),
        version: { ...toVersionView(row), preview: row.preview as Cell[][] },
        created,
      };
    }, TX_OPTIONS);
  try {
    return await attempt();
  } catch (error) {
    // Two first uploads of one name at once: the loser retries as the second version.
    if (!isUniqueViolation(error)) throw error;
    try {
      return await attempt();
    } catch (again) {
      if (isUniqueViolation(again)) {
        throw conflict("Another upload of this dataset happened at the same moment; try again.");
      }
      throw again;
    }
  }
}

async function findDataset(db: PrismaClient, name: string) {
  const row = isValidDatasetName(name)
    ? await db.dataset.findUnique({ where: { name }, include: datasetInclude })
    : null;
  if (!row) throw notFound(`Dataset ${JSON.stringify(name)}`);
  return row;
}

export async function listDatasets(db: PrismaClient): Promise<DatasetView[]> {
  const rows = await db.dataset.findMany({ include: datasetInclude, orderBy: { name: "asc" } });
  return rows.map(toDatasetView);
}

/** A dataset with all its versions, newest first. */
export async function getDataset(
  db: PrismaClient,
  name: string,
): Promise<{ dataset: DatasetView; versions: DatasetVersionView[] }> {
  const row = await findDataset(db, name);
  const versions = await db.datasetVersion.findMany({
    where: { datasetId: row.id },
    select: versionSelect,
    orderBy: { version: "desc" },
  });
  return { dataset: toDatasetView(row), versions: versions.map(toVersionView) };
}

/** One version with its preview; the newest when `version` is omitted. */
export async function getDatasetVersion(
  db: PrismaClient,
  name: string,
  version?: number | null,
): Promise<DatasetVersionDetail> {
  const dataset = await findDataset(db, name);
  const row = await db.datasetVersion.findFirst({
    where: {
      datasetId: dataset.id,
      ...(version !== undefined && version !== null ? { version } : {}),
    },
    orderBy: { version: "desc" },
    select: { ...versionSelect, preview: true },
  });
  if (!row) {
    throw notFound(
      version !== undefined && version !== null
        ? `Version ${version} of dataset ${name}`
        : `A version of dataset ${name}`,
    );
  }
  return { ...toVersionView(row), preview: row.preview as Cell[][] };
}

/** The artifact key of a version's binary form (matrix.ts), or null when it has none. */
export async function getDatasetMatrixKey(db: PrismaClient, id: string): Promise<string | null> {
  const row = await db.datasetVersion.findUnique({
    where: { id },
    select: { matrixStorageKey: true },
  });
  return row?.matrixStorageKey ?? null;
}

/** A version by id (what an evaluation row references). */
export async function getDatasetVersionById(
  db: PrismaClient,
  id: string,
): Promise<DatasetVersionView> {
  const row = await db.datasetVersion.findUnique({ where: { id }, select: versionSelect });
  if (!row) throw notFound(`Dataset version ${id}`);
  return toVersionView(row);
}
