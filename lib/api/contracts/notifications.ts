import {
  DELIVERY_ERROR_CLASSES,
  NOTIFICATION_EVENT_TYPES,
  SUBSCRIBABLE_EVENT_TYPES,
  webhookEventsSchema,
  webhookNameSchema,
  webhookUrlSchema,
} from "../../notifications";
import { defineContract, registry, z } from "../contract";

/**
 * Webhooks under /api/v1 (lib/notifications): where alert transitions and registry events
 * are POSTed, signed with HMAC-SHA256 (README "Webhooks"). Admin only: a webhook's URL and
 * secret are credentials of the receiver.
 */

const Uuid = z.uuid();
const DeliveryStatus = z.enum(["pending", "delivering", "succeeded", "failed"]);

const Webhook = registry.register(
  "Webhook",
  z.object({
    id: z.string(),
    name: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    secretHint: z.string().openapi({
      example: "whsec_…x9Qa",
      description: "The signing secret's prefix and last four characters.",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdBy: z.string(),
    lastDelivery: z
      .object({
        id: z.string(),
        eventType: z.string(),
        status: DeliveryStatus,
        statusCode: z.number().int().nullable(),
        attempts: z.number().int(),
        createdAt: z.string(),
      })
      .nullable(),
  }),
);

const DeliveryAttempt = z.object({
  attempt: z.number().int(),
  startedAt: z.string(),
  durationMs: z.number().int(),
  statusCode: z
    .number()
    .int()
    .nullable()
    .openapi({ description: "null when no response came (timeout, refused)." }),
  errorClass: z.enum(DELIVERY_ERROR_CLASSES).nullable().openapi({
    description:
      "The kind of failure; null on success. The receiver's body is never stored or shown.",
  }),
  error: z.string().nullable(),
});

const WebhookDelivery = registry.register(
  "WebhookDelivery",
  z.object({
    id: z.string().openapi({ description: "Sent as the `ModelDeck-Delivery` header." }),
    webhookId: z.string(),
    eventId: z.string(),
    eventType: z.enum(NOTIFICATION_EVENT_TYPES),
    status: DeliveryStatus,
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastErrorClass: z.enum(DELIVERY_ERROR_CLASSES).nullable(),
    body: z.unknown().openapi({ description: "The JSON body, as signed and sent." }),
    attemptLog: z.array(DeliveryAttempt),
  }),
);

const WebhookWithSecret = z.object({
  webhook: Webhook,
  secret: z.string().openapi({
    description: "The signing secret. Shown in this response only; store it with the receiver.",
  }),
});

const eventsField = webhookEventsSchema.openapi({
  description: `Event types to receive: ${SUBSCRIBABLE_EVENT_TYPES.join(", ")}.`,
});

export const listWebhooks = defineContract({
  method: "get",
  path: "/api/v1/webhooks",
  operationId: "listWebhooks",
  summary: "List webhooks",
  tags: ["Webhooks"],
  scope: "webhooks:manage",
  response: z.object({ webhooks: z.array(Webhook) }),
});

export const createWebhook = defineContract({
  method: "post",
  path: "/api/v1/webhooks",
  operationId: "createWebhook",
  summary: "Create a webhook",
  description:
    'Returns the signing secret once, in `secret`. The URL must be http(s) and pass the outbound-request policy (400 `outbound_refused` for loopback, private, link-local and other internal addresses unless `MODELDECK_OUTBOUND_ALLOW` admits them); each delivery is a POST signed with `ModelDeck-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`.',
  tags: ["Webhooks"],
  scope: "webhooks:manage",
  successStatus: 201,
  body: z
    .object({
      name: webhookNameSchema,
      url: webhookUrlSchema.openapi({ example: "https://hooks.example.com/modeldeck" }),
      events: eventsField,
      enabled: z.boolean().optional(),
    })
    .strict(),
  response: WebhookWithSecret,
});

export const getWebhook = defineContract({
  method: "get",
  path: "/api/v1/webhooks/{id}",
  operationId: "getWebhook",
  summary: "One webhook",
  tags: ["Webhooks"],
  scope: "webhooks:manage",
  extraErrors: { 404: "No such webhook." },
  params: z.object({ id: Uuid }),
  response: z.object({ webhook: Webhook }),
});

export const updateWebhook = defineContract({
  method: "patch",
  path: "/api/v1/webhooks/{id}",
  operationId: "updateWebhook",
  summary: "Change a webhook's name, URL, events or enabled state",
  description: "Deliveries of a disabled webhook wait in the queue and are sent once re-enabled.",
  tags: ["Webhooks"],
  scope: "webhooks:manage",
  extraErrors: { 404: "No such webhook." },
  params: z.object({ id: Uuid }),
  body: z
    .object({
      name: webhookNameSchema.optional(),
      url: webhookUrlSchema.optional(),
      events: eventsField.optional(),
      enabled: z.boolean().optional(),
    })
    .strict()
    .refine((b) => Object.keys(b).length > 0, {
      message: "send at least one of name, url, events, enabled",
    }),
  response: z.object({ webhook: Webhook }),
});

export const deleteWebhook = defineContract({
  method: "delete",
  path: "/api/v1/webhooks/{id}",
  operationId: "deleteWebhook",
  summary: "Delete a webhook and its delivery log",
  tags: ["Webhooks"],
  scope: "webhooks:manage",
  extraErrors: { 404: "No such webhook." },
  params: z.object({ id: Uuid }),
  response: z.object({ deleted: z.literal(true) }),
});

export const rotateWebhookSecret = defineContract({
  method: "post",
  path: "/api/v1/webhooks/{id}/rotate-secret",
  operationId: "rotateWebhookSecret",
  summary: "Replace a webhook's signing secret",
  description:
    "Every attempt from now on (pending retries included) is signed with the new secret, returned once.",
  tags: ["Webhooks"],
  scope: "webhooks:manage",
  extraErrors: { 404: "No such webhook." },
  params: z.object({ id: Uuid }),
  response: WebhookWithSecret,
});

export const testWebhook = defineContract({
  method: "post",
  path: "/api/v1/webhooks/{id}/test",
  operationId: "testWebhook",
  summary: "Send a test event",
  description:
    "Queues a `webhook.test` event for this webhook only (whatever its subscriptions), delivered, signed and retried like any event. Poll the deliveries for the outcome.",
  tags: ["Webhooks"],
  scope: "webhooks:manage",
  successStatus: 202,
  extraErrors: { 404: "No such webhook." },
  params: z.object({ id: Uuid }),
  response: z.object({ delivery: WebhookDelivery }),
});

export const listWebhookDeliveries = defineContract({
  method: "get",
  path: "/api/v1/webhooks/{id}/deliveries",
  operationId: "listWebhookDeliveries",
  summary: "A webhook's delivery log, newest first",
  tags: ["Webhooks"],
  scope: "webhooks:manage",
  extraErrors: { 404: "No such webhook." },
  params: z.object({ id: Uuid }),
  query: z
    .object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      before: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: "Page on: the `nextBefore` of the previous page." }),
      status: DeliveryStatus.optional(),
    })
    .strict(),
  response: z.object({ deliveries: z.array(WebhookDelivery), nextBefore: z.string().nullable() }),
});
