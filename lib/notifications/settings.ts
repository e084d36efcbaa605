import { z } from "zod";

/**
 * Webhook delivery settings, from the environment (every scheduler replica reads the same
 * variables). Defaults suit production; tests shorten the timeout and the backoff.
 */
const seconds = (def: number, min: number, max: number) =>
  z.coerce.number().min(min).max(max).default(def);

const envSchema = z.object({
  /** How long a receiver has to answer one attempt (connect, headers and body). */
  MODELDECK_WEBHOOK_TIMEOUT_SECONDS: seconds(10, 0.1, 120),
  /** First retry delay; doubled per further attempt (with jitter), capped below. */
  MODELDECK_WEBHOOK_RETRY_BASE_SECONDS: seconds(10, 0, 3600),
  MODELDECK_WEBHOOK_RETRY_MAX_SECONDS: seconds(3600, 1, 86_400),
  /** How often a scheduler looks for due deliveries (besides being told of new ones). */
  MODELDECK_WEBHOOK_POLL_SECONDS: seconds(2, 0.05, 60),
  /** Attempts one scheduler has in flight at once (each to a different delivery). */
  MODELDECK_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Days finished deliveries stay in the delivery log. */
  MODELDECK_WEBHOOK_RETENTION_DAYS: z.coerce.number().min(1).max(3650).default(30),
});

/** Every variable this schema reads (the deployment manifests are checked against it). */
export const WEBHOOK_SETTINGS_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export type WebhookSettings = {
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pollMs: number;
  concurrency: number;
  retentionDays: number;
};

export function loadWebhookSettings(
  env: Record<string, string | undefined> = process.env,
): WebhookSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid webhook settings: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  return {
    timeoutMs: Math.round(e.MODELDECK_WEBHOOK_TIMEOUT_SECONDS * 1000),
    retryBaseMs: Math.round(e.MODELDECK_WEBHOOK_RETRY_BASE_SECONDS * 1000),
    retryMaxMs: Math.round(e.MODELDECK_WEBHOOK_RETRY_MAX_SECONDS * 1000),
    pollMs: Math.round(e.MODELDECK_WEBHOOK_POLL_SECONDS * 1000),
    concurrency: e.MODELDECK_WEBHOOK_CONCURRENCY,
    retentionDays: e.MODELDECK_WEBHOOK_RETENTION_DAYS,
  };
}

/**
 * Delay before attempt `next` (2, 3, …): exponential (base · 2^(next−2), capped) with "equal
 * jitter": between half and all of it, so receivers that came back up are not hit by every
 * queued delivery in the same second.
 */
export function retryDelayMs(
  next: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, next - 2));
  return Math.round(exp / 2 + random() * (exp / 2));
}
