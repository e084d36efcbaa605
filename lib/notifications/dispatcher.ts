import type { PrismaClient } from "../db/generated/client";
import { listenToChannel, type ChannelListener } from "../db/listener";
import type { Logger } from "../log";
import { WEBHOOK_DELIVERIES_CHANNEL } from "./events";
import { claimDelivery, recordAttempt, type AttemptResult, type ClaimedDelivery } from "./queue";
import { retryDelayMs, type WebhookSettings } from "./settings";
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from "./signature";
import { openWebhookSecret } from "./stored-secret";

/**
 * The webhook worker, started by every scheduler process (workers/scheduler/main.ts). It
 * polls the delivery queue (lib/notifications/queue.ts), and is woken at once by the NOTIFY
 * that publishing sends on commit; each claimed delivery gets one signed POST, and its
 * outcome is recorded before the next attempt can be claimed.
 *
 * Why a poller and not a SystemTask: deliveries are a queue, not periodic work. SKIP LOCKED
 * claims already make replicas share it safely, and a per-fire claim row every few seconds
 * would only add writes.
 */
export const RESPONSE_SNIPPET_CHARS = 500;
const USER_AGENT = "ModelDeck-Webhooks/1";

export type WebhookDispatcherOptions = {
  db: PrismaClient;
  instanceId: string;
  log: Logger;
  settings: WebhookSettings;
  /** For LISTEN (wake on new deliveries); without it the dispatcher only polls. */
  connectionString?: string;
};

export class WebhookDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private listener: ChannelListener | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private polling = false;
  private again = false;
  private sent = 0;

  constructor(private readonly opts: WebhookDispatcherOptions) {}

  /** Longer than any attempt can take, so a lease never ends while its attempt is in flight. */
  private get leaseMs(): number {
    return this.opts.settings.timeoutMs + 30_000;
  }

  start(): void {
    const tick = () => void this.pollOnce();
    this.timer = setInterval(tick, this.opts.settings.pollMs);
    this.timer.unref();
    if (this.opts.connectionString) {
      this.listener = listenToChannel({
        connectionString: this.opts.connectionString,
        channel: WEBHOOK_DELIVERIES_CHANNEL,
        log: this.opts.log,
        onNotification: tick,
        onConnected: tick,
      });
    }
    tick();
  }

  status() {
    return { webhookAttemptsInFlight: this.inFlight.size, webhookAttemptsMade: this.sent };
  }

  /** Claims due deliveries up to the concurrency and starts their attempts. */
  async pollOnce(): Promise<void> {
    if (this.stopping) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.again = false;
        while (!this.stopping && this.inFlight.size < this.opts.settings.concurrency) {
          const claim = await claimDelivery(this.opts.db, this.opts.instanceId, this.leaseMs);
          if (!claim) break;
          const p: Promise<void> = this.deliver(claim).finally(() => {
            this.inFlight.delete(p);
            // A slot is free: look again at once rather than at the next tick.
            if (!this.stopping) void this.pollOnce();
          });
          this.inFlight.add(p);
        }
      } while (this.again && !this.stopping);
    } catch (error) {
      this.opts.log.warn({ err: error }, "webhook delivery poll failed");
    } finally {
      this.polling = false;
    }
  }

  /** Waits until no attempt is in flight and no poll is running (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.polling) await new Promise((r) => setTimeout(r, 10));
  }

  /** No new claims; attempts in flight finish (they are bounded by the timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.listener?.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(claim: ClaimedDelivery): Promise<void> {
    const { db, instanceId, log, settings } = this.opts;
    const result = await attemptDelivery(claim, settings.timeoutMs);
    this.sent++;
    const delay = retryDelayMs(claim.attempt + 1, settings.retryBaseMs, settings.retryMaxMs);
    try {
      const recorded = await recordAttempt(db, claim, instanceId, result, delay);
      const fields = {
        deliveryId: claim.id,
        webhookId: claim.webhookId,
        event: claim.eventType,
        attempt: claim.attempt,
        statusCode: result.statusCode,
        durationMs: result.durationMs,
      };
      if (recorded === "succeeded") log.debug(fields, "webhook delivered");
      else if (recorded === "lost") log.warn(fields, "webhook delivery lease lost; not recorded");
      else log.info({ ...fields, error: result.error, recorded }, "webhook attempt failed");
    } catch (error) {
      // The lease runs out and another scheduler retries: the delivery is not lost.
      log.warn({ err: error, deliveryId: claim.id }, "could not record a webhook attempt");
    }
  }
}

/** One signed POST of the delivery's body; never throws (every failure is a result). */
export async function attemptDelivery(
  claim: Pick<ClaimedDelivery, "id" | "eventType" | "body" | "url" | "secret">,
  timeoutMs: number,
): Promise<AttemptResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  let signature: string;
  try {
    signature = signatureHeader(openWebhookSecret(claim.secret), claim.body);
  } catch (error) {
    // Nothing is sent unsigned: the attempt fails with the reason (e.g. the key is missing).
    const message = `Could not read the webhook's signing secret: ${(error as Error).message}`;
    return {
      startedAt,
      durationMs: elapsed(),
      statusCode: null,
      responseSnippet: null,
      error: message,
    };
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let statusCode: number | null = null;
  try {
    const response = await fetch(claim.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        [EVENT_HEADER]: claim.eventType,
        [DELIVERY_HEADER]: claim.id,
        [SIGNATURE_HEADER]: signature,
      },
      body: claim.body,
      // A redirect is the receiver's misconfiguration to fix, not something to follow with a
      // signed body to wherever it points.
      redirect: "manual",
      signal: controller.signal,
    });
    statusCode = response.status;
    const snippet = await readSnippet(response);
    const ok = response.status >= 200 && response.status < 300;
    return {
      startedAt,
      durationMs: elapsed(),
      statusCode,
      responseSnippet: snippet,
      error: ok ? null : `The receiver answered HTTP ${response.status}${reasonFor(response)}.`,
    };
  } catch (error) {
    const durationMs = elapsed();
    const message = controller.signal.aborted
      ? `Timed out: no complete response within ${formatSeconds(timeoutMs)}.`
      : `Request failed: ${describeFetchError(error)}.`;
    return { startedAt, durationMs, statusCode, responseSnippet: null, error: message };
  } finally {
    clearTimeout(timer);
  }
}

/** The first characters of the body, without reading more than needed from a large one. */
async function readSnippet(response: Response): Promise<string | null> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < RESPONSE_SNIPPET_CHARS) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.length > 0 ? text.slice(0, RESPONSE_SNIPPET_CHARS) : null;
}

function reasonFor(response: Response): string {
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get("location");
    return location ? ` (a redirect to ${location}; redirects are not followed)` : " (a redirect)";
  }
  return response.statusText ? ` ${response.statusText}` : "";
}

/** fetch wraps network errors as "fetch failed"; the cause says what happened. */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code && cause.message) return `${cause.code} (${cause.message})`;
  return cause?.message ?? (error as Error)?.message ?? String(error);
}

const formatSeconds = (ms: number) => `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
