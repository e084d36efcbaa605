// The zod that carries .openapi(): the API contracts reuse these schemas as they are.
import { z } from "../api/contract";
import { ApiError, notFound, validationError } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { OutboundRefusedError, outboundPolicy } from "../net/outbound-policy";
import { SUBSCRIBABLE_EVENT_TYPES, type NotificationEventType } from "./event-types";
import { envelopeFor, queueDeliveries } from "./events";
import type { DeliveryErrorClass } from "./queue";
import { generateWebhookSecret, WEBHOOK_SECRET_PREFIX } from "./signature";
import { sealWebhookSecret } from "./stored-secret";

/**
 * Webhooks: where notifications go. Managing them is for admins (the secret and the URL, which
 * often embeds a token of the receiver's, are sensitive). Every change is audited in its
 * transaction; the secret never appears in a view or an audit entry after it was shown once.
 */

export const webhookUrlSchema = z
  .string()
  .trim()
  .max(2000, "must be at most 2000 characters")
  .pipe(
    z.url({
      protocol: /^https?$/,
      error:
        "must be an absolute http:// or https:// URL (e.g. https://hooks.example.com/modeldeck)",
    }),
  );

export const webhookEventsSchema = z
  .array(z.enum(SUBSCRIBABLE_EVENT_TYPES))
  .min(1, "subscribe to at least one event type")
  .transform((events) => [...new Set(events)].sort());

export const webhookNameSchema = z.string().trim().min(1, "is required").max(100);

const createSchema = z.object({
  name: webhookNameSchema,
  url: webhookUrlSchema,
  events: webhookEventsSchema,
  enabled: z.boolean().default(true),
});
export type CreateWebhookInput = z.input<typeof createSchema>;

const updateSchema = z.object({
  name: webhookNameSchema.optional(),
  url: webhookUrlSchema.optional(),
  events: webhookEventsSchema.optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWebhookInput = z.input<typeof updateSchema>;

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** Field messages are lower-case and unpunctuated at the end (forms add both). */
const asFieldMessage = (sentence: string) =>
  sentence.charAt(0).toLowerCase() + sentence.slice(1).replace(/\.$/, "");

/**
 * The outbound-request policy (lib/net/outbound-policy.ts) on a URL being saved: 400
 * `outbound_refused` naming the policy and the address class. Resolves DNS, so it runs before
 * the transaction. Delivery checks again at connect time.
 */
async function assertReceiverAllowed(url: string): Promise<void> {
  try {
    await outboundPolicy().checkUrl(url);
  } catch (error) {
    if (!(error instanceof OutboundRefusedError)) throw error;
    throw new ApiError("outbound_refused", error.message, {
      // The same shape as a validation error's, so forms show it at the URL field.
      fields: [{ field: "url", message: asFieldMessage(error.message) }],
      policy: "outbound",
      reason: error.reason,
      host: error.host,
      address: error.address,
      addressClass: error.addressClass,
    });
  }
}

export type DeliveryStatus = "pending" | "delivering" | "succeeded" | "failed";

export type WebhookView = {
  id: string;
  name: string;
  url: string;
  events: string[];
  enabled: boolean;
  /** The secret's prefix and last four characters, so people can tell which one is in use. */
  secretHint: string;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  lastDelivery: {
    id: string;
    eventType: string;
    status: DeliveryStatus;
    statusCode: number | null;
    attempts: number;
    createdAt: string;
  } | null;
};

export type DeliveryAttemptView = {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  /** The kind of failure (null on success); the receiver's body is not kept. */
  errorClass: DeliveryErrorClass | null;
  error: string | null;
};

export type DeliveryView = {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: NotificationEventType;
  status: DeliveryStatus;
  attempts: number;
  maxAttempts: number;
  /** When the next attempt is due (pending deliveries), else null. */
  nextAttemptAt: string | null;
  createdAt: string;
  finishedAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  /** The kind of failure of the last attempt, if it failed. */
  lastErrorClass: DeliveryErrorClass | null;
  /** The signed JSON body, as sent. */
  body: unknown;
  attemptLog: DeliveryAttemptView[];
};

const secretHint = (secret: string) => `${WEBHOOK_SECRET_PREFIX}…${secret.slice(-4)}`;

const lastDeliveryInclude = {
  deliveries: {
    orderBy: { createdAt: "desc" },
    take: 1,
    select: {
      id: true,
      eventType: true,
      status: true,
      lastStatusCode: true,
      attempts: true,
      createdAt: true,
    },
  },
} satisfies Prisma.WebhookInclude;

type WebhookRow = Prisma.WebhookGetPayload<{ include: typeof lastDeliveryInclude }>;

function toView(row: WebhookRow): WebhookView {
  const last = row.deliveries[0];
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    events: row.events,
    enabled: row.enabled,
    secretHint: row.secretHint,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    createdBy: row.createdByLabel,
    lastDelivery: last
      ? {
          id: last.id,
          eventType: last.eventType,
          status: last.status,
          statusCode: last.lastStatusCode,
          attempts: last.attempts,
          createdAt: last.createdAt.toISOString(),
        }
      : null,
  };
}

/** What an audit entry keeps of a webhook (never the secret). */
const auditable = (w: { name: string; url: string; events: string[]; enabled: boolean }) => ({
  name: w.name,
  url: w.url,
  events: w.events,
  enabled: w.enabled,
});

export async function listWebhooks(db: PrismaClient): Promise<WebhookView[]> {
  const rows = await db.webhook.findMany({
    orderBy: { createdAt: "asc" },
    include: lastDeliveryInclude,
  });
  return rows.map(toView);
}

export async function getWebhook(db: PrismaClient, id: string): Promise<WebhookView> {
  const row = await db.webhook.findUnique({ where: { id }, include: lastDeliveryInclude });
  if (!row) throw notFound(`Webhook ${id}`);
  return toView(row);
}

/** Creates a webhook; its signing secret is returned here once and never shown again. */
export async function createWebhook(
  db: PrismaClient,
  actor: Actor,
  input: CreateWebhookInput,
  ipAddress?: string | null,
): Promise<{ webhook: WebhookView; secret: string }> {
  const data = parse(createSchema, input);
  await assertReceiverAllowed(data.url);
  const secret = generateWebhookSecret();
  return db.$transaction(async (tx) => {
    const row = await tx.webhook.create({
      data: {
        ...data,
        secret: sealWebhookSecret(secret),
        secretHint: secretHint(secret),
        createdByType: actor.type,
        createdById: actor.id ?? null,
        createdByLabel: actor.label,
      },
      include: lastDeliveryInclude,
    });
    await recordAudit(tx, {
      actor,
      action: "webhook.create",
      resourceType: "webhook",
      resourceId: row.id,
      after: auditable(row),
      ipAddress,
    });
    return { webhook: toView(row), secret };
  });
}

async function lockWebhook(tx: Prisma.TransactionClient, id: string) {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM webhook WHERE id = ${id}::uuid FOR UPDATE`;
  if (rows.length === 0) throw notFound(`Webhook ${id}`);
  return tx.webhook.findUniqueOrThrow({ where: { id } });
}

export async function updateWebhook(
  db: PrismaClient,
  actor: Actor,
  id: string,
  input: UpdateWebhookInput,
  ipAddress?: string | null,
): Promise<WebhookView> {
  const patch = parse(updateSchema, input);
  if (patch.url !== undefined) await assertReceiverAllowed(patch.url);
  return db.$transaction(async (tx) => {
    const before = await lockWebhook(tx, id);
    const changed = Object.fromEntries(
      Object.entries(patch).filter(
        ([k, v]) =>
          v !== undefined && JSON.stringify(v) !== JSON.stringify(before[k as keyof typeof patch]),
      ),
    );
    const row = await tx.webhook.update({
      where: { id },
      data: changed,
      include: lastDeliveryInclude,
    });
    if (Object.keys(changed).length > 0) {
      await recordAudit(tx, {
        actor,
        action: "webhook.update",
        resourceType: "webhook",
        resourceId: id,
        before: auditable(before),
        after: auditable(row),
        ipAddress,
      });
    }
    return toView(row);
  });
}

/**
 * A new signing secret, effective for every attempt from now on (pending retries included),
 * returned once. The old one stops working at once: rotate the receiver in the same step.
 */
export async function rotateWebhookSecret(
  db: PrismaClient,
  actor: Actor,
  id: string,
  ipAddress?: string | null,
): Promise<{ webhook: WebhookView; secret: string }> {
  const secret = generateWebhookSecret();
  return db.$transaction(async (tx) => {
    const before = await lockWebhook(tx, id);
    const row = await tx.webhook.update({
      where: { id },
      data: { secret: sealWebhookSecret(secret), secretHint: secretHint(secret) },
      include: lastDeliveryInclude,
    });
    await recordAudit(tx, {
      actor,
      action: "webhook.rotate_secret",
      resourceType: "webhook",
      resourceId: id,
      before: { name: before.name, secretHint: before.secretHint },
      after: { name: row.name, secretHint: secretHint(secret) },
      ipAddress,
    });
    return { webhook: toView(row), secret };
  });
}

/** Deletes a webhook and its delivery log (pending deliveries are dropped with it). */
export async function deleteWebhook(
  db: PrismaClient,
  actor: Actor,
  id: string,
  ipAddress?: string | null,
): Promise<void> {
  await db.$transaction(async (tx) => {
    const before = await lockWebhook(tx, id);
    await tx.webhook.delete({ where: { id } });
    await recordAudit(tx, {
      actor,
      action: "webhook.delete",
      resourceType: "webhook",
      resourceId: id,
      before: auditable(before),
      ipAddress,
    });
  });
}

/**
 * Queues a `webhook.test` event for this webhook alone (enabled or not, subscribed or not),
 * delivered like any other: signed, logged, retried.
 */
export async function sendTestEvent(
  db: PrismaClient,
  actor: Actor,
  id: string,
  ipAddress?: string | null,
): Promise<DeliveryView> {
  return db.$transaction(async (tx) => {
    const webhook = await lockWebhook(tx, id);
    const envelope = envelopeFor({
      type: "webhook.test",
      payload: {
        webhook: { id: webhook.id, name: webhook.name },
        message: "A test event sent from ModelDeck. If the signature verifies, you are set up.",
        requestedBy: actor.label,
      },
    });
    const [deliveryId] = await queueDeliveries(tx, envelope, webhook.id);
    await recordAudit(tx, {
      actor,
      action: "webhook.test",
      resourceType: "webhook",
      resourceId: id,
      after: { deliveryId, eventId: envelope.id },
      ipAddress,
    });
    const row = await tx.webhookDelivery.findUniqueOrThrow({
      where: { id: deliveryId },
      include: attemptsInclude,
    });
    return toDeliveryView(row);
  });
}

const attemptsInclude = {
  attemptLog: { orderBy: { attempt: "asc" } },
} satisfies Prisma.WebhookDeliveryInclude;

type DeliveryRow = Prisma.WebhookDeliveryGetPayload<{ include: typeof attemptsInclude }>;

function toDeliveryView(row: DeliveryRow): DeliveryView {
  let body: unknown;
  try {
    body = JSON.parse(row.body);
  } catch {
    body = row.body;
  }
  return {
    id: row.id,
    webhookId: row.webhookId,
    eventId: row.eventId,
    eventType: row.eventType as NotificationEventType,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    nextAttemptAt: row.status === "pending" ? row.nextAttemptAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    lastErrorClass: row.lastError
      ? ((row.attemptLog.at(-1)?.errorClass as DeliveryErrorClass | null) ?? null)
      : null,
    body,
    attemptLog: row.attemptLog.map((a) => ({
      attempt: a.attempt,
      startedAt: a.startedAt.toISOString(),
      durationMs: a.durationMs,
      statusCode: a.statusCode,
      errorClass: a.errorClass as DeliveryErrorClass | null,
      error: a.error,
    })),
  };
}

/** The delivery log of one webhook, newest first; `before` pages on with the last createdAt. */
export async function listDeliveries(
  db: PrismaClient,
  webhookId: string,
  opts: { limit?: number; before?: Date; status?: DeliveryStatus } = {},
): Promise<{ deliveries: DeliveryView[]; nextBefore: string | null }> {
  const exists = await db.webhook.findUnique({ where: { id: webhookId }, select: { id: true } });
  if (!exists) throw notFound(`Webhook ${webhookId}`);
  const limit = opts.limit ?? 50;
  const rows = await db.webhookDelivery.findMany({
    where: {
      webhookId,
      ...(opts.before ? { createdAt: { lt: opts.before } } : {}),
      ...(opts.status ? { status: opts.status } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    include: attemptsInclude,
  });
  const page = rows.slice(0, limit);
  return {
    deliveries: page.map(toDeliveryView),
    nextBefore: rows.length > limit ? page[page.length - 1]!.createdAt.toISOString() : null,
  };
}
