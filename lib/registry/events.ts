import { z } from "zod";
import type { Prisma } from "../db/generated/client";
import { publishEvent, type NotificationEventType } from "../notifications/events";

/**
 * Registry changes are announced on one Postgres NOTIFY channel. The notification is issued
 * inside the change's transaction, so Postgres delivers it only if (and when) that
 * transaction commits, in commit order: a listener never hears about a change that was
 * rolled back. Listeners (serving hot-swap, live UI) must still treat an event as a hint and
 * re-read the registry, because notifications are lost while they are disconnected.
 */
export const MODEL_EVENTS_CHANNEL = "modeldeck_model_events";

export const MODEL_EVENT_TYPES = [
  "model.created",
  "model.updated",
  "model.deleted",
  "version.created",
  /** a version's editable facts changed (its sample request): serving reloads it if it serves it */
  "version.updated",
  "version.archived",
  "version.unarchived",
  "alias.moved",
  "alias.removed",
  "promotion.requested",
  "promotion.approved",
  "promotion.rejected",
  "promotion.cancelled",
] as const;
export type ModelEventType = (typeof MODEL_EVENT_TYPES)[number];

export const modelEventSchema = z.object({
  type: z.enum(MODEL_EVENT_TYPES),
  modelId: z.string(),
  model: z.string(),
  /** the alias concerned (alias.* and promotion.* events), else null */
  alias: z.string().nullable(),
  /** the version concerned; for alias events the alias's target after the change (null when removed) */
  version: z.number().int().nullable(),
  versionId: z.string().nullable(),
  /** alias events: the version the alias pointed at before the change */
  fromVersion: z.number().int().nullable().optional(),
  /** alias events: promote | rollback | remove | approval */
  kind: z.enum(["promote", "rollback", "remove", "approval"]).optional(),
  /** alias events: the alias-history entry written with the change */
  historyId: z.string().optional(),
  /** promotion.* events, and alias.moved when an approval moved the alias */
  requestId: z.string().optional(),
  actor: z.string(),
  at: z.string(),
});
export type ModelEvent = z.infer<typeof modelEventSchema>;

/** For listeners: a notification payload as a ModelEvent, or null if it is not one. */
export function parseModelEvent(payload: string | undefined): ModelEvent | null {
  if (!payload) return null;
  try {
    const parsed = modelEventSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

type Tx = Prisma.TransactionClient;

/** The registry events that webhooks can subscribe to, under their notification names. */
const NOTIFIED_AS: Partial<Record<ModelEventType, NotificationEventType>> = {
  "version.created": "version.created",
  "alias.moved": "alias.moved",
  "promotion.requested": "approval.requested",
};

/**
 * Queues the event on the caller's transaction (delivered on commit, dropped on rollback).
 * Every registry change already passes through here inside its transaction, so this is also
 * where the webhook-facing ones are published (lib/notifications): same commit, same fate.
 */
export async function notifyModelEvent(tx: Tx, event: ModelEvent): Promise<void> {
  // Postgres caps a payload at 8000 bytes; ours are small fixed-shape objects (names ≤ 63).
  await tx.$executeRaw`SELECT pg_notify(${MODEL_EVENTS_CHANNEL}, ${JSON.stringify(event)})`;
  const notification = NOTIFIED_AS[event.type];
  if (notification) await publishEvent(tx, { type: notification, payload: event });
}
