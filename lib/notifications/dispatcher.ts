import http from "node:http";
import https from "node:https";
import type { PrismaClient } from "../db/generated/client";
import { listenToChannel, type ChannelListener } from "../db/listener";
import type { Logger } from "../log";
import { OutboundRefusedError, outboundPolicy, type OutboundPolicy } from "../net/outbound-policy";
import { WEBHOOK_DELIVERIES_CHANNEL } from "./events";
import {
  claimDelivery,
  recordAttempt,
  type AttemptResult,
  type ClaimedDelivery,
  type DeliveryErrorClass,
} from "./queue";
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
const USER_AGENT = "ModelDeck-Webhooks/1";

export type WebhookDispatcherOptions = {
  db: PrismaClient;
  instanceId: string;
  log: Logger;
  settings: WebhookSettings;
  /** For LISTEN (wake on new deliveries); without it the dispatcher only polls. */
  connectionString?: string;
  /** Which receivers may be contacted (default: this process's, from MODELDECK_OUTBOUND_ALLOW). */
  outbound?: OutboundPolicy;
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
    const result = await attemptDelivery(
      claim,
      settings.timeoutMs,
      this.opts.outbound ?? outboundPolicy(),
    );
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
  policy: OutboundPolicy = outboundPolicy(),
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
      errorClass: "secret",
      error: message,
    };
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    // Scheme, credentials and an IP-literal host are judged here; a name is judged by the
    // policy's lookup hook on the addresses the socket then connects to (DNS rebinding).
    const { url } = policy.checkUrlSyntax(claim.url);
    const statusCode = await post(url, claim, signature, policy, controller.signal);
    const durationMs = elapsed();
    if (statusCode >= 200 && statusCode < 300) {
      return { startedAt, durationMs, statusCode, errorClass: null, error: null };
    }
    const redirect = statusCode >= 300 && statusCode < 400;
    return {
      startedAt,
      durationMs,
      statusCode,
      errorClass: redirect ? "redirect" : "http_status",
      // Neither the reason phrase nor a Location is repeated: they are the receiver's text.
      error: redirect
        ? `The receiver answered HTTP ${statusCode}, a redirect; redirects are not followed.`
        : `The receiver answered HTTP ${statusCode}.`,
    };
  } catch (error) {
    const durationMs = elapsed();
    if (controller.signal.aborted) {
      return {
        startedAt,
        durationMs,
        statusCode: null,
        errorClass: "timeout",
        error: `Timed out: no response within ${formatSeconds(timeoutMs)}.`,
      };
    }
    if (error instanceof OutboundRefusedError) {
      return {
        startedAt,
        durationMs,
        statusCode: null,
        errorClass: "outbound_refused",
        error: error.message,
      };
    }
    const errorClass = classifyNetworkError(error);
    return {
      startedAt,
      durationMs,
      statusCode: null,
      errorClass,
      error: `Request failed: ${describeNetworkError(error)}.`,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The POST itself with node:http(s), whose `lookup` option lets the policy resolve the host:
 * fetch offers no such hook without an undici dispatcher. A fresh connection per attempt (no
 * agent pool), and no redirect is ever followed. Resolves with the status as soon as the
 * response head arrives; the body is discarded unread.
 */
function post(
  url: URL,
  claim: Pick<ClaimedDelivery, "id" | "eventType" | "body">,
  signature: string,
  policy: OutboundPolicy,
  signal: AbortSignal,
): Promise<number> {
  const body = Buffer.from(claim.body, "utf8");
  const send = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: "POST",
        agent: false,
        lookup: policy.lookup,
        signal,
        headers: {
          "content-type": "application/json",
          "content-length": body.length,
          "user-agent": USER_AGENT,
          [EVENT_HEADER]: claim.eventType,
          [DELIVERY_HEADER]: claim.id,
          [SIGNATURE_HEADER]: signature,
        },
      },
      (response) => {
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === "string" ? code : undefined;
}

function classifyNetworkError(error: unknown): DeliveryErrorClass {
  const code = errorCode(error);
  if (!code) return "network";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NODATA") return "dns";
  if (["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"].includes(code)) {
    return "connection";
  }
  if (code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || /CERT|SSL/.test(code)) {
    return "tls";
  }
  return "network";
}

/** The error's code and message (node's own text: it names the address, never the receiver's). */
function describeNetworkError(error: unknown): string {
  const code = errorCode(error);
  const message = (error as Error)?.message ?? String(error);
  return code && !message.startsWith(code) ? `${code} (${message})` : message;
}

const formatSeconds = (ms: number) => `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
