import type { PrismaClient } from "../db/generated/client";

/**
 * The webhook delivery queue in Postgres. A delivery row is the queue entry: a scheduler
 * claims a due one with FOR UPDATE SKIP LOCKED and moves it to `delivering` under a lease
 * that outlasts the request timeout, so at most one attempt of a delivery is in flight
 * across all replicas. The outcome of each attempt is one row in webhook_delivery_attempt,
 * written together with the delivery's new state. A scheduler that dies mid-attempt leaves
 * the row `delivering`; once the lease is over any scheduler takes it again.
 */

export type ClaimedDelivery = {
  id: string;
  webhookId: string;
  eventType: string;
  body: string;
  /** The attempt now being made (1 for the first). */
  attempt: number;
  maxAttempts: number;
  url: string;
  secret: string;
};

/**
 * What kind of failure an attempt was, for the delivery log, the API and the UI. The log keeps
 * this, the status and the timing: never the receiver's body.
 */
export const DELIVERY_ERROR_CLASSES = [
  /** The receiver answered, with a status other than 2xx (or 3xx). */
  "http_status",
  /** The receiver answered a redirect; redirects are not followed. */
  "redirect",
  /** No complete answer within the timeout. */
  "timeout",
  /** The host name did not resolve. */
  "dns",
  /** The connection was refused, reset or unreachable. */
  "connection",
  /** The TLS handshake failed (certificate, protocol). */
  "tls",
  /** The outbound-request policy refused the URL or the address it resolved to. */
  "outbound_refused",
  /** The scheduler making the attempt stopped before it finished. */
  "lost",
  /** The webhook's signing secret could not be opened (e.g. the encryption key is missing): nothing was sent. */
  "secret",
  /** Any other network failure. */
  "network",
] as const;
export type DeliveryErrorClass = (typeof DELIVERY_ERROR_CLASSES)[number];

export type AttemptResult = {
  startedAt: Date;
  durationMs: number;
  /** null when no response came (timeout, connection refused, DNS…) */
  statusCode: number | null;
  /** null for a 2xx; otherwise the kind of failure */
  errorClass: DeliveryErrorClass | null;
  /** null for a 2xx; otherwise what went wrong, for people reading the delivery log */
  error: string | null;
};

export const LOST_ATTEMPT_ERROR =
  "The scheduler making this attempt stopped before it finished (its lease expired); whether the receiver got it is unknown.";

/**
 * Claims the next due delivery for `instanceId`, or null when none is due. Deliveries of a
 * disabled webhook wait (except tests); they are sent once it is enabled again.
 */
export async function claimDelivery(
  db: PrismaClient,
  instanceId: string,
  leaseMs: number,
): Promise<ClaimedDelivery | null> {
  return db.$transaction(async (tx) => {
    for (;;) {
      const rows = await tx.$queryRaw<
        { id: string; status: string; attempts: number; maxAttempts: number }[]
      >`
        SELECT d.id::text AS id, d.status::text AS status, d.attempts, d."maxAttempts"
          FROM webhook_delivery d JOIN webhook w ON w.id = d."webhookId"
         WHERE ((d.status = 'pending' AND d."nextAttemptAt" <= now())
             OR (d.status = 'delivering' AND d."leaseExpiresAt" < now()))
           AND (w.enabled OR d."eventType" = 'webhook.test')
         ORDER BY d."nextAttemptAt"
         LIMIT 1
         FOR UPDATE OF d SKIP LOCKED`;
      const row = rows[0];
      if (!row) return null;
      if (row.status === "delivering") {
        // The attempt in flight when its scheduler died counts: log it as lost.
        await tx.$executeRaw`
          INSERT INTO webhook_delivery_attempt ("deliveryId", attempt, "startedAt", "durationMs", "errorClass", error, "instanceId")
          SELECT id, attempts, now(), 0, 'lost', ${LOST_ATTEMPT_ERROR}, coalesce("instanceId", 'unknown')
            FROM webhook_delivery WHERE id = ${row.id}::uuid
          ON CONFLICT ("deliveryId", attempt) DO NOTHING`;
        if (row.attempts >= row.maxAttempts) {
          await tx.$executeRaw`
            UPDATE webhook_delivery
               SET status = 'failed', "finishedAt" = now(), "leaseExpiresAt" = NULL,
                   "lastStatusCode" = NULL, "lastError" = ${LOST_ATTEMPT_ERROR}
             WHERE id = ${row.id}::uuid`;
          continue;
        }
      }
      const claimed = await tx.$queryRaw<ClaimedDelivery[]>`
        UPDATE webhook_delivery d
           SET status = 'delivering', attempts = d.attempts + 1, "instanceId" = ${instanceId},
               "leaseExpiresAt" = now() + ${leaseMs} * interval '1 millisecond'
          FROM webhook w
         WHERE d.id = ${row.id}::uuid AND w.id = d."webhookId"
        RETURNING d.id::text AS id, d."webhookId"::text AS "webhookId", d."eventType", d.body,
                  d.attempts AS attempt, d."maxAttempts", w.url, w.secret`;
      return claimed[0] ?? null;
    }
  });
}

export type RecordedAs = "succeeded" | "retrying" | "failed" | "lost";

/**
 * Records the outcome of a claimed attempt and decides what follows: done on a 2xx, another
 * attempt after `retryDelayMs` while attempts are left, failed otherwise. "lost" when this
 * scheduler no longer holds the delivery (its lease ran out and another one took it over).
 */
export async function recordAttempt(
  db: PrismaClient,
  claim: ClaimedDelivery,
  instanceId: string,
  result: AttemptResult,
  retryDelayMs: number,
): Promise<RecordedAs> {
  return db.$transaction(async (tx) => {
    const held = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM webhook_delivery
       WHERE id = ${claim.id}::uuid AND status = 'delivering' AND "instanceId" = ${instanceId}
         AND attempts = ${claim.attempt}
       FOR UPDATE`;
    if (held.length === 0) return "lost";
    await tx.webhookDeliveryAttempt.create({
      data: {
        deliveryId: claim.id,
        attempt: claim.attempt,
        startedAt: result.startedAt,
        durationMs: result.durationMs,
        statusCode: result.statusCode,
        errorClass: result.errorClass,
        error: result.error,
        instanceId,
      },
    });
    const succeeded = result.error === null;
    const next: RecordedAs = succeeded
      ? "succeeded"
      : claim.attempt < claim.maxAttempts
        ? "retrying"
        : "failed";
    if (next === "retrying") {
      await tx.$executeRaw`
        UPDATE webhook_delivery
           SET status = 'pending', "leaseExpiresAt" = NULL,
               "nextAttemptAt" = now() + ${retryDelayMs} * interval '1 millisecond',
               "lastStatusCode" = ${result.statusCode}, "lastError" = ${result.error}
         WHERE id = ${claim.id}::uuid`;
    } else {
      await tx.$executeRaw`
        UPDATE webhook_delivery
           SET status = ${next}::"WebhookDeliveryStatus", "leaseExpiresAt" = NULL, "finishedAt" = now(),
               "lastStatusCode" = ${result.statusCode}, "lastError" = ${result.error}
         WHERE id = ${claim.id}::uuid`;
    }
    return next;
  });
}
