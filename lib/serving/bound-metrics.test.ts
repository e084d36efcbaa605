import client from "prom-client";
import { describe, expect, it } from "vitest";
import { BoundCounter, BoundHistogram } from "./bound-metrics";

// The bound metrics replace prom-client's own on the predict path: their /metrics text and
// their JSON (what the cluster aggregation sums) must be what prom-client's would have been.
describe("bound metrics", () => {
  const buckets = [0.001, 0.01, 0.1, 1];
  const values = [0.0005, 0.001, 0.002, 0.05, 0.5, 3, 0.01, 0.0001];

  function both() {
    const ours = new client.Registry();
    const theirs = new client.Registry();
    const h = new BoundHistogram("t_seconds", "Help text.", ["model", "version"], buckets, ours);
    const ph = new client.Histogram({
      name: "t_seconds",
      help: "Help text.",
      labelNames: ["model", "version"],
      buckets,
      registers: [theirs],
    });
    const c = new BoundCounter("t_total", "Count.", ["model", "version", "status"], ours);
    const pc = new client.Counter({
      name: "t_total",
      help: "Count.",
      labelNames: ["model", "version", "status"],
      registers: [theirs],
    });
    const a = h.labels("m", "1");
    const b = h.labels("m", '2"x');
    for (const v of values) {
      a.observe(v);
      ph.labels("m", "1").observe(v);
    }
    b.observe(0.2);
    ph.labels("m", '2"x').observe(0.2);
    c.labels("m", "1", "200").inc();
    c.labels("m", "1", "200").inc(2);
    c.inc({ model: "m", version: "1", status: "503" });
    pc.labels("m", "1", "200").inc(3);
    pc.inc({ model: "m", version: "1", status: "503" });
    return { ours, theirs };
  }

  it("expose the same text as prom-client's histogram and counter", async () => {
    const { ours, theirs } = both();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("give the same JSON, which the cluster aggregation sums", async () => {
    const { ours, theirs } = both();
    const sorted = (metrics: Awaited<ReturnType<client.Registry["getMetricsAsJSON"]>>) =>
      metrics.map((m) => ({
        ...m,
        values: [...m.values]
          .map((v) => ({
            labels: v.labels,
            value: v.value,
            metricName: (v as { metricName?: string }).metricName,
          }))
          .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
      }));
    expect(sorted(await ours.getMetricsAsJSON())).toEqual(sorted(await theirs.getMetricsAsJSON()));
    const merged = client.AggregatorRegistry.aggregate([
      await ours.getMetricsAsJSON(),
      await ours.getMetricsAsJSON(),
    ]);
    expect(await merged.metrics()).toContain('t_seconds_count{model="m",version="1"} 16');
  });

  it("ignore a value that is not a number instead of poisoning the sum", async () => {
    const registry = new client.Registry();
    const h = new BoundHistogram("n_seconds", "h", ["model"], buckets, registry);
    h.labels("m").observe(Number.NaN);
    h.labels("m").observe(0.5);
    expect(await registry.metrics()).toContain('n_seconds_sum{model="m"} 0.5');
  });
});
