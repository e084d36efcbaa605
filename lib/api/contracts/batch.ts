import { defineContract, ErrorResponse, registry, z } from "../contract";

/**
 * Batch predictions under /api/v1 (lib/batch): a dataset scored asynchronously by the version
 * an alias points at, through the scheduler's Postgres queue.
 *
 * Submitting needs `predict`, not `models:write`: it is inference over data the caller can
 * already read (every role may call /v2 predict), it changes nothing in the registry, and
 * its output is a new artifact only its readers see. Reading needs `models:read`.
 */

const Actor = z.object({ type: z.string(), id: z.string().nullable(), label: z.string() });
const ModelName = z.string().min(1).max(63).openapi({ example: "iris-classifier" });
const VersionNumber = z.number().int().min(1).max(2_147_483_647);

const BatchPrediction = registry.register(
  "BatchPrediction",
  z.object({
    id: z.string(),
    model: z.string(),
    alias: z
      .string()
      .nullable()
      .openapi({ description: "The alias asked for; null when a version number was given." }),
    version: z
      .number()
      .int()
      .openapi({ description: "The version used: what the alias pointed at on submit." }),
    dataset: z.string(),
    datasetVersion: z.number().int(),
    status: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
    rowsTotal: z.number().int(),
    rowsDone: z.number().int(),
    progress: z.number().openapi({ description: "rowsDone / rowsTotal, 0 to 1." }),
    resultSizeBytes: z.number().int().nullable(),
    resultUrl: z.string().nullable().openapi({
      description:
        "Once succeeded: where the CSV is downloaded (`row`, the feature columns, `prediction`, then `p_<class>` per class for classifiers).",
    }),
    error: z.string().nullable(),
    createdBy: Actor,
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  }),
);

const modelParams = z.object({ name: ModelName });
const idParams = z.object({ id: z.string().max(64) });

export const submitBatchPrediction = defineContract({
  method: "post",
  path: "/api/v1/models/{name}/batch-predictions",
  operationId: "submitBatchPrediction",
  summary: "Score a dataset asynchronously (batch prediction)",
  description:
    "Resolves the alias (default `production`) or version now, checks the dataset fits its inputs and queues the work; " +
    "answers 202 at once. A scheduler process scores it; poll `GET /api/v1/batch-predictions/{id}` until `status` is succeeded or failed, " +
    "then download `resultUrl`. 400 when both an alias and a version are given, or when the dataset does not fit the version " +
    "(`details.problems` says why); then nothing is queued. Requires the `predict` permission.",
  tags: ["Batch predictions"],
  scope: "predict",
  successStatus: 202,
  extraErrors: {
    404: "No such model, alias, version, dataset or dataset version.",
  },
  params: modelParams,
  body: z
    .object({
      dataset: z.string().min(1).max(63).openapi({ example: "iris" }),
      datasetVersion: VersionNumber.optional().openapi({ description: "Default: the newest." }),
      alias: z
        .string()
        .min(1)
        .max(63)
        .optional()
        .openapi({ description: "Default `production` (when no version is given)." }),
      version: VersionNumber.optional(),
    })
    .strict(),
  response: z.object({ batchPrediction: BatchPrediction }),
});

export const listBatchPredictions = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/batch-predictions",
  operationId: "listBatchPredictions",
  summary: "A model's batch predictions, newest first",
  tags: ["Batch predictions"],
  scope: "models:read",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).strict(),
  response: z.object({ batchPredictions: z.array(BatchPrediction) }),
});

export const getBatchPrediction = defineContract({
  method: "get",
  path: "/api/v1/batch-predictions/{id}",
  operationId: "getBatchPrediction",
  summary: "A batch prediction: status, progress, version used and download URL",
  tags: ["Batch predictions"],
  scope: "models:read",
  extraErrors: { 404: "No such batch prediction." },
  params: idParams,
  response: z.object({ batchPrediction: BatchPrediction }),
});

export const cancelBatchPrediction = defineContract({
  method: "post",
  path: "/api/v1/batch-predictions/{id}/cancel",
  operationId: "cancelBatchPrediction",
  summary: "Cancel a queued or running batch prediction",
  description:
    "A running one is stopped by its scheduler within a third of the lease. Requires the `predict` permission.",
  tags: ["Batch predictions"],
  scope: "predict",
  extraErrors: { 404: "No such batch prediction.", 409: "It already ended." },
  params: idParams,
  response: z.object({ batchPrediction: BatchPrediction }),
});

// The CSV is streamed, not JSON: documented here, handled by a hand-written route.
registry.registerPath({
  method: "get",
  path: "/api/v1/batch-predictions/{id}/result",
  operationId: "downloadBatchPredictionResult",
  summary: "Download a batch prediction's CSV",
  description:
    "Streams the output CSV (`content-disposition: attachment`). Requires the `models:read` permission.",
  tags: ["Batch predictions"],
  security: [{ bearerToken: [] }, { sessionCookie: [] }],
  request: { params: idParams },
  responses: {
    200: {
      description: "The CSV",
      content: { "text/csv": { schema: z.string().openapi({ format: "binary" }) } },
    },
    404: {
      description: "No such batch prediction.",
      content: { "application/json": { schema: ErrorResponse } },
    },
    409: {
      description: "It has not succeeded (no result yet).",
      content: { "application/json": { schema: ErrorResponse } },
    },
  },
});
