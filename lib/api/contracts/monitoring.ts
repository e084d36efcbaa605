import { METRIC_NAMES, type MetricName as MetricNameType } from "../../evaluation/metrics";
import { MAX_POINTS, STEP_PATTERN, TARGET_POINTS } from "../../monitoring/steps";
import { defineContract, registry, z } from "../contract";

/** Monitoring under /api/v1: ground-truth feedback and the metrics series the charts draw. */

const ModelName = z.string().min(1).max(63).openapi({ example: "iris-classifier" });
const modelParams = z.object({ name: ModelName });

/** Items one feedback call may carry (fits the 1 MiB JSON body limit at ~70 bytes each). */
export const MAX_FEEDBACK_ITEMS = 10_000;

// ---------------------------------------------------------------------------------------
// Feedback
// ---------------------------------------------------------------------------------------

const ClassLabel = z.union([z.string().min(1).max(256), z.number().int().min(0)]).openapi({
  description:
    "A class name, or a class index (an integer, or its decimal text when no class has that name).",
});
const FeedbackValue = z.number().refine(Number.isFinite, "must be a finite number");

const FeedbackItem = registry.register(
  "FeedbackItem",
  z
    .object({
      request_id: z.uuid().openapi({
        description: "The prediction's id (the response `id` / `x-request-id` header).",
      }),
      label: z
        .union([ClassLabel, z.array(ClassLabel).min(1).max(100_000)])
        .optional()
        .openapi({
          description:
            "Classification: the true class. A request that scored several rows takes an array with one label per row, in order.",
        }),
      value: z
        .union([FeedbackValue, z.array(FeedbackValue).min(1).max(100_000)])
        .optional()
        .openapi({
          description: "Regression: the true value (an array, one per row, for several rows).",
        }),
    })
    .strict()
    .refine((i) => (i.label === undefined) !== (i.value === undefined), {
      message: "needs exactly one of label (classification) or value (regression)",
    }),
);

export const FEEDBACK_STATUSES = [
  /** Stored; the prediction had no feedback before. */
  "applied",
  /** Stored; it replaced earlier feedback for the prediction (whose counts were taken back). */
  "replaced",
  /**
   * Kept: the prediction is not logged yet (serving writes its log a moment after answering).
   * Applied when it is; dropped and counted as expired after the pending window.
   */
  "pending",
  /**
   * No logged prediction has this id, and none will come: not an id serving makes (UUIDv7),
   * made longer ago than the pending window, or past log retention.
   */
  "unknown_request",
  /** A label for a regression model, a value for a classification model, or a model of task `other`. */
  "wrong_kind",
  /** Not one of the version's classes / not a class index. */
  "invalid_label",
  /** The number of labels or values differs from the rows the request scored. */
  "row_count_mismatch",
  /** The request failed (no prediction to compare with). */
  "not_scored",
  /** The same request_id appears again later in this batch; the last one counts. */
  "duplicate",
] as const;

const FeedbackResult = registry.register(
  "FeedbackResult",
  z.object({
    request_id: z.string(),
    status: z.enum(FEEDBACK_STATUSES),
    message: z
      .string()
      .optional()
      .openapi({ description: "Why it was not applied (or what happens to it while pending)." }),
    model: z.string().optional(),
    version: z.number().int().optional(),
    rows: z.number().int().optional().openapi({ description: "Rows labelled." }),
    correct: z
      .number()
      .int()
      .optional()
      .openapi({ description: "Classification: rows the model got right." }),
    absError: z
      .number()
      .optional()
      .openapi({ description: "Regression: mean absolute error over the rows." }),
  }),
);

export const submitFeedback = defineContract({
  method: "post",
  path: "/api/v1/feedback",
  operationId: "submitFeedback",
  summary: "Attach ground truth to served predictions",
  description:
    `Up to ${MAX_FEEDBACK_ITEMS} items per call. Each item is checked on its own and reported in \`results\` ` +
    "(same order as `items`); the applicable ones are stored in one transaction and folded into the " +
    "per-minute rollups of their prediction's minute (live accuracy, MAE, RMSE). Sending feedback " +
    "again for a request replaces the earlier one. Feedback may be sent as soon as the prediction " +
    "is answered: an item whose prediction is not logged yet is `pending`, kept and applied when the " +
    "log row lands (usually within a second), or dropped and counted as expired after " +
    "MODELDECK_FEEDBACK_PENDING_SECONDS (default 1 h). Prediction clients send it, so it needs the " +
    "same permission as inference.",
  tags: ["Monitoring"],
  scope: "predict",
  body: z
    .object({ items: z.array(FeedbackItem).min(1).max(MAX_FEEDBACK_ITEMS) })
    .strict()
    .openapi({
      example: {
        items: [
          { request_id: "0193a5f2-8d1c-7c3e-9b1a-2f4e5d6c7b8a", label: "setosa" },
          { request_id: "0193a5f2-8d1d-7c3e-9b1a-2f4e5d6c7b8b", label: ["versicolor", 2] },
        ],
      },
    }),
  response: z.object({
    applied: z
      .number()
      .int()
      .openapi({ description: "Items stored against their prediction (applied + replaced)." }),
    pending: z
      .number()
      .int()
      .openapi({ description: "Items kept until their prediction is logged." }),
    rejected: z.number().int(),
    results: z.array(FeedbackResult),
  }),
});

const TimeParam = z
  .string()
  .regex(
    /^(\d{1,15}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))$/,
    "must be an ISO 8601 time with a zone (2026-12-01T10:00:00Z) or milliseconds since the epoch",
  );

const FeedbackStats = registry.register(
  "FeedbackStats",
  z.object({
    model: z.string(),
    from: z.string(),
    to: z.string(),
    labelled: z
      .object({
        requests: z.number().int(),
        rows: z.number().int(),
        joinedLate: z.number().int().openapi({
          description:
            "Of those, feedback that arrived before its prediction was logged, was kept pending and joined.",
        }),
      })
      .openapi({
        description: "This model's predictions served in the range that have ground truth.",
      }),
    pending: z
      .object({
        count: z.number().int(),
        oldestReceivedAt: z.string().nullable(),
        windowSeconds: z.number().int().openapi({
          description: "How long pending feedback waits (MODELDECK_FEEDBACK_PENDING_SECONDS).",
        }),
      })
      .openapi({
        description:
          "Feedback waiting for its prediction to be logged, now, over all models (its model is known once it is).",
      }),
    resolved: z
      .object({
        joined: z.number().int(),
        rejected: z.number().int().openapi({
          description:
            "Did not fit its prediction when joined (wrong kind, unknown class, row count).",
        }),
        expired: z
          .number()
          .int()
          .openapi({ description: "Waited the whole window without its prediction; deleted." }),
      })
      .openapi({
        description: "What became of pending feedback in the range, over all models (per hour).",
      }),
  }),
);

export const getFeedbackStats = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/feedback",
  operationId: "getFeedbackStats",
  summary: "Ground truth received for a model, and pending feedback",
  description:
    "How many of the model's predictions served in the range have feedback, and how many of those " +
    "arrived before the prediction was logged; with the feedback still waiting for its prediction and " +
    "what became of pending feedback in the range (joined, rejected, expired).",
  tags: ["Monitoring"],
  scope: "monitoring:read",
  extraErrors: { 404: "No such model." },
  params: modelParams,
  query: z
    .object({
      from: TimeParam.optional().openapi({ description: "Default: 24 h before `to`." }),
      to: TimeParam.optional().openapi({ description: "Default: now." }),
    })
    .strict(),
  response: FeedbackStats,
});

// ---------------------------------------------------------------------------------------
// Metrics series
// ---------------------------------------------------------------------------------------

const ms = z.number().openapi({ description: "Milliseconds." });

export const MetricsPoint = registry.register(
  "MetricsPoint",
  z.object({
    time: z.number().int().openapi({ description: "Bucket start, ms since the epoch (UTC)." }),
    start: z.string().openapi({ description: "Bucket start, ISO 8601." }),
    requests: z.number().int(),
    errors: z.number().int().openapi({ description: "Server errors: answers with status ≥ 500." }),
    clientErrors: z.number().int().openapi({
      description:
        "Client errors: answers with status 400–499 (malformed JSON, an unknown input name, a wrong shape, a body over the limit…).",
    }),
    rows: z.number().int().openapi({ description: "Rows scored." }),
    throughput: z.number().openapi({ description: "Requests per second, averaged over the step." }),
    maxThroughput: z.number().openapi({
      description:
        "Requests per second in the bucket's busiest minute: spikes survive coarse steps.",
    }),
    clientErrorRate: z.number().openapi({ description: "clientErrors / requests (0…1)." }),
    serverErrorRate: z.number().openapi({ description: "errors / requests (0…1)." }),
    errorRate: z.number().openapi({
      description: "Same as serverErrorRate (5xx only); kept for existing clients.",
      deprecated: true,
    }),
    latencyP50Ms: ms.nullable(),
    latencyP95Ms: ms.nullable(),
    latencyP99Ms: ms.nullable(),
    latencyMeanMs: ms.nullable(),
    latencyMaxMs: ms.nullable().openapi({ description: "The slowest request in the bucket." }),
    trafficShare: z.number().openapi({
      description: "This version's requests / all versions' requests in the bucket (0…1).",
    }),
    labelled: z.number().int().openapi({ description: "Rows of the bucket with ground truth." }),
    accuracy: z.number().nullable().openapi({
      description: "Classification: correct / labelled; null when nothing is labelled.",
    }),
    mae: z.number().nullable().openapi({ description: "Regression: mean absolute error." }),
    rmse: z.number().nullable().openapi({ description: "Regression: root mean squared error." }),
  }),
);

const MetricsSummary = registry.register(
  "MetricsSummary",
  MetricsPoint.omit({ time: true, start: true }).openapi({
    description: "The same figures over the whole range (histograms merged, not averaged).",
  }),
);

const EvaluationMark = registry.register(
  "EvaluationMark",
  z
    .object({
      evaluationId: z.string(),
      finishedAt: z.string(),
      dataset: z.string(),
      datasetVersion: z.number().int(),
      rows: z.number().int().nullable(),
      metric: z.enum(METRIC_NAMES as [MetricNameType, ...MetricNameType[]]).openapi({
        description: "The model gate's primary metric.",
      }),
      metricLabel: z.string(),
      direction: z.enum(["higher", "lower"]),
      value: z.number().nullable(),
      accuracy: z.number().nullable(),
      mae: z.number().nullable(),
      rmse: z.number().nullable(),
    })
    .openapi({
      description:
        "The version's latest succeeded evaluation, for the overlay: its primary metric and the figures comparable with live accuracy / MAE / RMSE.",
    }),
);

export const VersionSeries = registry.register(
  "VersionSeries",
  z.object({
    version: z.number().int(),
    versionId: z.string(),
    aliases: z.array(z.string()).openapi({ description: "Aliases pointing at it now." }),
    evaluation: EvaluationMark.nullable(),
    summary: MetricsSummary.nullable().openapi({ description: "Null without traffic in range." }),
    points: z.array(MetricsPoint).openapi({
      description:
        "Oldest first. Buckets without traffic (and without feedback) are absent: a gap, never a zero.",
    }),
  }),
);

const RequestOutcomes = z.object({
  requests: z.number().int(),
  clientErrors: z.number().int().openapi({ description: "Answers with status 400–499." }),
  errors: z.number().int().openapi({ description: "Answers with status ≥ 500." }),
  clientErrorRate: z.number().openapi({ description: "clientErrors / requests (0…1)." }),
  serverErrorRate: z.number().openapi({ description: "errors / requests (0…1)." }),
});

export const UnresolvedSeries = registry.register(
  "UnresolvedSeries",
  z
    .object({
      summary: RequestOutcomes,
      points: z.array(
        RequestOutcomes.extend({
          time: z.number().int().openapi({ description: "Bucket start, ms since the epoch." }),
          start: z.string(),
        }),
      ),
    })
    .openapi({
      description:
        "Requests for the model that serving answered before any version did: an alias or version number it does not serve (404). They belong to no version.",
    }),
);

export const MetricsSeries = registry.register(
  "MetricsSeries",
  z.object({
    model: z.string(),
    task: z.enum(["classification", "regression", "other"]),
    from: z.string().openapi({ description: "Start of the first bucket (aligned to the step)." }),
    to: z.string().openapi({ description: "End of the range as asked (exclusive)." }),
    step: z.number().int().openapi({ description: "Bucket width in seconds." }),
    stepLabel: z.string().openapi({ example: "30m" }),
    versions: z.array(VersionSeries).openapi({
      description:
        "Every version asked for (default: each with traffic in range or an alias), ascending.",
    }),
    unresolved: UnresolvedSeries.nullable().openapi({
      description:
        "Null when there were none in range, or when `version` asked for particular versions.",
    }),
  }),
);

export const getModelMetrics = defineContract({
  method: "get",
  path: "/api/v1/models/{name}/metrics",
  operationId: "getModelMetrics",
  summary: "Traffic, errors, latency and live accuracy per version over time",
  description:
    "Read from the per-minute rollups, merged into buckets of `step`: counts add up, latency " +
    "percentiles come from the merged histograms (within one histogram bucket, ≤ 25 %), and each " +
    "bucket keeps its slowest request and busiest minute, so spikes survive coarse steps. Client " +
    "errors (4xx: the request was wrong) and server errors (5xx: serving failed) are counted apart; " +
    "requests for an alias or version that serving does not serve are in `unresolved`.",
  tags: ["Monitoring"],
  scope: "monitoring:read",
  extraErrors: { 404: "No such model, or no such version of it." },
  params: modelParams,
  query: z
    .object({
      from: TimeParam.optional().openapi({ description: "Default: 24 h before `to`." }),
      to: TimeParam.optional().openapi({ description: "Default: now." }),
      step: z
        .string()
        .regex(STEP_PATTERN, 'must be a duration such as "60s", "5m", "1h" or "1d"')
        .optional()
        .openapi({
          description: `Bucket width. Default: the finest of 1m, 2m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 6h, 12h, 1d, 7d giving at most ${TARGET_POINTS} buckets; a given step must be whole minutes and give at most ${MAX_POINTS}.`,
        }),
      version: z
        .string()
        .regex(/^\d{1,10}(,\d{1,10}){0,19}$/, "must be version numbers separated by commas")
        .optional()
        .openapi({ description: "e.g. `3` or `2,3`. Default: see `versions`." }),
    })
    .strict(),
  response: MetricsSeries,
});

export type MetricsSeriesView = z.infer<typeof MetricsSeries>;
export type VersionSeriesView = z.infer<typeof VersionSeries>;
export type MetricsPointView = z.infer<typeof MetricsPoint>;
export type UnresolvedSeriesView = z.infer<typeof UnresolvedSeries>;
export type FeedbackStatus = (typeof FEEDBACK_STATUSES)[number];
export type FeedbackStatsView = z.infer<typeof FeedbackStats>;
