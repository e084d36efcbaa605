import { servingSettingsSchema } from "../../serving/settings";
import { defineContract, registry, z } from "../contract";

/** How a model is served: settings, live instances, load failures, and "try it" inference. */

const ModelName = z.string().min(1).max(63).openapi({ example: "iris-classifier" });
const modelParams = z.object({ name: ModelName });

// Rebuilt from lib/serving/settings' shape (one definition of the fields): schemas made before
// contract.ts extends zod have no .openapi(), and that module may be loaded first.
const settingsFields = servingSettingsSchema.shape;

const ServingSettings = registry.register(
  "ServingSettings",
  z.object(settingsFields).openapi({
    description:
      "Dynamic batching and prediction-log sampling of one model. `maxQueueDelayMicros` is in microseconds; `payloadSampleRate` is a share (0…1).",
  }),
);

const ServedVersionReport = z.object({
  version: z.number().int(),
  versionId: z.string(),
  loadedAt: z.string(),
  loadMs: z.number(),
  batchable: z.boolean(),
  warmUp: z.enum(["sample", "synthetic"]).openapi({
    description: "What it was warmed up with: its stored sample request, or a synthetic request.",
  }),
  warning: z.string().nullable().openapi({
    description: "Set when the synthetic warm-up failed; the version is served all the same.",
  }),
});

const UnavailableAliasReport = z.object({
  alias: z.string(),
  version: z.number().int().openapi({ description: "The version the alias points at." }),
  versionId: z.string(),
  state: z.enum(["loading", "failed"]),
  error: z.string().nullable().openapi({ description: "Why the load failed." }),
  failedAt: z.string().nullable(),
  retryAt: z.string().nullable().openapi({ description: "When the instance loads it again." }),
  servedInstead: z.number().int().nullable().openapi({
    description:
      "The version still answering the alias there; null: requests get 503 model_unavailable.",
  }),
});

const ServingStatus = registry.register(
  "ServingStatus",
  z.object({
    settings: ServingSettings,
    instances: z
      .array(
        z.object({
          instanceId: z.string(),
          aliases: z
            .record(z.string(), z.number().int())
            .openapi({ description: "Alias → version this instance serves for the model." }),
          versions: z.array(ServedVersionReport),
          unavailable: z.array(UnavailableAliasReport).openapi({
            description: "Aliases whose registry version the instance does not serve.",
          }),
          lastSeenAt: z.string().openapi({
            description: "When the instance last reported (every 10 s); the rest is as of then.",
          }),
        }),
      )
      .openapi({ description: "Live serving processes (from their heartbeats)." }),
    versions: z
      .array(
        z.object({
          version: z.number().int(),
          versionId: z.string(),
          aliases: z.array(z.string()),
          instances: z.number().int().openapi({ description: "Live serving instances (L)." }),
          servedOn: z.number().int(),
          notServedOn: z.number().int().openapi({
            description: "Instances where one of its aliases is not answered by it (K).",
          }),
          notServed: z.array(
            z.object({
              instanceId: z.string(),
              alias: z.string(),
              state: z.enum(["failed", "loading", "pending"]),
              error: z.string().nullable(),
              retryAt: z.string().nullable(),
              servedInstead: z.number().int().nullable(),
            }),
          ),
          reason: z.string().nullable().openapi({ description: "Why, in one line (null: K = 0)." }),
          warmUpWarning: z.string().nullable(),
          hasSampleRequest: z.boolean(),
        }),
      )
      .openapi({
        description:
          "Each version an alias points at, across the live instances: not served on K of L instances because …, or served with a warm-up warning.",
      }),
    loadFailures: z
      .array(
        z.object({
          version: z.number().int(),
          versionId: z.string(),
          message: z.string(),
          at: z.string(),
          instanceId: z.string(),
          aliases: z.array(z.string()).openapi({
            description: "Aliases pointing at this version in the registry now.",
          }),
        }),
      )
      .openapi({
        description:
          "Versions whose newest load attempt failed (no later successful load), newest first, at most 20.",
      }),
    warmUpWarnings: z
      .array(
        z.object({
          version: z.number().int(),
          versionId: z.string(),
          warning: z.string(),
          at: z.string(),
          instanceId: z.string(),
        }),
      )
      .openapi({
        description:
          "Versions whose newest load was warmed up synthetically and warned, and that have no sample request yet; newest first, at most 20.",
      }),
  }),
);

export const getServing = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/serving",
  operationId: "getServingStatus",
  summary:
    "Serving settings, what each serving instance serves, which aliased versions are not served where and why, load failures and warm-up warnings",
  tags: ["Serving"],
  scope: "models:read",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  response: ServingStatus,
});

export const updateServing = defineContract({
  method: "put",
  path: "/api/v1/models/{name}/serving",
  operationId: "updateServingSettings",
  summary: "Change a model's serving settings",
  description:
    "Fields left out keep their value. Every serving instance applies the change within moments.",
  tags: ["Serving"],
  scope: "models:write",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  body: z
    .object(settingsFields)
    .partial()
    .strict()
    .refine((b) => Object.keys(b).length > 0, {
      message:
        "send at least one of maxBatchSize, maxQueueDelayMicros, maxQueueLength, payloadSampleRate",
    })
    .openapi({ description: "Any of the ServingSettings fields; the others keep their value." }),
  response: ServingSettings,
});

export const tryModel = defineContract({
  method: "post",
  path: "/api/v1/models/{name}/try",
  operationId: "tryModel",
  summary: "Send one inference request to the serving process (the “Try it” panel)",
  description:
    "Forwards `request` to serving's `/v2/models/{name}[/versions/{alias|version}]/{form}` and reports its answer " +
    "whatever its status: serving's own errors come back as `status` and `body`, not as errors of this call. " +
    "Without `alias` or `version` the `production` alias answers. 502/503 mean serving did not answer or is not reachable.",
  tags: ["Serving"],
  scope: "predict",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  body: z
    .object({
      alias: z.string().min(1).max(63).optional(),
      version: z.number().int().min(1).max(2_147_483_647).optional(),
      form: z.enum(["infer", "predict"]),
      request: z.record(z.string(), z.unknown()).openapi({
        description:
          'The request body for serving: `{"inputs":[…]}` (infer, Open Inference Protocol) or `{"rows":[…]}` (predict).',
      }),
    })
    .strict()
    .refine((b) => b.alias === undefined || b.version === undefined, {
      message: "send alias or version, not both",
      path: ["version"],
    }),
  response: z.object({
    status: z.number().int().openapi({ description: "The serving process's HTTP status." }),
    body: z.unknown().openapi({ description: "Its JSON answer (outputs, or `{error, code}`)." }),
    servedVersion: z.number().int().nullable(),
    requestId: z.string().nullable(),
    latencyMs: z.number().openapi({ description: "Round trip from the web process." }),
  }),
});
