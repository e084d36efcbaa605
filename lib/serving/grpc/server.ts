import * as grpc from "@grpc/grpc-js";
import type { AppConfig } from "../../config";
import type { Logger } from "../../log";
import type { TlsMaterial } from "../../system/tls";
import type { DrainOutcome } from "../http-server";
import { inferenceServiceDefinition } from "./definition";
import type { GrpcInferenceService } from "./service";

/**
 * The gRPC listener of a serving instance, next to its HTTP server, and its graceful stop.
 *
 * Under node:cluster (MODELDECK_SERVING_WORKERS > 1) every worker binds the same port and the
 * primary shares it, as for HTTP: each new connection goes to one worker. A gRPC channel is one
 * long-lived connection, so a client that keeps one channel stays with one worker; clients that
 * want several event loops open several channels.
 */
export async function startGrpcServer(
  service: GrpcInferenceService,
  settings: { host: string; port: number; maxBodyBytes: number; tls?: TlsMaterial | null },
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    // The same limit as an HTTP request body; larger messages get RESOURCE_EXHAUSTED.
    "grpc.max_receive_message_length": settings.maxBodyBytes,
    // Channelz (gRPC's introspection service, not served here) counts every call: off.
    "grpc.enable_channelz": 0,
  });
  server.addService(inferenceServiceDefinition(), service.implementation);
  const address = `${hostPart(settings.host)}:${settings.port}`;
  const credentials = settings.tls
    ? // Server-side TLS only: clients authenticate with their API token, not a certificate.
      grpc.ServerCredentials.createSsl(
        null,
        [{ cert_chain: settings.tls.cert, private_key: settings.tls.key }],
        false,
      )
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials, (error, bound) =>
      error
        ? reject(
            new Error(
              `Cannot listen for gRPC on ${address} (MODELDECK_GRPC_PORT): ${error.message}. Choose a free port, or set MODELDECK_GRPC_PORT=off.`,
              { cause: error },
            ),
          )
        : resolve(bound),
    ),
  );
  return { server, port };
}

function hostPart(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/**
 * The gRPC side of the graceful stop (see drainServingServer, which runs alongside and marks
 * the instance draining, so ServerReady says false at once): keep answering for `drainDelayMs`,
 * then stop accepting calls and tell clients to go elsewhere (GOAWAY), let the calls in flight
 * finish for up to `drainTimeoutMs`, then answer what is left UNAVAILABLE and close.
 */
export async function drainGrpcServer(
  server: grpc.Server,
  service: GrpcInferenceService,
  settings: Pick<AppConfig["serving"], "drainDelayMs" | "drainTimeoutMs">,
  log: Logger,
): Promise<DrainOutcome> {
  const started = Date.now();
  if (settings.drainDelayMs > 0) await sleep(settings.drainDelayMs);
  const stopped = new Promise<boolean>((resolve) => server.tryShutdown(() => resolve(true)));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), settings.drainTimeoutMs);
  });
  const graceful = await Promise.race([stopped, timedOut]);
  clearTimeout(timer);
  let abandoned = 0;
  if (!graceful) {
    // Answered UNAVAILABLE (retryable) rather than reset: the client knows to go elsewhere.
    abandoned = service.abandonAll();
    log.warn({ abandoned }, "gRPC drain timeout reached; answering the calls left UNAVAILABLE");
    server.forceShutdown();
  }
  const durationMs = Date.now() - started;
  log.info({ durationMs, abandoned }, "gRPC drained");
  return { abandoned, durationMs };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
