import type { Registry } from "prom-client";

/**
 * Histograms and counters whose label values are bound once per served version, for the
 * predict path. prom-client stays the registry and the exposition format (and the cluster
 * aggregation, which reads `get()`), but its own `observe()` builds a label object, validates
 * it and hashes it on every call even through `labels(...)` children: about 1 µs per
 * observation, four per request, measured in bench/serving profiles. Here an observation is a
 * bucket search and three additions on a Float64Array.
 *
 * The objects below implement what prom-client's Registry reads from a metric (`name`, `help`,
 * `type`, `aggregator`, `get()`, `getForPromString()`), with values in the shape its own
 * Histogram and Counter produce, so /metrics output is unchanged.
 */
type LabelValues = Record<string, string | number>;
type MetricValue = {
  labels: LabelValues;
  sharedLabels?: LabelValues;
  value: number;
  metricName?: string;
};
type MetricData = {
  name: string;
  help: string;
  type: "histogram" | "counter";
  values: MetricValue[];
  aggregator: "sum";
};

/** A series' label object from its values in `labelNames` order. */
function labelsOf(labelNames: readonly string[], values: readonly string[]): LabelValues {
  const labels: LabelValues = {};
  labelNames.forEach((n, i) => (labels[n] = values[i] ?? ""));
  return labels;
}

export type HistogramChild = { observe(value: number): void };
export type CounterChild = { inc(by?: number): void };

export class BoundHistogram {
  readonly type = "histogram" as const;
  readonly aggregator = "sum" as const;
  private readonly series = new Map<string, { labels: LabelValues; counts: Float64Array }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series for these label values (in `labelNames` order), created on first use. */
  labels(...values: string[]): HistogramChild {
    const key = values.join("\u0000");
    let s = this.series.get(key);
    if (!s) {
      // [bucket counts (not cumulative)..., +Inf, sum, count]
      s = {
        labels: labelsOf(this.labelNames, values),
        counts: new Float64Array(this.buckets.length + 3),
      };
      this.series.set(key, s);
    }
    const { counts } = s;
    const bounds = this.buckets;
    const inf = bounds.length;
    return {
      observe(value: number) {
        if (!Number.isFinite(value)) return;
        let i = 0;
        while (i < inf && value > bounds[i]!) i++;
        counts[i]!++;
        counts[inf + 1]! += value;
        counts[inf + 2]!++;
      },
    };
  }

  remove(...values: string[]): void {
    this.series.delete(values.join("\u0000"));
  }

  /** prom-client's JSON form (the cluster aggregation reads this): labels merged. */
  async get(): Promise<MetricData> {
    const data = await this.getForPromString();
    for (const v of data.values) {
      v.labels = { ...v.labels, ...v.sharedLabels };
      delete v.sharedLabels;
    }
    return data;
  }

  /** As prom-client's Histogram: `le` first, then the series' labels (same text output). */
  async getForPromString(): Promise<MetricData> {
    const values: MetricValue[] = [];
    const inf = this.buckets.length;
    const bucket = `${this.name}_bucket`;
    for (const { labels, counts } of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < inf; i++) {
        acc += counts[i]!;
        values.push({
          labels: { le: this.buckets[i]! },
          sharedLabels: labels,
          value: acc,
          metricName: bucket,
        });
      }
      values.push(
        {
          labels: { le: "+Inf" },
          sharedLabels: labels,
          value: counts[inf + 2]!,
          metricName: bucket,
        },
        {
          labels: {},
          sharedLabels: labels,
          value: counts[inf + 1]!,
          metricName: `${this.name}_sum`,
        },
        {
          labels: {},
          sharedLabels: labels,
          value: counts[inf + 2]!,
          metricName: `${this.name}_count`,
        },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }
}

export class BoundCounter {
  readonly type = "counter" as const;
  readonly aggregator = "sum" as const;
  private readonly series = new Map<string, { labels: LabelValues; value: Float64Array }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  labels(...values: string[]): CounterChild {
    const key = values.join("\u0000");
    let s = this.series.get(key);
    if (!s) {
      s = { labels: labelsOf(this.labelNames, values), value: new Float64Array(1) };
      this.series.set(key, s);
    }
    const cell = s.value;
    return {
      inc(by = 1) {
        cell[0]! += by;
      },
    };
  }

  /** prom-client's label-object form, for call sites off the hot path. */
  inc(labels: Record<string, string>, by = 1): void {
    this.labels(...this.labelNames.map((n) => labels[n] ?? "")).inc(by);
  }

  async get(): Promise<MetricData> {
    return this.getForPromString();
  }

  async getForPromString(): Promise<MetricData> {
    const values: MetricValue[] = [];
    for (const { labels, value } of this.series.values()) {
      values.push({ labels: { ...labels }, value: value[0]! });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }
}
