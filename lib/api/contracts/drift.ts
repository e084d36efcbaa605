import { parseDriftWindow } from "../../monitoring/drift";
import { defineContract, registry, z } from "../contract";

/**
 * Drift under /api/v1 (lib/monitoring/drift.ts): a model's served inputs over a window
 * compared with the dataset its evaluation used.
 */

const ModelName = z.string().min(1).max(63).openapi({ example: "iris-classifier" });

const FeatureDrift = registry.register(
  "FeatureDrift",
  z.object({
    feature: z.string().openapi({ description: "The dataset column (model input feature)." }),
    kind: z.enum(["numeric", "categorical"]).openapi({
      description: "Boolean columns and integer columns with at most 20 values are categorical.",
    }),
    statistic: z.enum(["psi", "chi_square"]).openapi({
      description:
        "What decides: PSI over the reference's decile bins (drifted when ≥ threshold) for numeric features; the chi-square p-value (drifted when < threshold) for categorical ones.",
    }),
    status: z.enum(["ok", "drifted", "insufficient_data"]),
    score: z
      .number()
      .nullable()
      .openapi({ description: "PSI, or the chi-square p-value; null: not enough data." }),
    threshold: z.number(),
    referenceRows: z.number().int(),
    currentRows: z.number().int(),
    psi: z.number().nullable(),
    ks: z
      .object({
        statistic: z.number(),
        pValue: z.number(),
        method: z.enum(["exact", "asymptotic"]),
      })
      .nullable()
      .openapi({ description: "Two-sample Kolmogorov–Smirnov test (numeric features)." }),
    chiSquare: z
      .object({ statistic: z.number(), dof: z.number().int(), pValue: z.number() })
      .nullable(),
    currentMean: z.number().nullable(),
    referenceMean: z.number().nullable(),
  }),
);

const DriftReference = registry.register(
  "DriftReference",
  z.object({
    id: z.string(),
    dataset: z.string(),
    datasetVersion: z.number().int(),
    datasetVersionId: z.string(),
    rowCount: z.number().int(),
    evaluationId: z.string(),
    evaluatedVersion: z.number().int(),
    evaluatedAt: z.string(),
    basis: z.enum(["version", "production", "latest"]).openapi({
      description:
        "Whose evaluation named the dataset: the requested version's, production's version's, or (neither had one) the latest of any version.",
    }),
  }),
);

const DriftSnapshot = registry.register(
  "DriftSnapshot",
  z.object({
    at: z.string(),
    windowMs: z.number().int(),
    score: z.number().nullable(),
    driftedFeatures: z.number().int(),
    featureCount: z.number().int(),
    sampleRows: z.number().int(),
  }),
);

const Drift = registry.register(
  "Drift",
  z.object({
    modelId: z.string(),
    model: z.string(),
    version: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The version in scope; null: every version." }),
    windowMs: z.number().int(),
    from: z.string(),
    to: z.string(),
    minSampleRows: z.number().int().openapi({
      description: "Fewer current values than this and a feature is `insufficient_data`.",
    }),
    score: z.number().nullable().openapi({
      description:
        "Share of features (with enough data) that drifted, 0…1; null when none had enough data. The `drift score` alert metric.",
    }),
    driftedFeatures: z.number().int(),
    measuredFeatures: z.number().int(),
    featureCount: z.number().int(),
    reference: DriftReference.nullable(),
    problem: z.string().nullable().openapi({ description: "Why nothing could be measured." }),
    sample: z.object({
      requests: z.number().int(),
      rows: z.number().int(),
      truncated: z.boolean().openapi({
        description: "More sampled requests than 10,000 in the window: the newest were used.",
      }),
      skipped: z.number().int(),
    }),
    features: z.array(FeatureDrift),
  }),
);

export const getModelDrift = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/drift",
  operationId: "getModelDrift",
  summary: "A model's input drift over a window, per feature, and its recent history",
  description:
    "Compares the sampled inputs the serving process logged in the window with the dataset of the latest succeeded evaluation " +
    "(of `version` when given, else of production's version, else of any version). `history` holds the snapshots the scheduler " +
    "stores every 5 minutes over the last 24 hours (every version together).",
  tags: ["Monitoring"],
  scope: "monitoring:read",
  extraErrors: { 404: "No such model or version." },
  params: z.object({ name: ModelName }),
  query: z
    .object({
      window: z
        .string()
        .max(16)
        .refine((w) => parseDriftWindow(w) !== null, {
          message: 'must be a duration from 5m to 30d, such as "15m", "1h", "24h" or "7d"',
        })
        .default("1h")
        .openapi({ description: "How far back from now (5m to 30d).", example: "1h" }),
      version: z.coerce
        .number()
        .int()
        .min(1)
        .max(2_147_483_647)
        .optional()
        .openapi({ description: "Only requests this version answered (default: every version)." }),
    })
    .strict(),
  response: z.object({ drift: Drift, history: z.array(DriftSnapshot) }),
});
