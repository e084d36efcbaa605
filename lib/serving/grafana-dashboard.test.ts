import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createServingMetrics } from "./metrics";

/**
 * deploy/grafana/modeldeck-serving.json queries the serving process's metrics by name. This
 * checks every name against the registry lib/serving/metrics.ts really builds (default
 * process metrics included), so renaming a metric without updating the dashboard fails here
 * instead of leaving empty panels.
 */
const file = path.resolve(import.meta.dirname, "../../deploy/grafana/modeldeck-serving.json");

type Panel = {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  targets?: { expr: string; datasource?: { uid?: string } }[];
};
type Dashboard = {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};

const dashboard = JSON.parse(readFileSync(file, "utf8")) as Dashboard;
const metrics = createServingMetrics();

async function exposedSeries(): Promise<{ names: Set<string>; labels: Map<string, Set<string>> }> {
  // One observation each, so labelled metrics have series with their label names.
  const v = metrics.forVersion("m", "1");
  v.ok.inc();
  v.requestDuration.observe(0.01);
  v.queueDuration.observe(0.001);
  v.computeDuration.observe(0.001);
  v.batchSize.observe(4);
  metrics.loadedModels.labels("m", "1").set(1);
  metrics.loadFailures.labels("m", "1").inc();
  metrics.queueRejections.labels("m", "1").inc();
  metrics.logDropped.inc();
  metrics.logWritten.inc();
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const suffixes = String(m.type) === "histogram" ? ["_bucket", "_sum", "_count"] : [""];
    for (const s of suffixes) names.add(m.name + s);
    const set = new Set<string>();
    for (const value of m.values) for (const l of Object.keys(value.labels ?? {})) set.add(l);
    for (const s of suffixes) labels.set(m.name + s, set);
  }
  return { names, labels };
}

const queries = [
  ...dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
  ),
  ...dashboard.templating.list
    .filter((v) => v.type === "query")
    .map((v) => ({ panel: `variable ${v.name}`, expr: (v.query as { query: string }).query })),
];

describe("deploy/grafana/modeldeck-serving.json", () => {
  it("is a dashboard with a datasource variable, model and version variables, and panels", () => {
    expect(dashboard.uid).toBe("modeldeck-serving");
    const vars = dashboard.templating.list.map((v) => `${v.name}:${v.type}`);
    expect(vars).toEqual(["datasource:datasource", "model:query", "version:query"]);
    const graphs = dashboard.panels.filter((p) => p.type !== "row");
    expect(graphs.length).toBeGreaterThanOrEqual(10);
    for (const p of graphs) {
      expect(p.datasource?.uid, p.title).toBe("${datasource}");
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it("queries only metrics (and labels) that lib/serving/metrics.ts exports", async () => {
    const { names, labels } = await exposedSeries();
    const used = new Set<string>();
    for (const { panel, expr } of queries) {
      const found = expr.match(/\bmodeldeck_[a-z0-9_]+/g) ?? [];
      expect(found.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of found) {
        expect(
          names.has(name),
          `${panel} queries ${name}, which the serving process does not export`,
        ).toBe(true);
        used.add(name);
      }
      // Label matchers on a metric: {model=~"$model", version=~"$version", status!~"2.."}
      for (const m of expr.matchAll(/\b(modeldeck_[a-z0-9_]+)\{([^}]*)\}/g)) {
        for (const label of m[2]!.matchAll(/([a-z_]+)\s*[=!]~?/g)) {
          expect(
            labels.get(m[1]!)?.has(label[1]!),
            `${panel}: ${m[1]} has no label ${label[1]}`,
          ).toBe(true);
        }
      }
      // histogram_quantile needs buckets, grouped by le.
      if (expr.includes("histogram_quantile")) {
        expect(expr, panel).toMatch(/_bucket\{/);
        expect(expr, panel).toMatch(/by \(le[,)]/);
      }
    }
    // The panels an operator needs: traffic, latency, queueing, compute, batching, loads, drops.
    for (const name of [
      "modeldeck_inference_requests_total",
      "modeldeck_inference_request_duration_seconds_bucket",
      "modeldeck_inference_queue_duration_seconds_bucket",
      "modeldeck_inference_compute_duration_seconds_bucket",
      "modeldeck_inference_batch_size_sum",
      "modeldeck_serving_loaded_models",
      "modeldeck_prediction_log_dropped_total",
    ]) {
      expect(used.has(name), name).toBe(true);
    }
  });

  it("filters inference series by the model and version variables", () => {
    for (const { panel, expr } of queries) {
      for (const m of expr.matchAll(/\b(modeldeck_inference_[a-z0-9_]+)\{([^}]*)\}/g)) {
        if (panel.startsWith("variable")) continue;
        expect(m[2], `${panel}: ${m[0]}`).toContain('model=~"$model"');
        expect(m[2], `${panel}: ${m[0]}`).toContain('version=~"$version"');
      }
    }
  });

  it("shows client errors (4xx) and server errors (5xx) apart, never one ratio of both", () => {
    const byClass = (cls: "4" | "5") =>
      dashboard.panels.filter((p) =>
        (p.targets ?? []).some((t) =>
          t.expr.includes(
            `modeldeck_inference_requests_total{model=~"$model", version=~"$version", status=~"${cls}.."}`,
          ),
        ),
      );
    // A stat each, and one time series with both.
    const client = byClass("4");
    const server = byClass("5");
    expect(client.find((p) => p.type === "stat")?.title).toBe("Client errors (4xx)");
    expect(server.find((p) => p.type === "stat")?.title).toBe("Server errors (5xx)");
    const both = client.filter((p) => p.type === "timeseries" && server.includes(p));
    expect(both.map((p) => p.title)).toEqual(["Error ratio: client 4xx vs server 5xx"]);
    // "not 2xx" would add the two up again.
    for (const { panel, expr } of queries) expect(expr, panel).not.toMatch(/status!~"2\.\."/);
  });

  it("lays panels out without overlaps, within 24 columns, with unique ids", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const key = `${i},${j}`;
          expect(cells.get(key), `${p.title} overlaps ${cells.get(key)}`).toBeUndefined();
          cells.set(key, p.title);
        }
      }
    }
  });
});
