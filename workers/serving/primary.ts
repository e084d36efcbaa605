import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import { AggregatorRegistry } from "prom-client";
import { getConfig } from "../../lib/config";
import { createLogger } from "../../lib/log";
import { gracefulStopBudgetMs } from "../../lib/serving/http-server";
import { announceReady, onShutdown } from "../shared/lifecycle";
import {
  METRICS_REPLY,
  METRICS_REQUEST,
  type MetricsReply,
  type WorkerMessage,
} from "./cluster-messages";

/**
 * The primary of a multi-worker serving process (MODELDECK_SERVING_WORKERS > 1): forks that
 * many serving workers (workers/serving/instance.ts), which share the port through
 * node:cluster, each with its own sessions, batching and prediction log, as separate serving
 * processes would. Why: one Node event loop spends most of a request in HTTP and JSON work
 * (bench/RESULTS.md, "Serving"), so throughput past one core needs more event loops.
 *
 * The primary holds no sessions and answers no requests. It tells the supervisor "ready" once
 * every worker is, answers workers' requests for the cluster-wide /metrics (prom-client's
 * AggregatorRegistry: counters and histograms summed over workers), replaces a worker that
 * dies (after a growing delay if they keep dying young), and on SIGTERM lets every worker
 * drain and exit.
 */
const log = createLogger("serving");
const config = getConfig();
const count = config.serving.workers;
const aggregator = new AggregatorRegistry();

const MIN_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;
const HEALTHY_AFTER_MS = 30_000;
let restartDelay = MIN_RESTART_DELAY_MS;
let stopping = false;
let announced = false;
const ready = new Set<number>();
const startedAt = new Map<number, number>();
let allExited: (() => void) | null = null;

cluster.setupPrimary({
  exec: fileURLToPath(new URL("./instance.ts", import.meta.url)),
  execArgv: process.execArgv,
});

function fork(): Worker {
  const worker = cluster.fork();
  startedAt.set(worker.id, Date.now());
  return worker;
}

cluster.on("message", (worker, message: WorkerMessage) => {
  if (message?.type === "ready") {
    ready.add(worker.id);
    if (!announced && ready.size >= count) {
      announced = true;
      log.info({ workers: count, port: config.servingPort }, "serving workers ready");
      announceReady({ port: config.servingPort, workers: count });
    }
  } else if (message?.type === METRICS_REQUEST) {
    const reply = (body: Omit<MetricsReply, "type" | "id">) =>
      worker.isConnected() && worker.send({ type: METRICS_REPLY, id: message.id, ...body });
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
  }
});

cluster.on("exit", (worker, code, signal) => {
  ready.delete(worker.id);
  const lived = Date.now() - (startedAt.get(worker.id) ?? Date.now());
  startedAt.delete(worker.id);
  if (stopping) {
    if (Object.keys(cluster.workers ?? {}).length === 0) allExited?.();
    return;
  }
  restartDelay = lived > HEALTHY_AFTER_MS ? MIN_RESTART_DELAY_MS : restartDelay;
  log.error(
    { code, signal, restartInMs: restartDelay },
    "a serving worker exited; starting another",
  );
  setTimeout(() => {
    if (!stopping) fork();
  }, restartDelay).unref();
  restartDelay = Math.min(MAX_RESTART_DELAY_MS, restartDelay * 2);
});

for (let i = 0; i < count; i++) fork();

onShutdown(
  log,
  async () => {
    stopping = true;
    const exited = new Promise<void>((resolve) => (allExited = resolve));
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    if (workers.length === 0) return;
    // Each worker drains its requests and flushes its prediction log on SIGTERM.
    for (const worker of workers) worker.process.kill("SIGTERM");
    await exited;
  },
  // The workers drain on their own budget; this one only has to outlast theirs.
  gracefulStopBudgetMs(config.serving) + 2_000,
);
