import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Webhook signatures: HMAC-SHA256 over `${timestamp}.${body}` with the webhook's secret,
 * sent as `ModelDeck-Signature: t=<unix seconds>,v1=<hex>`. The timestamp is part of what is
 * signed so a receiver can refuse old requests (replays); each attempt is signed afresh.
 * Same scheme as Stripe's, so receivers' existing verification code fits.
 */
export const SIGNATURE_HEADER = "ModelDeck-Signature";
export const EVENT_HEADER = "ModelDeck-Event";
export const DELIVERY_HEADER = "ModelDeck-Delivery";

export const WEBHOOK_SECRET_PREFIX = "whsec_";

/** 256 random bits; the prefix tells people what the string is when they find it in a vault. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString("base64url");
}

export function computeSignature(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
}

/** The header value for `body` signed at `at`. */
export function signatureHeader(secret: string, body: string, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${computeSignature(secret, t, body)}`;
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * What a receiver does (and the tests do): parse the header, recompute the HMAC over the raw
 * body as received, compare in constant time, and refuse timestamps outside the tolerance.
 */
export function verifySignature(input: {
  header: string | null | undefined;
  body: string;
  secret: string;
  toleranceSeconds?: number;
  now?: Date;
}): SignatureCheck {
  if (!input.header) return { ok: false, reason: "no signature header" };
  const parts = new Map<string, string[]>();
  for (const item of input.header.split(",")) {
    const eq = item.indexOf("=");
    if (eq <= 0) continue;
    const key = item.slice(0, eq).trim();
    parts.set(key, [...(parts.get(key) ?? []), item.slice(eq + 1).trim()]);
  }
  const t = Number(parts.get("t")?.[0]);
  if (!Number.isInteger(t)) return { ok: false, reason: "no timestamp in the signature header" };
  const tolerance = input.toleranceSeconds ?? 300;
  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - t) > tolerance) return { ok: false, reason: "timestamp outside tolerance" };
  const expected = Buffer.from(computeSignature(input.secret, t, input.body), "hex");
  // Several v1 values may be present (e.g. while a secret is being rotated); any may match.
  const matches = (parts.get("v1") ?? []).some((candidate) => {
    const given = Buffer.from(candidate, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { ok: true, timestamp: t } : { ok: false, reason: "signature mismatch" };
}
