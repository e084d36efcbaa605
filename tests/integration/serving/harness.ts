/**
 * Serving test harness: real models in a real registry (Postgres + artifact store on disk),
 * served by the real serving code, either in this process (fast, inspectable) or as real
 * `workers/serving/main.ts` processes (for multi-instance and shutdown behaviour).
 */
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import type { CachedTokenVerifier } from "../../../lib/auth/tokens";
import { findFreePort } from "../../../lib/db/embedded-postgres";
import type { PrismaClient } from "../../../lib/db/generated/client";
import { createLogger } from "../../../lib/log";
import { joinPendingFeedback } from "../../../lib/monitoring/feedback";
import { buildLogisticRegressionModel } from "../../../lib/onnx/build";
import { createModel, setAlias } from "../../../lib/registry";
import { registerVersionBytes } from "../../../lib/registry/upload";
import { listenToServingEvents } from "../../../lib/serving/listener";
import { createServingMetrics } from "../../../lib/serving/metrics";
import { postgresPredictionSink, PredictionLogWriter } from "../../../lib/serving/prediction-log";
import { ModelRouter } from "../../../lib/serving/router";
import { createServingHttpServer } from "../../../lib/serving/http-server";
import { createServingHandler, type ServingHandler } from "../../../lib/serving/server";
import { LocalArtifactStore, type ArtifactStore } from "../../../lib/storage";
import { truncateAll, useTestDatabase } from "../helpers/db";
import { spawnWorker, type WorkerProcess } from "../helpers/worker";

export const ADMIN = { ...SYSTEM_ACTOR, role: "admin" as const };

export async function tempDataDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-serving-"));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/**
 * Per-file setup for tests that run real serving processes: an emptied database, a fresh
 * data directory, and every process started through `spawn` stopped after the file.
 */
export function serveTestModels(stopSignal: NodeJS.Signals = "SIGTERM") {
  const db = useTestDatabase({ truncate: false });
  const started: ServingProcess[] = [];
  let data: Awaited<ReturnType<typeof tempDataDir>> | undefined;
  beforeAll(async () => {
    await truncateAll(db.url);
    data = await tempDataDir();
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop(stopSignal)));
    await data?.cleanup();
  });
  return {
    db,
    get dataDir() {
      return data!.dir;
    },
    async spawn(opts: { databaseUrl?: string; env?: Record<string, string>; grpc?: boolean } = {}) {
      const proc = await startServingProcess({
        databaseUrl: opts.databaseUrl ?? db.url,
        dataDir: data!.dir,
        port: await findFreePort(),
        grpcPort: opts.grpc ? await findFreePort() : undefined,
        env: opts.env,
      });
      started.push(proc);
      return proc;
    },
  };
}

export const storeFor = (dataDir: string): ArtifactStore =>
  new LocalArtifactStore({ root: path.join(dataDir, "artifacts") });

/**
 * A 4-feature, 3-class logistic regression whose answer tells versions apart: class
 * `favourite` wins for every input (its bias dominates).
 */
export function classifierBytes(favourite: number, seedOffset = 0): Buffer {
  const weights = Array.from({ length: 4 }, (_, f) =>
    Array.from({ length: 3 }, (_, c) => ((f + 1) * (c + 1 + seedOffset)) / 100),
  );
  const bias = [0, 1, 2].map((c) => (c === favourite ? 50 : 0));
  return buildLogisticRegressionModel({
    weights,
    bias,
    featureNames: ["a", "b", "c", "d"],
    classLabels: ["x", "y", "z"],
  });
}

/** Registers `bytes` as the next version of `model` the way an upload does. */
export async function addVersion(
  db: PrismaClient,
  store: ArtifactStore,
  model: string,
  bytes: Buffer,
): Promise<number> {
  const version = await registerVersionBytes(db, store, SYSTEM_ACTOR, bytes, {
    modelName: model,
    lineage: { kind: "upload" },
  });
  return version.version;
}

export async function createClassifier(
  db: PrismaClient,
  store: ArtifactStore,
  name: string,
  versions: Buffer[],
  production = 1,
): Promise<void> {
  await createModel(db, SYSTEM_ACTOR, { name, task: "classification" });
  for (const bytes of versions) await addVersion(db, store, name, bytes);
  await promote(db, name, production);
}

export function promote(db: PrismaClient, model: string, version: number, alias = "production") {
  return setAlias(db, ADMIN, { modelName: model, alias, version, reason: "test" });
}

export type InProcessServing = {
  url: string;
  server: http.Server;
  handler: ServingHandler;
  router: ModelRouter;
  metrics: ReturnType<typeof createServingMetrics>;
  predictionLog: PredictionLogWriter;
  stop: () => Promise<void>;
};

/** The serving stack of workers/serving/main.ts, in this process, on an ephemeral port. */
export async function startInProcessServing(opts: {
  db: PrismaClient;
  databaseUrl: string;
  dataDir: string;
  authorize?: ((token: string) => Promise<boolean>) | null;
  /** A token cache to keep current from the auth channel, as workers/serving/instance.ts does. */
  tokenCache?: CachedTokenVerifier;
  maxBodyBytes?: number;
  /** How soon a failed load is retried (default the router's FAILED_RETRY_MS). */
  failedRetryMs?: number;
}): Promise<InProcessServing> {
  const log = createLogger("serving-test", process.env.MODELDECK_LOG_LEVEL ?? "silent");
  const metrics = createServingMetrics({ defaultMetrics: false });
  const router = new ModelRouter({
    db: opts.db,
    store: storeFor(opts.dataDir),
    log,
    metrics,
    instanceId: "test-instance",
    failedRetryMs: opts.failedRetryMs,
  });
  const sink = postgresPredictionSink(opts.databaseUrl);
  const predictionLog = new PredictionLogWriter(sink, "test-instance", log, {
    flushIntervalMs: 50,
    afterWrite: (requestIds) => joinPendingFeedback(opts.db, { requestIds }),
  });
  predictionLog.start();
  let connected!: () => void;
  const firstConnect = new Promise<void>((r) => (connected = r));
  const tokenCache = opts.tokenCache;
  const listener = listenToServingEvents({
    connectionString: opts.databaseUrl,
    log,
    onModelEvent: (event) => void router.reconcileModel(event.model).catch(() => undefined),
    onAuthEvent: tokenCache && ((event) => tokenCache.invalidate(event)),
    onConnected: () => {
      void tokenCache?.resync();
      void router.reconcileAll().then(connected, connected);
    },
  });
  await firstConnect;
  const handler = createServingHandler({
    router,
    metrics,
    predictionLog,
    log,
    authorize: opts.authorize ?? null,
    maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024,
  });
  const server = createServingHttpServer(handler, {
    keepAliveTimeoutMs: 65_000,
    headersTimeoutMs: 66_000,
    requestTimeoutMs: 120_000,
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    handler,
    router,
    metrics,
    predictionLog,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await listener.stop();
      await predictionLog.stop();
      await sink.end();
      await router.close();
    },
  };
}

export type ServingProcess = Omit<WorkerProcess, "exited"> & {
  url: string;
  /** `127.0.0.1:<port>` of its gRPC endpoint, when started with one. */
  grpcAddress: string | null;
};

/**
 * A real serving process (`workers/serving/main.ts`), as the supervisor starts it. Its gRPC
 * endpoint is off unless `grpcPort` is given: test files run side by side.
 */
export async function startServingProcess(opts: {
  databaseUrl: string;
  dataDir: string;
  port: number;
  grpcPort?: number;
  env?: Record<string, string>;
}): Promise<ServingProcess> {
  const url = `http://127.0.0.1:${opts.port}`;
  const worker = await spawnWorker({
    entry: "workers/serving/main.ts",
    name: "serving",
    env: {
      DATABASE_URL: opts.databaseUrl,
      MODELDECK_DATA_DIR: opts.dataDir,
      MODELDECK_SERVING_PORT: String(opts.port),
      MODELDECK_GRPC_PORT: opts.grpcPort === undefined ? "off" : String(opts.grpcPort),
      MODELDECK_HOST: "127.0.0.1",
      MODELDECK_SERVING_AUTH: "off",
      MODELDECK_LOG_LEVEL: "info",
      ...opts.env,
    },
    ready: () =>
      fetch(`${url}/v2/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      ),
  });
  return {
    url,
    grpcAddress: opts.grpcPort === undefined ? null : `127.0.0.1:${opts.grpcPort}`,
    child: worker.child,
    output: worker.output,
    stop: worker.stop,
  };
}

/** POSTs JSON and returns status, body and headers. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json as Record<string, unknown>, headers: res.headers };
}

export const oneRow = (values = [5.1, 3.5, 1.4, 0.2]) => ({
  inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: values }],
});

/** The class a classifierBytes model answers with. */
export function labelOf(body: Record<string, unknown>): number {
  const outputs = body.outputs as Array<{ name: string; data: number[] }>;
  return outputs.find((o) => o.name === "label")!.data[0]!;
}
