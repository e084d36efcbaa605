import { gateSchema } from "../../evaluation/gate";
import { METRIC_NAMES, type MetricName as MetricNameType } from "../../evaluation/metrics";
import { defineContract, ErrorResponse, registry, z } from "../contract";

/** Datasets, evaluations and promotion gates under /api/v1. */

const Actor = z.object({ type: z.string(), id: z.string().nullable(), label: z.string() });
const ModelName = z.string().min(1).max(63).openapi({ example: "iris-classifier" });
const DatasetName = z.string().min(1).max(63).openapi({ example: "iris" });
const VersionNumber = z.number().int().min(1).max(2_147_483_647);
const Cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const Column = registry.register(
  "DatasetColumn",
  z.object({
    name: z.string(),
    type: z.enum(["number", "integer", "string", "boolean"]),
    nullable: z.boolean(),
    nullCount: z.number().int(),
    min: z.number().optional(),
    max: z.number().optional(),
    values: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .openapi({ description: "Distinct values in first-seen order, when there are at most 50." }),
  }),
);

// Rebuilt here rather than imported: schemas made before contract.ts extends zod have no
// .openapi() (lib/datasets/names.ts holds the validating twin).
const FeatureMapping = registry.register(
  "FeatureMapping",
  z
    .union([
      z.object({
        kind: z.literal("tensor"),
        input: z.string(),
        columns: z.array(z.string()),
      }),
      z.object({ kind: z.literal("named"), inputs: z.record(z.string(), z.string()) }),
    ])
    .openapi({
      description:
        "`tensor`: the columns, in order, form one [batch, F] input. `named`: each input gets one column.",
    }),
);

const versionFields = {
  id: z.string(),
  dataset: z.string(),
  version: z.number().int(),
  sha256: z.string(),
  sizeBytes: z.number().int(),
  storageKey: z.string(),
  format: z.enum(["csv", "jsonl"]),
  originalFilename: z.string().nullable(),
  rowCount: z.number().int(),
  columns: z.array(Column),
  labelColumn: z.string(),
  featureMapping: FeatureMapping,
  createdAt: z.string(),
  createdBy: Actor,
};
const DatasetVersion = registry.register("DatasetVersion", z.object(versionFields));
const DatasetVersionDetail = registry.register(
  "DatasetVersionDetail",
  z.object({
    ...versionFields,
    preview: z.array(z.array(Cell)).openapi({ description: "The first 20 rows, in column order." }),
  }),
);
const Dataset = registry.register(
  "Dataset",
  z.object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdBy: Actor,
    versionCount: z.number().int(),
    latest: DatasetVersion.nullable(),
  }),
);

export const listDatasets = defineContract({
  method: "get",
  path: "/api/v1/datasets",
  operationId: "listDatasets",
  summary: "List datasets",
  tags: ["Datasets"],
  scope: "models:read",
  response: z.object({ datasets: z.array(Dataset) }),
});

const datasetUploadFields = z.object({
  file: z
    .string()
    .openapi({ format: "binary", description: "The CSV (with a header line) or JSON Lines file." }),
  name: z.string().openapi({
    description:
      "Dataset name (URL-safe). A new name creates the dataset; an existing one gets a new version.",
  }),
  labelColumn: z.string(),
  description: z.string().optional().openapi({ description: "Used when the dataset is created." }),
  featureColumns: z.string().optional().openapi({
    description:
      "Comma-separated (or a JSON array): the columns, in order, that form one tensor input. Default: every column but the label.",
  }),
  input: z
    .string()
    .optional()
    .openapi({ description: "Name of that tensor input (default `features`)." }),
  mapping: z.string().optional().openapi({
    description:
      'Instead of featureColumns: a JSON FeatureMapping, e.g. `{"kind":"named","inputs":{"age":"age_years"}}`.',
  }),
  format: z
    .enum(["csv", "jsonl"])
    .optional()
    .openapi({ description: "Default: from the file name, else from the first byte." }),
});

// The upload is streamed, not JSON: documented here, handled by a hand-written route.
registry.registerPath({
  method: "post",
  path: "/api/v1/datasets",
  operationId: "uploadDataset",
  summary: "Upload a dataset (a new dataset, or a new version of one)",
  description:
    "Send `multipart/form-data` with the file in `file` and the fields below (or a raw body with the fields in the query string). " +
    "The file is streamed to the artifact store, read once in full to infer column types, and checked: ragged rows, " +
    "non-numeric feature values and missing labels are reported with their line numbers (422; up to 20 listed, all counted), and then nothing is stored. " +
    "Requires the `models:write` permission.",
  tags: ["Datasets"],
  security: [{ bearerToken: [] }, { sessionCookie: [] }],
  request: {
    body: {
      required: true,
      content: {
        "multipart/form-data": { schema: datasetUploadFields },
        "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
      },
    },
  },
  responses: {
    201: {
      description: "Stored",
      content: {
        "application/json": {
          schema: z.object({
            dataset: Dataset,
            version: DatasetVersionDetail,
            created: z.boolean(),
          }),
        },
      },
    },
    ...Object.fromEntries(
      (
        [
          [400, "No file, a missing or invalid field (`details.fields`)."],
          [401, "No valid session or API token."],
          [403, "The role lacks models:write."],
          [413, "The file is larger than MODELDECK_MAX_DATASET_BYTES (1 GiB by default)."],
          [415, "Neither multipart/form-data nor application/octet-stream."],
          [
            422,
            "Rows that cannot be used: `details.problems` ([{line, message}]), `details.problemCount`, `details.columns`.",
          ],
        ] as const
      ).map(([code, description]) => [
        code,
        { description, content: { "application/json": { schema: ErrorResponse } } },
      ]),
    ),
  },
});

export const getDataset = defineContract({
  method: "get",
  path: "/api/v1/datasets/{name}",
  operationId: "getDataset",
  summary: "A dataset: its versions, and one version's columns and preview",
  tags: ["Datasets"],
  scope: "models:read",
  extraErrors: { 404: "No such dataset or version." },
  params: z.object({ name: DatasetName }),
  query: z
    .object({
      version: z.coerce.number().int().min(1).max(2_147_483_647).optional().openapi({
        description: "Which version's columns and preview to return (default: the newest).",
      }),
    })
    .strict(),
  response: z.object({
    dataset: Dataset,
    versions: z.array(DatasetVersion),
    version: DatasetVersionDetail,
  }),
});

const Latency = z.object({
  batch1: z.object({
    runs: z.number().int(),
    p50Ms: z.number(),
    p95Ms: z.number(),
    p99Ms: z.number(),
    meanMs: z.number(),
    maxMs: z.number(),
  }),
  batched: z.object({
    batchSize: z.number().int(),
    rows: z.number().int(),
    seconds: z.number(),
    rowsPerSecond: z.number(),
  }),
  notes: z.array(z.string()).optional(),
  timings: z.record(z.string(), z.number()).optional(),
});

const ClassificationMetrics = z.object({
  kind: z.literal("classification"),
  rows: z.number().int(),
  accuracy: z.number(),
  precisionMacro: z.number(),
  recallMacro: z.number(),
  f1Macro: z.number(),
  perClass: z.array(
    z.object({
      label: z.string(),
      precision: z.number(),
      recall: z.number(),
      f1: z.number(),
      support: z.number().int(),
      predicted: z.number().int(),
    }),
  ),
  confusionMatrix: z.object({
    labels: z.array(z.string()),
    matrix: z.array(z.array(z.number().int())).openapi({ description: "matrix[true][predicted]" }),
  }),
  logLoss: z.number().nullable(),
  rocAuc: z.number().nullable(),
});
const RegressionMetrics = z.object({
  kind: z.literal("regression"),
  rows: z.number().int(),
  mae: z.number(),
  mse: z.number(),
  rmse: z.number(),
  r2: z.number(),
});

const Evaluation = registry.register(
  "Evaluation",
  z.object({
    id: z.string(),
    model: z.string(),
    modelId: z.string(),
    version: z.number().int(),
    versionId: z.string(),
    dataset: z.string(),
    datasetVersion: z.number().int(),
    datasetVersionId: z.string(),
    status: z.enum(["queued", "running", "succeeded", "failed"]),
    task: z.enum(["classification", "regression"]),
    rowCount: z.number().int().nullable(),
    metrics: z.union([ClassificationMetrics, RegressionMetrics]).nullable(),
    latency: Latency.nullable(),
    error: z.string().nullable(),
    trigger: z.enum(["manual", "job"]),
    triggerRef: z.string().nullable(),
    triggeredBy: Actor,
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  }),
);

const modelParams = z.object({ name: ModelName });

export const startEvaluation = defineContract({
  method: "post",
  path: "/api/v1/models/{name}/evaluations",
  operationId: "startEvaluation",
  summary: "Evaluate a version on a dataset (runs in the background)",
  description:
    "Checks that the dataset fits the version's inputs, records a queued evaluation and answers 202 at once; " +
    "poll `GET /api/v1/evaluations/{id}` until `status` is succeeded or failed.",
  tags: ["Evaluations"],
  scope: "models:write",
  successStatus: 202,
  extraErrors: {
    404: "No such model, version, dataset or dataset version.",
    422: "The dataset does not fit the version (`details.problems` says why), or the model's task is neither classification nor regression.",
  },
  params: modelParams,
  body: z
    .object({
      version: VersionNumber,
      dataset: DatasetName,
      datasetVersion: VersionNumber.optional().openapi({ description: "Default: the newest." }),
    })
    .strict(),
  response: z.object({ evaluation: Evaluation }),
});

export const listEvaluations = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/evaluations",
  operationId: "listEvaluations",
  summary: "A model's evaluations, newest first",
  tags: ["Evaluations"],
  scope: "models:read",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  query: z
    .object({
      version: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    })
    .strict(),
  response: z.object({ evaluations: z.array(Evaluation) }),
});

export const getEvaluation = defineContract({
  method: "get",
  path: "/api/v1/evaluations/{id}",
  operationId: "getEvaluation",
  summary: "An evaluation: status, metrics and latency",
  tags: ["Evaluations"],
  scope: "models:read",
  extraErrors: { 404: "No such evaluation." },
  params: z.object({ id: z.string().max(64) }),
  response: z.object({ evaluation: Evaluation }),
});

const gateFields = gateSchema.shape;
const MetricName = z.enum(METRIC_NAMES as [MetricNameType, ...MetricNameType[]]);
const Gate = registry.register(
  "Gate",
  z.object({
    model: z.string(),
    primaryMetric: MetricName,
    direction: z.enum(["higher", "lower"]),
    minAbsoluteImprovement: z.number(),
    minRelativeImprovementPct: z.number(),
    maxLatencyRegressionPct: z.number().nullable(),
    minDatasetRows: z.number().int(),
    isDefault: z.boolean().openapi({
      description: "true: the model has no gate of its own and this default applies.",
    }),
    updatedAt: z.string().nullable(),
    updatedBy: Actor.nullable(),
  }),
);

export const getGate = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/gate",
  operationId: "getGate",
  summary: "A model's promotion gate",
  tags: ["Evaluations"],
  scope: "models:read",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  response: z.object({ gate: Gate }),
});

export const setGate = defineContract({
  method: "put",
  path: "/api/v1/models/{name}/gate",
  operationId: "setGate",
  summary: "Set a model's promotion gate",
  description:
    "What a candidate must achieve over production to be promoted automatically. `direction` defaults to the metric's own (accuracy ↑, rmse ↓).",
  tags: ["Evaluations"],
  scope: "models:write",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  body: z
    .object({
      primaryMetric: MetricName,
      direction: z.enum(["higher", "lower"]).optional(),
      minAbsoluteImprovement: z.number().min(0).max(1e12).optional(),
      minRelativeImprovementPct: z.number().min(0).max(1e6).optional(),
      maxLatencyRegressionPct: z.number().min(0).max(1e6).nullable().optional(),
      minDatasetRows: z.number().int().min(0).max(1e9).optional(),
    })
    .strict()
    .openapi({ description: `Fields: ${Object.keys(gateFields).join(", ")}.` }),
  response: z.object({ gate: Gate }),
});
