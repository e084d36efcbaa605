import type http from "node:http";
import type { AppConfig } from "../config";
import type { Logger } from "../log";
import { createListener, type TlsMaterial } from "../system/tls";
import type { ServingHandler } from "./server";

/**
 * The serving process's node:http server and its graceful stop, so that an instance behind a
 * load balancer (a Kubernetes Service, a proxy's upstream pool) can leave without a client
 * seeing a failed request.
 *
 * Timeouts: the keep-alive timeout must be longer than the idle timeout of whatever sits in
 * front. Whoever closes an idle connection first races the other side's next request on it;
 * when the proxy closes first it simply opens a new connection, when this server closes first
 * the proxy may already have written a request into a closing socket and its client gets a
 * reset. Node's default (5 s) is shorter than the common load balancers' (60 s and up).
 */
export function createServingHttpServer(
  handler: ServingHandler,
  settings: Pick<
    AppConfig["serving"],
    "keepAliveTimeoutMs" | "headersTimeoutMs" | "requestTimeoutMs"
  >,
  /** HTTPS when given (MODELDECK_TLS_CERT / MODELDECK_TLS_KEY). */
  tls: TlsMaterial | null = null,
): http.Server {
  return createListener(
    tls,
    {
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
    },
    handler,
  );
}

export type DrainOutcome = {
  /** Requests still unanswered when the drain timeout ran out (their connections were cut). */
  abandoned: number;
  durationMs: number;
};

/**
 * The graceful stop, in the order a load balancer needs it:
 * 1. not ready, and `Connection: close` on every answer (the handler's draining mode);
 * 2. for `drainDelayMs`, keep accepting and answering while the load balancer notices the
 *    failed readiness (Kubernetes: endpoint removal) and keep-alive clients reconnect elsewhere;
 * 3. stop accepting, close idle keep-alive connections, wait for requests in flight up to
 *    `drainTimeoutMs`, then cut whatever is left.
 * Flushing the prediction log and freeing sessions is the caller's next step.
 */
export async function drainServingServer(
  server: http.Server,
  handler: ServingHandler,
  settings: Pick<AppConfig["serving"], "drainDelayMs" | "drainTimeoutMs">,
  log: Logger,
): Promise<DrainOutcome> {
  const started = Date.now();
  handler.startDraining();
  if (settings.drainDelayMs > 0) {
    log.info({ drainDelayMs: settings.drainDelayMs }, "draining: not ready, still answering");
    await sleep(settings.drainDelayMs);
  }
  // close() also closes the connections idle right now (node >= 19); busy ones close after
  // their answer, which carries Connection: close.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const deadline = Date.now() + settings.drainTimeoutMs;
  while (handler.inFlight() > 0 && Date.now() < deadline) {
    await sleep(20);
    // A keep-alive connection that turned idle after close() is closed here rather than
    // held open until its keep-alive timeout.
    server.closeIdleConnections();
  }
  const abandoned = handler.inFlight();
  if (abandoned > 0) log.warn({ abandoned }, "drain timeout reached; closing busy connections");
  server.closeAllConnections();
  await closed;
  const durationMs = Date.now() - started;
  log.info({ durationMs, abandoned }, "drained");
  return { abandoned, durationMs };
}

/** How long a process must be given to stop gracefully: the drain plus time to flush. */
export function gracefulStopBudgetMs(
  settings: Pick<AppConfig["serving"], "drainDelayMs" | "drainTimeoutMs">,
): number {
  return settings.drainDelayMs + settings.drainTimeoutMs + 5_000;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
