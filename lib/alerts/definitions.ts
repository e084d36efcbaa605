/**
 * What an alert rule can watch, and how its values read. Client-safe (no database imports):
 * the rule dialog shows the same units and hints the API validates against.
 */
export const ALERT_METRICS = [
  "latency_p95",
  "latency_p99",
  "client_error_rate",
  "server_error_rate",
  "error_rate",
  "throughput",
  "live_accuracy",
  "live_mae",
  "drift_score",
  "failed_job_runs",
] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];

export const ALERT_COMPARISONS = ["gt", "gte", "lt", "lte"] as const;
export type AlertComparison = (typeof ALERT_COMPARISONS)[number];

export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ALERT_STATES = ["inactive", "pending", "firing", "resolved"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export type MetricDefinition = {
  label: string;
  /** The unit thresholds and values are in, as shown next to numbers. */
  unit: string;
  /** One line for the rule dialog: what the value is and what a threshold means. */
  hint: string;
  /** Only models of this task have the metric. */
  task?: "classification" | "regression";
  /** Whether a version or alias scope makes sense (job runs belong to the model). */
  versionScoped: boolean;
  /** The threshold must lie in [min, max]. */
  min: number;
  max?: number;
  /**
   * Kept so that rules already stored keep working (and the API still takes it), but not
   * offered for new rules: `replacedBy` says the same more clearly.
   */
  replacedBy?: AlertMetric;
};

export const METRIC_DEFINITIONS: Record<AlertMetric, MetricDefinition> = {
  latency_p95: {
    label: "p95 latency",
    unit: "ms",
    hint: "95th percentile of request latency over the window, in milliseconds.",
    versionScoped: true,
    min: 0,
  },
  latency_p99: {
    label: "p99 latency",
    unit: "ms",
    hint: "99th percentile of request latency over the window, in milliseconds.",
    versionScoped: true,
    min: 0,
  },
  client_error_rate: {
    label: "Client error rate (4xx)",
    unit: "fraction",
    hint: "Share of requests answered with a 4xx status (malformed JSON, unknown input, wrong shape…), 0–1 (0.05 = 5 %). With all versions in scope it includes requests for an alias or version that is not served.",
    versionScoped: true,
    min: 0,
    max: 1,
  },
  server_error_rate: {
    label: "Server error rate (5xx)",
    unit: "fraction",
    hint: "Share of requests answered with a 5xx status (inference failed, queue full…), 0–1 (0.05 = 5 %).",
    versionScoped: true,
    min: 0,
    max: 1,
  },
  error_rate: {
    label: "Error rate (5xx)",
    unit: "fraction",
    hint: "Share of requests answered with a 5xx status, 0–1: the same as server_error_rate, which replaces it (4xx are not counted; see client_error_rate).",
    versionScoped: true,
    min: 0,
    max: 1,
    replacedBy: "server_error_rate",
  },
  throughput: {
    label: "Throughput",
    unit: "req/s",
    hint: "Requests per second averaged over the window; no traffic counts as 0.",
    versionScoped: true,
    min: 0,
  },
  live_accuracy: {
    label: "Live accuracy",
    unit: "fraction",
    hint: "Share of predictions with feedback that were right, 0–1; classification models only.",
    task: "classification",
    versionScoped: true,
    min: 0,
    max: 1,
  },
  live_mae: {
    label: "Live MAE",
    unit: "target units",
    hint: "Mean absolute error of predictions with feedback, in the target's unit; regression models only.",
    task: "regression",
    versionScoped: true,
    min: 0,
  },
  drift_score: {
    label: "Drift score",
    unit: "fraction",
    hint: "Share of input features that drifted from the evaluation dataset, 0–1.",
    versionScoped: true,
    min: 0,
    max: 1,
  },
  failed_job_runs: {
    label: "Failed job runs",
    unit: "runs",
    hint: "Refresh-job runs of this model that failed within the window.",
    versionScoped: false,
    min: 0,
  },
};

export const COMPARISON_SYMBOLS: Record<AlertComparison, string> = {
  gt: ">",
  gte: "≥",
  lt: "<",
  lte: "≤",
};

export function compare(value: number, comparison: AlertComparison, threshold: number): boolean {
  switch (comparison) {
    case "gt":
      return value > threshold;
    case "gte":
      return value >= threshold;
    case "lt":
      return value < threshold;
    case "lte":
      return value <= threshold;
  }
}

/** A value in its metric's unit, for reasons, tables and notifications. */
export function formatMetricValue(metric: AlertMetric, value: number | null): string {
  if (value === null) return "no data";
  const def = METRIC_DEFINITIONS[metric];
  // Three significant digits (whole numbers from 100 up): 2.22 ms, 0.01, 0.953, 1234 ms.
  const text =
    Math.abs(value) >= 100 ? String(Math.round(value)) : String(Number(value.toPrecision(3)));
  return def.unit === "fraction" ? text : `${text} ${def.unit}`;
}

/** "2 min", "30 s", "1 h 30 min": durations of windows, `for` and `keep_firing_for`. */
export function formatDurationSeconds(seconds: number): string {
  if (seconds === 0) return "0 s";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h} h` : "", m ? `${m} min` : "", s ? `${s} s` : ""].filter(Boolean).join(" ");
}
