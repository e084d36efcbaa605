import type { Prisma } from "../db/generated/client";

/**
 * Alert changes are announced on one Postgres channel, inside the change's transaction
 * (delivered on commit), so live pages (SSE /api/v1/events) refresh at once. Webhooks are a
 * separate path (lib/notifications publishEvent), skipped for silenced alerts.
 */
export const ALERT_EVENTS_CHANNEL = "modeldeck_alert_events";

export type AlertEvent = {
  /** alert.pending | alert.firing | alert.resolved | alert.inactive | alert.acknowledged,
   * rule.created | rule.updated | rule.deleted, silence.created | silence.expired */
  type: string;
  alertId?: string | null;
  ruleId?: string | null;
  modelId?: string | null;
};

export async function notifyAlertEvent(
  tx: Pick<Prisma.TransactionClient, "$executeRaw">,
  event: AlertEvent,
): Promise<void> {
  const payload = {
    type: event.type,
    alertId: event.alertId ?? null,
    ruleId: event.ruleId ?? null,
    modelId: event.modelId ?? null,
  };
  await tx.$executeRaw`SELECT pg_notify(${ALERT_EVENTS_CHANNEL}, ${JSON.stringify(payload)})`;
}
