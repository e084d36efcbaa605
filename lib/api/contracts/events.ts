import { alertEventSchema, LIVE_TOPICS, metricsEventSchema } from "../../events/channels";
import { SSE_DEFAULTS } from "../../events/sse";
import { modelEventSchema } from "../../registry/events";
import { ErrorResponse, registry, z } from "../contract";

/**
 * `GET /api/v1/events`: Server-Sent Events for live pages. The stream is not JSON, so the
 * route is hand-written (app/api/v1/events/route.ts) and documented here by hand; the query
 * schema below validates its request all the same.
 */
export const EVENTS_SCOPE = "monitoring:read" as const;

export const eventsQuery = z
  .object({
    topics: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value.trim() === "") return new Set(LIVE_TOPICS);
        const topics = new Set<(typeof LIVE_TOPICS)[number]>();
        for (const part of value.split(",").map((p) => p.trim())) {
          if (!(LIVE_TOPICS as readonly string[]).includes(part)) {
            ctx.addIssue({
              code: "custom",
              message: `has an unknown topic "${part}" (known: ${LIVE_TOPICS.join(", ")})`,
            });
            return z.NEVER;
          }
          topics.add(part as (typeof LIVE_TOPICS)[number]);
        }
        return topics;
      })
      .openapi({
        description: `Comma-separated topics to receive: ${LIVE_TOPICS.join(", ")}. Default: all.`,
        example: "metrics,model",
      }),
    model: z.string().min(1).max(63).optional().openapi({
      description:
        "Only events about this model (by name), plus those about no model in particular. 404 when there is no such model.",
      example: "iris-classifier",
    }),
  })
  .strict();

const EventStream = z.string().openapi({
  description:
    "A `text/event-stream`. It starts with `retry: " +
    SSE_DEFAULTS.retryMs +
    "` and sends a `: heartbeat` comment every " +
    SSE_DEFAULTS.heartbeatMs / 1000 +
    " s. Events (`event:` name, `data:` one JSON object):\n\n" +
    "- `ready` `{topics, heartbeatMs}`: the subscription is in place; re-read what you show.\n" +
    "- `metrics` " +
    '`{type: "metrics.updated", modelIds}`: new rollups for these models (sent after each prediction-log flush of a serving process).\n' +
    "- `model`: a registry event (model, version, alias or promotion change), the RegistryEvent shape.\n" +
    "- `alert` `{type, alertId, ruleId, modelId}`: an alert changed state (`alert.pending`, `alert.firing`, `alert.resolved`, `alert.acknowledged`, …) or a rule or silence changed (`rule.*`, `silence.*`).\n" +
    "- `resync` `{}`: the server lost its database notification connection and is back; events in between were missed, re-read.\n\n" +
    "Events carry no id and are not replayed: treat each as a hint to re-read. The server ends a stream after about " +
    SSE_DEFAULTS.maxLifetimeMs / 60_000 +
    " minutes (the browser reconnects and is authenticated again) or when the client stops reading.",
});

type SchemaComponent = Parameters<typeof registry.registerComponent<"schemas">>[2];

// The payload schemas live with the channels (lib/events), built before zod was extended for
// OpenAPI: they enter the document as plain JSON Schema.
for (const [name, schema] of [
  ["MetricsEvent", metricsEventSchema],
  ["RegistryEvent", modelEventSchema],
  ["AlertEvent", alertEventSchema],
] as const) {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema);
  registry.registerComponent("schemas", name, jsonSchema as SchemaComponent);
}

registry.registerPath({
  method: "get",
  path: "/api/v1/events",
  operationId: "streamEvents",
  summary: "Live events for open pages (Server-Sent Events)",
  description:
    "One `EventSource` per page. Every web process fans its database notifications out to all of its " +
    "streams through one database connection. Requires the `" +
    EVENTS_SCOPE +
    "` permission.",
  tags: ["Monitoring"],
  security: [{ bearerToken: [] }, { sessionCookie: [] }],
  request: { query: eventsQuery },
  responses: {
    200: {
      description: "The event stream",
      content: { "text/event-stream": { schema: EventStream } },
    },
    400: {
      description: "Unknown query parameters or topics; `details.fields` names each.",
      content: { "application/json": { schema: ErrorResponse } },
    },
    401: {
      description: "No valid session or API token.",
      content: { "application/json": { schema: ErrorResponse } },
    },
    403: {
      description: "The role lacks the permission.",
      content: { "application/json": { schema: ErrorResponse } },
    },
    404: {
      description: "No such model.",
      content: { "application/json": { schema: ErrorResponse } },
    },
  },
});
