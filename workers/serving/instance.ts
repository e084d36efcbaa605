// First: V8 flags must be set before the serving code below is loaded.
import "./v8-flags";
import cluster from "node:cluster";
import { createCachedTokenVerifier } from "../../lib/auth/tokens";
import { getConfig } from "../../lib/config";
import { getPrisma } from "../../lib/db/client";
import { createLogger } from "../../lib/log";
import { joinPendingFeedback } from "../../lib/monitoring/feedback";
import { isTryItKey, tryItKey } from "../../lib/serving/internal-key";
import { drainGrpcServer, startGrpcServer } from "../../lib/serving/grpc/server";
import { createGrpcInferenceService } from "../../lib/serving/grpc/service";
import { listenToServingEvents } from "../../lib/serving/listener";
import { createServingMetrics } from "../../lib/serving/metrics";
import { postgresPredictionSink, PredictionLogWriter } from "../../lib/serving/prediction-log";
import { ModelRouter } from "../../lib/serving/router";
import {
  createServingHttpServer,
  drainServingServer,
  gracefulStopBudgetMs,
} from "../../lib/serving/http-server";
import { createServingHandler } from "../../lib/serving/server";
import { getArtifactStore } from "../../lib/storage";
import { newInstanceId, startHeartbeat } from "../../lib/system/heartbeat";
import { ensureAuthSecret } from "../../lib/system/instance";
import { loadTlsMaterial } from "../../lib/system/tls";
import { announceReady, onShutdown } from "../shared/lifecycle";
import { clusterMetricsFromPrimary } from "./cluster-messages";

/**
 * One serving instance (data plane): wires the registry listener, the model router, the
 * prediction log and the HTTP handler of lib/serving to a node:http server, and the same parts
 * to the gRPC endpoint (lib/serving/grpc) on its own port unless MODELDECK_GRPC_PORT is off. Runs as the
 * serving process itself, or as one of its cluster workers (workers/serving/primary.ts),
 * which share the port and report /metrics for all workers together.
 */
const log = createLogger("serving");
const config = getConfig();
const db = getPrisma();
const metrics = createServingMetrics();
const startedAt = Date.now();

const instanceId = newInstanceId("serving");

const router = new ModelRouter({
  db,
  store: getArtifactStore(),
  log,
  metrics,
  instanceId,
  sessionOptions: { intraOpThreads: config.serving.threads },
  // The model page shows what each instance serves from its heartbeat: report a swap at once.
  onServedChange: () => heartbeat.beatNow(),
});

const predictionSink = config.serving.predictionLog
  ? postgresPredictionSink(process.env.DATABASE_URL!)
  : null;
const predictionLog = predictionSink
  ? new PredictionLogWriter(predictionSink, instanceId, log, {
      onDropped: (n) => metrics.logDropped.inc(n),
      onWritten: (n) => metrics.logWritten.inc(n),
      // Ground truth that arrived before these rows were logged waits for them: join it now.
      afterWrite: (requestIds) => joinPendingFeedback(db, { requestIds }),
    })
  : null;
predictionLog?.start();

// Each instance (each cluster worker too) keeps its own token cache and hears the auth
// events on its own notification connection, the one it already holds for model events: no
// relay through the primary to fail or lag, and a worker restarted alone resyncs alone.
const tokenCache = config.serving.authRequired
  ? createCachedTokenVerifier(db, {
      onError: (error) => log.warn({ err: error }, "token bookkeeping failed; will retry"),
    })
  : null;
let authorize: ((token: string) => boolean | Promise<boolean>) | null = null;
if (tokenCache) {
  const verifyToken = tokenCache.verify;
  const internalKey = tryItKey(
    process.env.BETTER_AUTH_SECRET ?? (await ensureAuthSecret(db, process.env.MODELDECK_SECRET)),
  );
  // Synchronous when the token's answer is cached (nearly every request under load).
  authorize = (token) => {
    if (isTryItKey(token, internalKey)) return true;
    const verified = verifyToken(token);
    return verified instanceof Promise ? verified.then((v) => v !== null) : verified !== null;
  };
}

const reconcileAll = (why: string) =>
  router
    .reconcileAll()
    .catch((error: unknown) =>
      log.warn({ err: error, why }, "could not read the registry; will retry"),
    );

const listener = listenToServingEvents({
  connectionString: process.env.DATABASE_URL!,
  log,
  onAuthEvent: tokenCache
    ? (event) => {
        log.debug({ event }, "auth event");
        tokenCache.invalidate(event);
      }
    : undefined,
  onModelEvent: (event) => {
    log.debug({ event }, "model event");
    void router
      .reconcileModel(event.model)
      .catch((error: unknown) => log.warn({ err: error, model: event.model }, "reconcile failed"));
  },
  // Also the first connection: the initial load happens once LISTEN is in place, so no
  // promotion can slip between reading the registry and hearing about changes.
  // After a reconnect, cached tokens are re-checked in the background (revocations may have
  // been missed); requests keep being answered from the cache meanwhile.
  onConnected: () => {
    void reconcileAll("listener connected");
    void tokenCache?.resync();
  },
});
const periodic = setInterval(
  () => void reconcileAll("periodic"),
  config.serving.reconcileIntervalMs,
);
periodic.unref();

// Read before anything listens: a bad certificate path stops the start with a clear message.
const tls = loadTlsMaterial(config);
const scheme = tls ? "https" : "http";

const servingDeps = {
  router,
  metrics,
  predictionLog,
  log,
  authorize,
  maxBodyBytes: config.serving.maxBodyBytes,
  readiness: () => ({ registryListener: listener.connected }),
  metricsText: cluster.isWorker ? clusterMetricsFromPrimary(metrics.registry) : undefined,
};
const handler = createServingHandler(servingDeps);
const grpcService =
  config.grpcPort === null ? null : createGrpcInferenceService(servingDeps, handler.draining);
const heartbeat = startHeartbeat(
  db,
  "serving",
  () => ({
    url: `${scheme}://${config.host}:${config.servingPort}`,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    listening: listener.connected,
    // ServingHeartbeatModel[] (lib/serving/status.ts): what the web shows per model and version.
    models: router.snapshot(),
    predictionLog: predictionLog?.stats ?? null,
  }),
  (error) => log.warn({ err: error }, "heartbeat failed"),
  instanceId,
);
const server = createServingHttpServer(handler, config.serving, tls);

await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen(config.servingPort, config.host, resolve);
});
const grpc = grpcService
  ? await startGrpcServer(grpcService, {
      host: config.host,
      port: config.grpcPort!,
      maxBodyBytes: config.serving.maxBodyBytes,
      tls,
    })
  : null;
log.info(
  {
    url: `${scheme}://${config.host}:${config.servingPort}`,
    grpc: grpc ? `${config.host}:${grpc.port}` : "off",
    authRequired: config.serving.authRequired,
  },
  "serving listening",
);
announceReady({ port: config.servingPort });

onShutdown(
  log,
  async () => {
    // Not ready first (a load balancer stops routing here), then stop accepting and let the
    // requests in flight finish; only then flush the log and free the sessions.
    await Promise.all([
      drainServingServer(server, handler, config.serving, log),
      grpc && grpcService ? drainGrpcServer(grpc.server, grpcService, config.serving, log) : null,
    ]);
    clearInterval(periodic);
    await listener.stop();
    await predictionLog?.stop();
    await predictionSink?.end();
    await router.close();
    await heartbeat.stop();
    await db.$disconnect();
  },
  gracefulStopBudgetMs(config.serving),
);
