import {
  descriptionSchema,
  modelNameSchema,
  modelTaskSchema,
  reasonSchema,
  tagsSchema,
} from "../../registry/names";
import { SAMPLE_REQUEST_MAX_BYTES, sampleRequestSchema } from "../../serving/sample-request";
import { defineContract, ErrorResponse, registry, z } from "../contract";

/** The model registry under /api/v1/models: models, versions, aliases, approvals. */

const Actor = z.object({ type: z.string(), id: z.string().nullable(), label: z.string() });
const VersionRef = z.object({ id: z.string(), version: z.number().int() });
const ModelName = z.string().min(1).max(63).openapi({ example: "churn-classifier" });
const AliasName = z.string().min(1).max(63).openapi({ example: "production" });
const VersionNumber = z.coerce.number().int().min(1).max(2_147_483_647);

const Model = registry.register(
  "Model",
  z.object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    task: modelTaskSchema,
    tags: z.array(z.string()),
    approvalRequired: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdBy: Actor,
    versionCount: z.number().int(),
    latestVersion: z.number().int().nullable(),
    aliases: z.array(
      z.object({
        name: z.string(),
        version: z.number().int(),
        versionId: z.string(),
        protected: z.boolean(),
      }),
    ),
    productionVersion: z.number().int().nullable(),
    pendingPromotionCount: z.number().int(),
  }),
);

const versionFields = {
  id: z.string(),
  modelId: z.string(),
  model: z.string(),
  version: z.number().int(),
  sha256: z.string(),
  sizeBytes: z.number().int(),
  storageKey: z.string(),
  opset: z.number().int().nullable(),
  inputCount: z.number().int().nullable(),
  outputCount: z.number().int().nullable(),
  description: z.string(),
  tags: z.array(z.string()),
  source: z.string().nullable(),
  originalFilename: z.string().nullable(),
  lineage: z.object({
    kind: z.enum(["upload", "retrain", "import"]),
    parent: VersionRef.nullable(),
  }),
  status: z.enum(["ready", "archived"]),
  archivedAt: z.string().nullable(),
  createdAt: z.string(),
  createdBy: Actor,
  aliases: z.array(z.string()),
};
const Version = registry.register("ModelVersion", z.object(versionFields));

// Rebuilt here (contract.ts extends zod with .openapi(); lib/serving's schema may load first).
const SampleRequest = registry.register(
  "SampleRequest",
  z
    .object(sampleRequestSchema.shape)
    .strict()
    .openapi({
      description:
        "An Open Inference Protocol inference request body (`inputs`: name, shape, datatype, data; optional `outputs`, `id`, `parameters`) " +
        `that the version answers, at most ${SAMPLE_REQUEST_MAX_BYTES} bytes of JSON. Serving warms the version up with it ` +
        "(else with a synthetic request made from the signature, whose failure is only a warning), and it is the version's documented and Try-it example.",
      example: {
        inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }],
      },
    }),
);

const VersionDetail = registry.register(
  "ModelVersionDetail",
  z.object({
    ...versionFields,
    signature: z.unknown().openapi({
      description:
        "Inputs, outputs (name, dtype, shape with symbolic dims), opsets, producer, node and parameter counts, metadata.",
    }),
    sampleRequest: SampleRequest.nullable().openapi({
      description: "The version's sample request, or null when none is stored.",
    }),
  }),
);
const Alias = registry.register(
  "Alias",
  z.object({
    model: z.string(),
    name: z.string(),
    version: z.number().int(),
    versionId: z.string(),
    protected: z.boolean(),
    updatedAt: z.string(),
    updatedBy: Actor,
  }),
);
const AliasHistoryEntry = registry.register(
  "AliasHistoryEntry",
  z.object({
    id: z.string(),
    model: z.string(),
    alias: z.string(),
    kind: z.enum(["promote", "rollback", "remove", "approval"]),
    fromVersion: VersionRef.nullable(),
    toVersion: VersionRef.nullable(),
    actor: Actor,
    reason: z.string().nullable(),
    promotionRequestId: z.string().nullable(),
    at: z.string(),
  }),
);
const PromotionRequest = registry.register(
  "PromotionRequest",
  z.object({
    id: z.string(),
    modelId: z.string(),
    model: z.string(),
    alias: z.string(),
    version: VersionRef.extend({ status: z.enum(["ready", "archived"]) }),
    status: z.enum(["pending", "approved", "rejected", "cancelled"]),
    reason: z.string().nullable(),
    requestedBy: Actor,
    createdAt: z.string(),
    decidedBy: Actor.nullable(),
    decidedAt: z.string().nullable(),
    note: z.string().nullable(),
  }),
);

const modelParams = z.object({ name: ModelName });
const versionParams = z.object({ name: ModelName, version: VersionNumber });
const aliasParams = z.object({ name: ModelName, alias: AliasName });
const historyQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    beforeId: z.string().regex(/^\d+$/).optional(),
  })
  .strict();
const boolQuery = z.enum(["true", "false"]).transform((v) => v === "true");

export const listModels = defineContract({
  method: "get",
  path: "/api/v1/models",
  operationId: "listModels",
  summary: "List and search models",
  tags: ["Models"],
  scope: "models:read",
  query: z
    .object({
      search: z.string().max(200).optional(),
      task: modelTaskSchema.optional(),
      tag: z.string().max(50).optional(),
      hasProduction: boolQuery.optional(),
      page: z.coerce.number().int().min(1).default(1),
      pageSize: z.coerce.number().int().min(1).max(200).default(50),
    })
    .strict(),
  response: z.object({
    models: z.array(Model),
    total: z.number().int(),
    page: z.number().int(),
    pageSize: z.number().int(),
  }),
});

export const createModel = defineContract({
  method: "post",
  path: "/api/v1/models",
  operationId: "createModel",
  summary: "Register a model",
  tags: ["Models"],
  scope: "models:write",
  successStatus: 201,
  extraErrors: { 409: "A model with this name exists." },
  body: z
    .object({
      name: modelNameSchema,
      task: modelTaskSchema,
      description: descriptionSchema.optional(),
      tags: tagsSchema.optional(),
      approvalRequired: z.boolean().optional(),
    })
    .strict(),
  response: z.object({ model: Model }),
});

export const getModel = defineContract({
  method: "get",
  path: "/api/v1/models/{name}",
  operationId: "getModel",
  summary: "A model with its aliases",
  tags: ["Models"],
  scope: "models:read",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  response: z.object({ model: Model }),
});

export const updateModel = defineContract({
  method: "patch",
  path: "/api/v1/models/{name}",
  operationId: "updateModel",
  summary: "Edit a model's description, task, tags or approval setting",
  description: "Turning `approvalRequired` on or off needs the admin role.",
  tags: ["Models"],
  scope: "models:write",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  body: z
    .object({
      description: descriptionSchema.optional(),
      task: modelTaskSchema.optional(),
      tags: tagsSchema.optional(),
      approvalRequired: z.boolean().optional(),
    })
    .strict()
    .refine((b) => Object.keys(b).length > 0, {
      message: "send at least one of description, task, tags, approvalRequired",
    }),
  response: z.object({ model: Model }),
});

export const deleteModel = defineContract({
  method: "delete",
  path: "/api/v1/models/{name}",
  operationId: "deleteModel",
  summary: "Delete a model and its versions",
  description: "Refused while any alias points at one of its versions.",
  tags: ["Models"],
  scope: "models:delete",
  extraErrors: { 404: "No such model.", 409: "An alias still points at one of its versions." },
  params: modelParams,
  response: z.object({
    deleted: z.object({ name: z.string(), deletedVersions: z.number().int() }),
  }),
});

export const listVersions = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/versions",
  operationId: "listVersions",
  summary: "A model's versions, newest first",
  tags: ["Versions"],
  scope: "models:read",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  query: z.object({ status: z.enum(["ready", "archived"]).optional() }).strict(),
  response: z.object({ versions: z.array(Version) }),
});

// The upload is streamed, not JSON: it is documented here and handled by a hand-written route.
registry.registerPath({
  method: "post",
  path: "/api/v1/models/{name}/versions",
  operationId: "uploadVersion",
  summary: "Upload a new version (ONNX file)",
  description:
    "Send `multipart/form-data` with the file in the field `file` (and optional fields `description`, `tags` comma-separated, `source`, `sampleRequest`), " +
    "or the raw file as `application/octet-stream` with the same metadata in the query string or `X-ModelDeck-Description` / `-Tags` / `-Source` / `-Filename` headers " +
    "(`sampleRequest` in the query string only). " +
    "`sampleRequest` is a SampleRequest as JSON text: it must fit the model's signature (400) and onnxruntime must answer it (422). " +
    "The body is streamed to the artifact store and hashed on the way; the model is parsed and loaded in onnxruntime before a version exists. " +
    "Requires the `models:write` permission.",
  tags: ["Versions"],
  security: [{ bearerToken: [] }, { sessionCookie: [] }],
  request: {
    params: modelParams,
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: z.object({
            file: z.string().openapi({ format: "binary" }),
            description: z.string().optional(),
            tags: z.string().optional(),
            source: z.string().optional(),
            sampleRequest: z
              .string()
              .optional()
              .openapi({ description: "A SampleRequest as JSON text." }),
          }),
        },
        "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
      },
    },
  },
  responses: {
    201: {
      description: "Created",
      content: { "application/json": { schema: z.object({ version: VersionDetail }) } },
    },
    ...Object.fromEntries(
      (
        [
          [
            400,
            "No file, several files, or invalid metadata (a sample request that is not JSON or does not fit the signature).",
          ],
          [401, "No valid session or API token."],
          [403, "The role lacks models:write."],
          [404, "No such model."],
          [409, "The same bytes are already a version of this model (the message names it)."],
          [413, "The file is larger than the configured limit (MODELDECK_MAX_UPLOAD_BYTES)."],
          [415, "Neither multipart/form-data nor application/octet-stream."],
          [
            422,
            "Not a loadable ONNX model (empty, truncated, corrupt, external data, refused by onnxruntime), or its sample request fails on it.",
          ],
        ] as const
      ).map(([code, description]) => [
        code,
        { description, content: { "application/json": { schema: ErrorResponse } } },
      ]),
    ),
  },
});

export const getVersion = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/versions/{version}",
  operationId: "getVersion",
  summary: "A version's signature and metadata",
  tags: ["Versions"],
  scope: "models:read",
  extraErrors: { 404: "No such model or version." },
  params: versionParams,
  response: z.object({ version: VersionDetail }),
});

export const updateVersionStatus = defineContract({
  method: "patch",
  path: "/api/v1/models/{name}/versions/{version}",
  operationId: "setVersionStatus",
  summary: "Archive or restore a version",
  description: "A version an alias points at cannot be archived.",
  tags: ["Versions"],
  scope: "models:write",
  extraErrors: { 404: "No such model or version.", 409: "Aliased, or already in that state." },
  params: versionParams,
  body: z.object({ status: z.enum(["ready", "archived"]) }).strict(),
  response: z.object({ version: Version }),
});

export const setSampleRequest = defineContract({
  method: "put",
  path: "/api/v1/models/{name}/versions/{version}/sample-request",
  operationId: "setSampleRequest",
  summary: "Store (or replace) a version's sample request",
  description:
    "The request must fit the version's signature (400, naming the input) and onnxruntime must answer it on the version's artifact (422). " +
    "Serving instances that serve the version reload it and warm it up with the request; it becomes the version's example.",
  tags: ["Versions"],
  scope: "models:write",
  extraErrors: {
    404: "No such model or version.",
    422: "onnxruntime does not answer the request (its error is in the message).",
  },
  params: versionParams,
  body: z.object({ sampleRequest: SampleRequest }).strict(),
  response: z.object({ version: VersionDetail }),
});

export const clearSampleRequest = defineContract({
  method: "delete",
  path: "/api/v1/models/{name}/versions/{version}/sample-request",
  operationId: "clearSampleRequest",
  summary: "Remove a version's sample request",
  description:
    "Serving then warms the version up with a synthetic request again (a failure of it is a warning, not a load failure).",
  tags: ["Versions"],
  scope: "models:write",
  extraErrors: { 404: "No such model or version.", 409: "The version has no sample request." },
  params: versionParams,
  response: z.object({ version: VersionDetail }),
});

registry.registerPath({
  method: "get",
  path: "/api/v1/models/{name}/versions/{version}/artifact",
  operationId: "downloadArtifact",
  summary: "Download a version's ONNX file",
  description: "Streams the file; supports `Range`. Requires the `models:read` permission.",
  tags: ["Versions"],
  security: [{ bearerToken: [] }, { sessionCookie: [] }],
  request: { params: versionParams },
  responses: {
    200: {
      description: "The ONNX file",
      content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
    },
    404: {
      description: "No such model or version.",
      content: { "application/json": { schema: ErrorResponse } },
    },
  },
});

export const compareVersions = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/compare",
  operationId: "compareVersions",
  summary: "Signature differences between two versions",
  tags: ["Versions"],
  scope: "models:read",
  extraErrors: { 404: "No such model or version." },
  params: modelParams,
  query: z.object({ a: VersionNumber, b: VersionNumber }).strict(),
  response: z.object({ a: VersionDetail, b: VersionDetail, diff: z.unknown() }),
});

export const listAliases = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/aliases",
  operationId: "listAliases",
  summary: "A model's aliases",
  tags: ["Aliases"],
  scope: "models:read",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  response: z.object({ aliases: z.array(Alias) }),
});

const Preflight = registry.register(
  "Preflight",
  z
    .object({
      model: z.string(),
      version: z.number().int(),
      outcome: z.enum(["passed", "failed"]),
      stage: z.enum(["artifact", "load", "sample"]).nullable().openapi({
        description:
          "Where it failed: reading the artifact, creating the onnxruntime session, or running the stored sample request.",
      }),
      sampleRequest: z.enum(["ran", "failed", "none"]),
      message: z.string(),
      loadMs: z.number().nullable(),
      checkedAt: z.string(),
      overridden: z
        .boolean()
        .openapi({ description: "The move went ahead although the pre-flight failed." }),
    })
    .openapi({
      description:
        "The target version loaded as serving loads it (onnxruntime session, then its stored sample request if any), in a child process.",
    }),
);

const SetAliasResult = z.union([
  z.object({
    outcome: z.literal("moved"),
    alias: Alias,
    history: AliasHistoryEntry,
    preflight: Preflight.nullable(),
  }),
  z.object({ outcome: z.literal("unchanged"), alias: Alias, preflight: Preflight.nullable() }),
  z.object({
    outcome: z.literal("requested"),
    request: PromotionRequest,
    preflight: Preflight.nullable(),
  }),
]);

const ExpectedVersion = z.number().int().min(1).nullable().optional().openapi({
  description:
    "The version you saw the alias point at (null: not set). The move happens only if it still points there; otherwise 409 and nothing changes. Omit it to move whatever it points at now.",
});

export const setAlias = defineContract({
  method: "put",
  path: "/api/v1/models/{name}/aliases/{alias}",
  operationId: "setAlias",
  summary: "Promote: point an alias at a version",
  description:
    "`production` and `staging` are protected (models:promote); other aliases need models:write. " +
    "With approval on, moving `production` creates a pending promotion request instead (`outcome: requested`). " +
    "The target is first loaded as serving would load it (the pre-flight, in the answer); a version that fails it is refused with 422 unless `override` is true, which the audit log records.",
  tags: ["Aliases"],
  scope: "models:write",
  extraErrors: {
    404: "No such model or version.",
    409: "The version is archived, an identical request is pending, or the alias no longer points at `expectedVersion` (`details.currentVersion`).",
    422: "The version failed its pre-flight (`details.preflight`); nothing moved.",
  },
  params: aliasParams,
  body: z
    .object({
      version: z.number().int().min(1),
      reason: reasonSchema.optional(),
      expectedVersion: ExpectedVersion,
      override: z.boolean().optional().openapi({
        description:
          "Move even though the target fails its pre-flight (recorded in the audit log).",
      }),
    })
    .strict(),
  response: SetAliasResult,
});

export const preflightVersion = defineContract({
  method: "post",
  path: "/api/v1/models/{name}/versions/{version}/preflight",
  operationId: "preflightVersion",
  summary: "Pre-flight a version: load it as serving would, changing nothing",
  description:
    "Creates an onnxruntime session from the version's artifact and runs its stored sample request if it has one, in a child process. What the promote dialog shows before you confirm.",
  tags: ["Versions"],
  scope: "models:write",
  extraErrors: { 404: "No such model or version." },
  params: versionParams,
  response: z.object({ preflight: Preflight }),
});

export const removeAlias = defineContract({
  method: "delete",
  path: "/api/v1/models/{name}/aliases/{alias}",
  operationId: "removeAlias",
  summary: "Remove an alias",
  tags: ["Aliases"],
  scope: "models:write",
  extraErrors: { 404: "No such model or alias." },
  params: aliasParams,
  query: z.object({ reason: reasonSchema.optional() }).strict(),
  response: z.object({ history: AliasHistoryEntry }),
});

export const aliasHistory = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/aliases/{alias}/history",
  operationId: "getAliasHistory",
  summary: "Every move of an alias, newest first",
  tags: ["Aliases"],
  scope: "models:read",
  extraErrors: { 404: "No such model." },
  params: aliasParams,
  query: historyQuery,
  response: z.object({ history: z.array(AliasHistoryEntry) }),
});

export const modelHistory = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/history",
  operationId: "getModelAliasHistory",
  summary: "Every alias move of a model, newest first",
  tags: ["Aliases"],
  scope: "models:read",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  query: historyQuery,
  response: z.object({ history: z.array(AliasHistoryEntry) }),
});

export const rollbackAlias = defineContract({
  method: "post",
  path: "/api/v1/models/{name}/aliases/{alias}/rollback",
  operationId: "rollbackAlias",
  summary: "Roll an alias back",
  description:
    "To the version a history entry pointed at (`toHistoryEntryId`), or to where it pointed before its last move (`previous: true`).",
  tags: ["Aliases"],
  scope: "models:write",
  extraErrors: {
    404: "No such model, alias or history entry.",
    409: "Nothing to roll back to, or the alias no longer points at `expectedVersion`.",
  },
  params: aliasParams,
  body: z
    .union([
      z
        .object({
          toHistoryEntryId: z.string().regex(/^\d+$/),
          reason: reasonSchema.optional(),
          expectedVersion: ExpectedVersion,
        })
        .strict(),
      z
        .object({
          previous: z.literal(true),
          reason: reasonSchema.optional(),
          expectedVersion: ExpectedVersion,
        })
        .strict(),
    ])
    .openapi({ description: "Either toHistoryEntryId or previous: true." }),
  response: z.union([
    z.object({ outcome: z.literal("moved"), alias: Alias, history: AliasHistoryEntry }),
    z.object({ outcome: z.literal("unchanged"), alias: Alias }),
  ]),
});

export const listPromotionRequests = defineContract({
  method: "get",
  path: "/api/v1/promotion-requests",
  operationId: "listPromotionRequests",
  summary: "Promotion requests awaiting (or past) approval",
  tags: ["Approvals"],
  scope: "models:read",
  query: z
    .object({
      status: z.enum(["pending", "approved", "rejected", "cancelled"]).optional(),
      model: z.string().max(63).optional(),
      page: z.coerce.number().int().min(1).default(1),
      pageSize: z.coerce.number().int().min(1).max(200).default(50),
    })
    .strict(),
  response: z.object({
    requests: z.array(PromotionRequest),
    total: z.number().int(),
    page: z.number().int(),
    pageSize: z.number().int(),
  }),
});

const decisionBody = z.object({ note: reasonSchema.optional() }).strict();
const requestParams = z.object({ id: z.uuid() });

export const approvePromotion = defineContract({
  method: "post",
  path: "/api/v1/promotion-requests/{id}/approve",
  operationId: "approvePromotion",
  summary: "Approve a promotion request (moves the alias)",
  description:
    "Needs the admin role; the requester cannot approve their own request. Compare-and-set: with `expectedVersion` the alias must still point there; without it, the alias must not have moved since the request was made (otherwise 409 `alias_moved` with `details.currentVersion`: look again, then approve with that version as `expectedVersion`).",
  tags: ["Approvals"],
  scope: "models:promote",
  extraErrors: {
    404: "No such request.",
    409: "No longer pending, the version was archived, or the alias moved (`details.reason` = `alias_moved`, `details.currentVersion`).",
  },
  params: requestParams,
  body: z.object({ note: reasonSchema.optional(), expectedVersion: ExpectedVersion }).strict(),
  response: z.object({
    request: PromotionRequest,
    alias: Alias,
    history: AliasHistoryEntry.nullable(),
  }),
});

export const rejectPromotion = defineContract({
  method: "post",
  path: "/api/v1/promotion-requests/{id}/reject",
  operationId: "rejectPromotion",
  summary: "Reject a promotion request (changes nothing else)",
  tags: ["Approvals"],
  scope: "models:promote",
  extraErrors: { 404: "No such request.", 409: "No longer pending." },
  params: requestParams,
  body: decisionBody,
  response: z.object({ request: PromotionRequest }),
});

export const cancelPromotion = defineContract({
  method: "post",
  path: "/api/v1/promotion-requests/{id}/cancel",
  operationId: "cancelPromotion",
  summary: "Withdraw your own promotion request",
  tags: ["Approvals"],
  scope: "models:write",
  extraErrors: { 404: "No such request.", 409: "No longer pending." },
  params: requestParams,
  body: decisionBody,
  response: z.object({ request: PromotionRequest }),
});
