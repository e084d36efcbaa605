import { randomUUID } from "node:crypto";
import type { Tx } from "../registry/shared";
import type { NotificationEventType } from "./event-types";

/**
 * Notification events: what a webhook can subscribe to. Publishing an event queues one
 * delivery row per enabled webhook subscribed to its type, inside the caller's transaction,
 * so an event is delivered if and only if the change that caused it committed. The scheduler
 * (lib/notifications/dispatcher.ts) works the queue.
 */
export { NOTIFICATION_EVENT_TYPES, type NotificationEventType } from "./event-types";

/** Channel that wakes the dispatchers when deliveries are queued (sent on commit only). */
export const WEBHOOK_DELIVERIES_CHANNEL = "modeldeck_webhook_deliveries";

/** Attempts per delivery before it is marked failed (the first try plus retries). */
export const DEFAULT_MAX_ATTEMPTS = 8;

/** The JSON body every receiver gets: the same bytes on every attempt, and signed. */
export type NotificationEnvelope = {
  id: string;
  type: NotificationEventType;
  createdAt: string;
  data: Record<string, unknown>;
};

export function envelopeFor(
  event: { type: NotificationEventType; payload: Record<string, unknown> },
  now = new Date(),
): NotificationEnvelope {
  return { id: randomUUID(), type: event.type, createdAt: now.toISOString(), data: event.payload };
}

/**
 * Queues `event` for every enabled webhook subscribed to its type, in `tx`. Returns nothing
 * on purpose: callers must not depend on who is subscribed.
 */
export async function publishEvent(
  tx: Tx,
  event: { type: NotificationEventType; payload: Record<string, unknown> },
): Promise<void> {
  await queueDeliveries(tx, envelopeFor(event), null);
}

/**
 * Inserts the delivery rows for one envelope (all subscribed webhooks, or one webhook for a
 * test) with a single INSERT … SELECT, and wakes the dispatchers on commit. Returns the ids.
 */
export async function queueDeliveries(
  tx: Tx,
  envelope: NotificationEnvelope,
  onlyWebhookId: string | null,
): Promise<string[]> {
  const body = JSON.stringify(envelope);
  const rows = onlyWebhookId
    ? await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO webhook_delivery (id, "webhookId", "eventId", "eventType", body, "maxAttempts")
        SELECT gen_random_uuid(), w.id, ${envelope.id}::uuid, ${envelope.type}, ${body}, ${DEFAULT_MAX_ATTEMPTS}
        FROM webhook w WHERE w.id = ${onlyWebhookId}::uuid
        RETURNING id::text AS id`
    : await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO webhook_delivery (id, "webhookId", "eventId", "eventType", body, "maxAttempts")
        SELECT gen_random_uuid(), w.id, ${envelope.id}::uuid, ${envelope.type}, ${body}, ${DEFAULT_MAX_ATTEMPTS}
        FROM webhook w WHERE w.enabled AND ${envelope.type} = ANY (w.events)
        RETURNING id::text AS id`;
  if (rows.length > 0) await tx.$executeRaw`SELECT pg_notify(${WEBHOOK_DELIVERIES_CHANNEL}, '')`;
  return rows.map((r) => r.id);
}
