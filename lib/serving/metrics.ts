import client from "prom-client";
import { BoundCounter, BoundHistogram } from "./bound-metrics";

/**
 * The serving process's Prometheus metrics. Names follow Prometheus conventions (base units,
 * `_total` counters, `_seconds` histograms) under the `modeldeck_` prefix; every inference
 * series is labelled by model and version so dashboards can compare versions side by side.
 *
 * Each server gets its own registry (tests start several servers in one process); the
 * process-wide default metrics (CPU, memory, event loop lag) are added to it once.
 */
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export type ServingMetrics = ReturnType<typeof createServingMetrics>;

export function createServingMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const base = createMetrics(opts);
  // The label sets of a served version, resolved once: prom-client hashes the labels on every
  // observe() otherwise, which shows up on the predict path at thousands of requests/s.
  type Children = {
    ok: { inc(): void };
    requestDuration: { observe(value: number): void };
    queueDuration: { observe(value: number): void };
    computeDuration: { observe(value: number): void };
    batchSize: { observe(value: number): void };
  };
  const children = new Map<string, Children>();
  const byServed = new WeakMap<object, Children>();
  return {
    ...base,
    forVersion(model: string, version: string): Children {
      const key = `${model}\u0000${version}`;
      let c = children.get(key);
      if (!c) {
        c = {
          ok: base.requests.labels(model, version, "200"),
          requestDuration: base.requestDuration.labels(model, version),
          queueDuration: base.queueDuration.labels(model, version),
          computeDuration: base.computeDuration.labels(model, version),
          batchSize: base.batchSize.labels(model, version),
        };
        children.set(key, c);
      }
      return c;
    },
    /** forVersion for a served version, remembered on the object (no key built per request). */
    forServed(served: { id: { model: string; version: number } }): Children {
      let c = byServed.get(served);
      if (!c)
        byServed.set(served, (c = this.forVersion(served.id.model, String(served.id.version))));
      return c;
    },
    /** An unloaded version stops being reported as loaded (its request series stay). */
    versionUnloaded(model: string, version: string): void {
      base.loadedModels.remove(model, version);
    },
  };
}

function createMetrics(opts: { defaultMetrics?: boolean }) {
  const registry = new client.Registry();
  if (opts.defaultMetrics !== false) {
    client.collectDefaultMetrics({ register: registry, prefix: "modeldeck_serving_" });
  }
  const labels = ["model", "version"] as const;
  return {
    registry,
    // The per-request series: bound once per version, cheap to update (./bound-metrics.ts).
    requests: new BoundCounter(
      "modeldeck_inference_requests_total",
      "Inference requests answered, by model, version and HTTP status code.",
      ["model", "version", "status"],
      registry,
    ),
    requestDuration: new BoundHistogram(
      "modeldeck_inference_request_duration_seconds",
      "Time from receiving an inference request to writing its response.",
      labels,
      LATENCY_BUCKETS,
      registry,
    ),
    queueDuration: new BoundHistogram(
      "modeldeck_inference_queue_duration_seconds",
      "Time an inference request waited in the batching queue.",
      labels,
      LATENCY_BUCKETS,
      registry,
    ),
    computeDuration: new BoundHistogram(
      "modeldeck_inference_compute_duration_seconds",
      "Time each onnxruntime call (one batch of requests) took.",
      labels,
      LATENCY_BUCKETS,
      registry,
    ),
    batchSize: new BoundHistogram(
      "modeldeck_inference_batch_size",
      "Rows per onnxruntime call (realised dynamic batch size), one observation per call.",
      labels,
      BATCH_BUCKETS,
      registry,
    ),
    loadedModels: new client.Gauge({
      name: "modeldeck_serving_loaded_models",
      help: "Model versions loaded in this serving process (1 per loaded version).",
      labelNames: labels,
      registers: [registry],
      // Across the workers of one process (MODELDECK_SERVING_WORKERS), loaded is loaded:
      // the largest value, not the sum.
      aggregator: "max",
    }),
    loadFailures: new client.Counter({
      name: "modeldeck_serving_model_load_failures_total",
      help: "Model versions that failed to load or warm up.",
      labelNames: labels,
      registers: [registry],
    }),
    queueRejections: new client.Counter({
      name: "modeldeck_inference_queue_rejections_total",
      help: "Inference requests refused with 503 because the batching queue was full.",
      labelNames: labels,
      registers: [registry],
    }),
    logDropped: new client.Counter({
      name: "modeldeck_prediction_log_dropped_total",
      help: "Prediction-log records dropped because the database could not keep up.",
      registers: [registry],
    }),
    logWritten: new client.Counter({
      name: "modeldeck_prediction_log_written_total",
      help: "Prediction-log records written to the database.",
      registers: [registry],
    }),
  };
}
