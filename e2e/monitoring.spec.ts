import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { APIRequestContext } from "@playwright/test";
import { buildLogisticRegressionModel } from "../lib/onnx/build";
import { emptyCounts, latencyBucketOf } from "../lib/monitoring/histogram";
import { upsertRollupsQuery, type RollupDelta } from "../lib/monitoring/rollups";
import { metricsUpdatedNotifyQuery } from "../lib/events/channels";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { E2E_PORTS, adminStorageState, readState } from "./support/state";

/**
 * Monitoring in Chromium: a model with two versions and 2.5 hours of per-minute rollups
 * written with the serving process's own upsert (v1 with a 20-minute outage, v2 slower, with
 * a latency spike and some 5xx, both with ground truth). The model page shows both versions
 * in every chart, with the figures the rollups add up to; the range switches in the URL; a
 * version toggles off; a custom range is validated; a NOTIFY of new rollups arrives over
 * /api/v1/events and updates the page without a reload; the Monitoring page lists the model.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const stamp = Date.now().toString(36);
const model = `monitoring-e2e-${stamp}`;
const MINUTE = 60_000;

async function adminApi(): Promise<APIRequestContext> {
  return request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
}

/** The e2e instance's embedded PostgreSQL (its password is kept in its data directory). */
async function database(): Promise<pg.Client> {
  const password = readFileSync(
    path.join(state.dataDir, "postgres", ".modeldeck-password"),
    "utf8",
  ).trim();
  const client = new pg.Client({
    connectionString: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${E2E_PORTS.db}/modeldeck`,
  });
  await client.connect();
  return client;
}

/** A minute of traffic as the serving process would roll it up. */
function minuteOf(
  modelId: string,
  version: number,
  minute: number,
  requests: number,
  latencies: (i: number) => number,
  errors = 0,
): RollupDelta {
  const buckets = emptyCounts();
  let sum = 0;
  let max = 0;
  for (let i = 0; i < requests; i++) {
    const ms = latencies(i);
    buckets[latencyBucketOf(ms)]!++;
    sum += ms;
    max = Math.max(max, ms);
  }
  return {
    modelId,
    version,
    versionId: null,
    minute: new Date(minute),
    requests,
    errors,
    clientErrors: 0,
    rows: requests - errors,
    latencySumMs: sum,
    latencyMaxMs: max,
    latencyBuckets: buckets,
  };
}

let modelId = "";
/** Requests seeded per version (all within the last 24 h). */
const seeded = { 1: 0, 2: 0 };
const now = Date.now();
const currentMinute = Math.floor(now / MINUTE) * MINUTE;

test.beforeAll(async () => {
  const api = await adminApi();
  const created = await api.post("/api/v1/models", {
    data: { name: model, task: "classification", description: "Monitoring e2e" },
  });
  expect(created.status(), await created.text()).toBe(201);
  modelId = (await created.json()).model.id;
  for (const bias of [0, 0.1]) {
    const onnx = buildLogisticRegressionModel({
      weights: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0, 0, 0],
      ],
      bias: [bias, 0, 0],
      classLabels: ["setosa", "versicolor", "virginica"],
    });
    const upload = await api.post(`/api/v1/models/${model}/versions`, {
      multipart: { file: { name: "m.onnx", mimeType: "application/octet-stream", buffer: onnx } },
    });
    expect(upload.status(), await upload.text()).toBe(201);
  }
  const promoted = await api.put(`/api/v1/models/${model}/aliases/production`, {
    data: { version: 1, reason: "monitoring e2e" },
  });
  expect(promoted.status(), await promoted.text()).toBe(200);
  await api.dispose();

  // 150 minutes up to (not including) the current one.
  const deltas: RollupDelta[] = [];
  for (let k = 150; k >= 1; k--) {
    const minute = currentMinute - k * MINUTE;
    if (k < 60 || k > 80) {
      const n = 40 + (k % 7) * 5;
      deltas.push(minuteOf(modelId, 1, minute, n, (i) => 2 + ((i * 37) % 20) / 10));
      seeded[1] += n;
    }
    const n2 = 10 + (k % 3);
    const spike = k === 30;
    deltas.push(
      minuteOf(
        modelId,
        2,
        minute,
        n2,
        (i) => (spike && i === 0 ? 420 : 5 + ((i * 13) % 40) / 10),
        k % 25 === 0 ? 1 : 0,
      ),
    );
    seeded[2] += n2;
  }
  const db = await database();
  try {
    for (let i = 0; i < deltas.length; i += 100) {
      const q = upsertRollupsQuery(deltas.slice(i, i + 100));
      await db.query(q.text, q.values);
    }
    // Ground truth for half of each minute's requests: v1 right 90 % of the time, v2 80 %.
    await db.query(
      `UPDATE metric_rollup SET labelled = requests / 2,
              correct = floor(requests / 2 * CASE version WHEN 1 THEN 0.9 ELSE 0.8 END)
        WHERE "modelId" = $1::uuid`,
      [modelId],
    );
  } finally {
    await db.end();
  }
});

test.use({ storageState: adminStorageState });

const count = (n: number) => n.toLocaleString("en-US");

test("the model page charts both versions, switches range in the URL and follows live updates", async ({
  page,
}) => {
  await page.goto(`/models/${model}`);
  const section = page.getByTestId("model-monitoring");
  await expect(section.getByRole("heading", { name: "Monitoring", level: 2 })).toBeVisible();
  await expect(section.getByTestId("live-status")).toHaveText("Live");
  await expect(section.getByTestId("monitoring-range")).toHaveText(/Last 24 hours · \d+m buckets/);

  // The summary rows are the legend: one per version, with the totals the rollups add up to.
  const v1 = section.getByTestId("monitoring-version-1");
  const v2 = section.getByTestId("monitoring-version-2");
  await expect(v1).toContainText(count(seeded[1]));
  await expect(v1).toContainText("production");
  await expect(v2).toContainText(count(seeded[2]));
  await expect(v1.getByRole("cell").nth(8)).toHaveText(/^0\.[89]\d* \([\d,]+ labelled\)$/); // live accuracy
  await expect(v2.getByRole("cell").nth(4)).not.toHaveText("0 %"); // its few 5xx
  for (const name of [
    "Throughput",
    "Error rate",
    "Latency p50 / p95 / p99",
    "Live accuracy",
    "Traffic share",
  ]) {
    await expect(section.getByRole("figure", { name })).toBeVisible();
  }

  // Every chart's data (the table view) has a column per version.
  const throughput = section.getByRole("figure", { name: "Throughput" });
  await throughput.getByRole("button", { name: "Table" }).click();
  const header = throughput.getByRole("row").first();
  for (const column of ["Time (UTC)", "v1", "v2", "v1 busiest minute", "v2 busiest minute"]) {
    await expect(header.getByRole("columnheader", { name: column, exact: true })).toBeVisible();
  }
  // The outage is a gap: rows exist for the buckets, v1's cells there are "—", not 0.
  await expect(throughput.getByRole("cell", { name: "—" }).first()).toBeVisible();
  await throughput.getByRole("button", { name: "Chart" }).click();

  const latency = section.getByRole("figure", { name: "Latency p50 / p95 / p99" });
  await expect(latency.getByRole("list", { name: "Legend" })).toContainText("p95 (solid)");
  await snap(page, "monitoring-model-24h-charts");
  // The tooltip lists every series at the hovered bucket, with units. The seeded 2.5 hours
  // are the right-most tenth of the day: hover inside them.
  const plot = latency.locator(".recharts-wrapper").first();
  await plot.scrollIntoViewIfNeeded();
  const box = (await plot.boundingBox())!;
  const tooltip = latency.locator(".recharts-tooltip-wrapper");
  let attempt = 0;
  await expect
    .poll(
      async () => {
        const x = box.x + box.width * [0.97, 0.95, 0.93, 0.9][attempt++ % 4]!;
        await page.mouse.move(x - 20, box.y + box.height * 0.4);
        await page.mouse.move(x, box.y + box.height * 0.5, { steps: 4 });
        return (await tooltip.textContent()) ?? "";
      },
      { timeout: 15_000 },
    )
    .toContain("v1 p95");
  await expect(tooltip).toContainText("v2 p99");
  await expect(tooltip).toContainText("UTC");
  await snap(page, "monitoring-model-24h");
  // v2's 420 ms spike survives the 5-minute buckets (each keeps its slowest request).
  await latency.getByRole("button", { name: "Table" }).click();
  await expect(latency.getByRole("cell", { name: /^[34]\d\d$/ }).first()).toBeVisible();
  await latency.getByRole("button", { name: "Chart" }).click();
  // A log axis keeps the spike and the ordinary milliseconds readable together.
  const axis = latency.getByRole("group", { name: "Latency axis" });
  await axis.getByRole("button", { name: "Log" }).click();
  await expect(axis.getByRole("button", { name: "Log" })).toHaveAttribute("aria-pressed", "true");
  await expect(latency.locator(".recharts-label")).toHaveText("latency (ms, log scale)");
  await latency.scrollIntoViewIfNeeded();
  await snap(page, "monitoring-model-24h-latency-log");
  await axis.getByRole("button", { name: "Linear" }).click();
  await expect(latency.locator(".recharts-label")).toHaveText("latency (ms)");

  // Range: 1 h, kept in the URL (shareable), fewer requests than the day.
  await section
    .getByRole("group", { name: "Time range" })
    .getByRole("button", { name: "1 h" })
    .click();
  await expect(page).toHaveURL(/[?&]range=1h/);
  await expect(section.getByTestId("monitoring-range")).toHaveText("Last hour · 1m buckets");
  await expect(v2).not.toContainText(count(seeded[2]));
  const hourText = (await v1.getByRole("cell").nth(1).textContent())!;
  const hourRequests = Number(hourText.replace(/,/g, ""));
  expect(hourRequests).toBeGreaterThan(0);
  expect(hourRequests).toBeLessThan(seeded[1]);

  // A version toggles off in every chart, and the URL says so.
  await v2.getByRole("button", { name: "Show v2 in the charts" }).click();
  await expect(page).toHaveURL(/[?&]versions=1(&|$)/);
  await expect(v2.getByRole("button", { name: "Show v2 in the charts" })).toHaveAttribute(
    "aria-pressed",
    "false",
  );
  await throughput.getByRole("button", { name: "Table" }).click();
  await expect(throughput.getByRole("columnheader", { name: "v2", exact: true })).toHaveCount(0);
  await throughput.getByRole("button", { name: "Chart" }).click();
  await v2.getByRole("button", { name: "Show v2 in the charts" }).click();
  await expect(page).not.toHaveURL(/versions=/);

  // Live: rollups for the current minute and their NOTIFY, as the serving process sends them.
  const db = await database();
  try {
    const q = upsertRollupsQuery([minuteOf(modelId, 1, currentMinute, 500, () => 3)]);
    await db.query(q.text, q.values);
    const n = metricsUpdatedNotifyQuery([modelId]);
    await db.query(n.text, n.values);
  } finally {
    await db.end();
  }
  await expect(v1.getByRole("cell").nth(1)).toHaveText(count(hourRequests + 500), {
    timeout: 15_000,
  });
  await snap(page, "monitoring-model-1h-live");

  // Custom: validated before it applies; then in the URL too.
  await section.getByRole("button", { name: "Custom" }).click();
  const custom = section.getByRole("form", { name: "Custom time range" });
  await custom.getByLabel("From (UTC)").fill("2026-12-01T10:00");
  await custom.getByLabel("To (UTC)").fill("2026-12-01T09:00");
  await custom.getByRole("button", { name: "Apply" }).click();
  await expect(custom.getByRole("alert")).toHaveText("“To” must be after “From”.");
  const from = new Date(currentMinute - 3 * 60 * MINUTE).toISOString().slice(0, 16);
  const to = new Date(currentMinute + MINUTE).toISOString().slice(0, 16);
  await custom.getByLabel("From (UTC)").fill(from);
  await custom.getByLabel("To (UTC)").fill(to);
  await custom.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/range=custom&from=[^&]+&to=/);
  await expect(v1).toContainText(count(seeded[1] + 500));

  // The shared URL opens the same view.
  await page.goto(page.url());
  await expect(section.getByTestId("monitoring-version-2")).toContainText(count(seeded[2]));
});

test("the Monitoring page lists the model with its figures and links to its charts", async ({
  page,
}) => {
  await page.goto("/monitoring?range=1h");
  const row = page.getByTestId(`overview-${model}`);
  await expect(row).toBeVisible();
  await expect(row.getByRole("img", { name: `${model} throughput` })).toBeVisible();
  await expect(row.getByRole("list", { name: `${model} versions served` })).toContainText("v1");
  await expect(row.getByRole("list", { name: `${model} versions served` })).toContainText("v2");
  await expect(row).toContainText("production");
  await snap(page, "monitoring-page");
  await row.getByRole("link", { name: model }).click();
  await expect(page).toHaveURL(new RegExp(`/models/${model}\\?range=1h`));
  await expect(page.getByTestId("monitoring-range")).toHaveText(/Last hour/);
});
