import { z } from "zod";
import type { Prisma } from "../db/generated/client";

/**
 * Changes that end (or grant) what an API token may do are announced on one Postgres NOTIFY
 * channel, so every process that caches token checks (each serving instance and cluster
 * worker) drops the affected entries within moments instead of at a TTL. The notification is
 * issued inside the change's transaction, beside its audit entry: Postgres delivers it only
 * on commit, and never for a change that was rolled back. Payloads name what changed (a
 * token id or a user id), never a secret.
 */
export const AUTH_EVENTS_CHANNEL = "modeldeck_auth_events";

export const authEventSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("token"),
    tokenId: z.string(),
    change: z.enum(["created", "revoked"]),
  }),
  /** The tokens this user created follow the user: refused while disabled, capped at their role. */
  z.object({
    kind: z.literal("user"),
    userId: z.string(),
    change: z.enum(["disabled", "enabled", "role"]),
  }),
]);
export type AuthEvent = z.infer<typeof authEventSchema>;

/** Queues the event on the caller's transaction (delivered on commit, dropped on rollback). */
export async function notifyAuthEvent(tx: Prisma.TransactionClient, event: AuthEvent) {
  await tx.$executeRaw`SELECT pg_notify(${AUTH_EVENTS_CHANNEL}, ${JSON.stringify(event)})`;
}

/** For listeners: a notification payload as an AuthEvent, or null if it is not one. */
export function parseAuthEvent(payload: string | undefined): AuthEvent | null {
  if (!payload) return null;
  try {
    const parsed = authEventSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
