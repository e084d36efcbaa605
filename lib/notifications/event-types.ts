/**
 * The notification event types and what each means, with no server imports so the settings
 * UI can list them too.
 */
export const NOTIFICATION_EVENT_TYPES = [
  "alert.pending",
  "alert.firing",
  "alert.resolved",
  "alert.acknowledged",
  "version.created",
  "alias.moved",
  "approval.requested",
  "job.failed",
  "webhook.test",
] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

/** Event types a webhook can subscribe to (`webhook.test` is only ever sent on request). */
export const SUBSCRIBABLE_EVENT_TYPES = NOTIFICATION_EVENT_TYPES.filter(
  (t): t is Exclude<NotificationEventType, "webhook.test"> => t !== "webhook.test",
);

export const EVENT_DESCRIPTIONS: Record<NotificationEventType, string> = {
  "alert.pending": "An alert rule's condition holds, not yet for its “for” duration.",
  "alert.firing": "An alert started firing.",
  "alert.resolved": "A firing alert resolved.",
  "alert.acknowledged": "Someone acknowledged a firing alert.",
  "version.created": "A model version was uploaded, imported or retrained.",
  "alias.moved": "An alias (production, staging…) now points at another version.",
  "approval.requested": "A promotion waits for an admin's approval.",
  "job.failed": "A refresh job run failed with no attempts left.",
  "webhook.test": "Sent by “Send test”.",
};
