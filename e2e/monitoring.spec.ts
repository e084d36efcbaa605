import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { APIRequestContext, Locator } from "@playwright/test";
import { buildLogisticRegressionModel } from "../lib/onnx/build";
import { emptyCounts, latencyBucketOf } from "../lib/monitoring/histogram";
import { upsertRollupsQuery, type RollupDelta } from "../lib/monitoring/rollups";
import { metricsUpdatedNotifyQuery } from "../lib/events/channels";
import { formatShareOf } from "../components/monitoring/format";
import type { MetricsSeriesView } from "../lib/api/contracts/monitoring";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { E2E_PORTS, adminStorageState, readState, screenshotDir } from "./support/state";

/**
 * Monitoring in Chromium: a model with two versions and 2.5 hours of per-minute rollups
 * written with the serving process's own upsert (v1 with a 20-minute outage, v2 slower, with
 * a latency spike and some 5xx, both with ground truth). The model page shows both versions
 * in every chart, with the figures the rollups add up to; the range switches in the URL; a
 * version toggles off; a custom range is validated; a NOTIFY of new rollups arrives over
 * /api/v1/events and updates the page without a reload; the Monitoring page lists the model.
 * Then real 4xx requests to the demo model through the serving process: the model page, the
 * Monitoring page and the Overview show client errors apart from server errors.
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

/** The cell of `row` in the column headed `header` (found by its text, not its place). */
async function cellUnder(table: Locator, row: Locator, header: string): Promise<Locator> {
  const headers = (await table.getByRole("columnheader").allTextContents()).map((t) =>
    t.replace(/\s+/g, " ").trim(),
  );
  const index = headers.indexOf(header);
  expect(index, `${header} in ${headers.join(" | ")}`).toBeGreaterThanOrEqual(0);
  return row.getByRole("cell").nth(index);
}

test("the model page charts both versions, switches range in the URL and follows live updates", async ({
  page,
}) => {
  test.slow(); // a long journey: on a busy 2-core machine it takes more than 90 s
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
  await expect(v1.getByRole("cell").nth(9)).toHaveText(/^0\.[89]\d* \([\d,]+ labelled\)$/); // live accuracy
  // Client errors (4xx) and server errors (5xx) apart: v2 has a few 5xx and no 4xx.
  await expect(v2.getByRole("cell").nth(4)).toHaveText("0 % (0)");
  await expect(v2.getByRole("cell").nth(5)).toHaveText(/^0\.\d+ % \([1-9]\d*\)$/);
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

test("client errors sent to the demo model show apart on the model page, the Monitoring page and the Overview", async ({
  page,
}) => {
  test.slow();
  const demo = "iris-classifier";
  const api = await adminApi();
  const created = await api.post("/api/v1/tokens", {
    data: { name: `client-errors-${stamp}`, role: "viewer" },
  });
  expect(created.status(), await created.text()).toBe(201);
  const serving = await request.newContext({
    extraHTTPHeaders: { authorization: `Bearer ${(await created.json()).secret}` },
  });
  // The production version and its input, from the serving process's own metadata.
  let meta: { versions: string[]; inputs: { name: string; shape: number[] }[] } | null = null;
  await expect(async () => {
    const res = await serving.get(`${state.servingURL}/v2/models/${demo}`);
    expect(res.status(), await res.text()).toBe(200);
    meta = await res.json();
  }).toPass({ timeout: 30_000 });
  const version = Number(meta!.versions[0]);
  const input = meta!.inputs[0]!;
  const features = input.shape[1]!;
  const infer = `${state.servingURL}/v2/models/${demo}/versions/${version}/infer`;
  const good = {
    inputs: [
      { name: input.name, shape: [1, features], datatype: "FP32", data: Array(features).fill(5) },
    ],
  };

  // The figures before, so other specs' traffic to the demo model does not matter. One fixed
  // range for every read (and the model page), so that nothing leaves it meanwhile.
  const fromMs = Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE;
  const toMs = fromMs + 70 * MINUTE;
  const hourOfMetrics = async () => {
    const q = new URLSearchParams({
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
    });
    const res = await api.get(`/api/v1/models/${demo}/metrics?${q}`);
    expect(res.status(), await res.text()).toBe(200);
    return (await res.json()) as MetricsSeriesView;
  };
  const summaryOf = (m: MetricsSeriesView) =>
    m.versions.find((v) => v.version === version)?.summary;
  const before = await hourOfMetrics();
  const sent = { ok: 6, malformed: 4, unknownInput: 3, unknownAlias: 2 };
  const post = async (url: string, data: unknown, status: number) => {
    const res = await serving.post(url, {
      data: typeof data === "string" ? data : JSON.stringify(data),
      headers: { "content-type": "application/json" },
    });
    expect(res.status(), await res.text()).toBe(status);
  };
  for (let i = 0; i < sent.ok; i++) await post(infer, good, 200);
  for (let i = 0; i < sent.malformed; i++) await post(infer, '{"inputs": [', 400);
  for (let i = 0; i < sent.unknownInput; i++) {
    await post(infer, { inputs: [{ ...good.inputs[0], name: "petals" }] }, 400);
  }
  for (let i = 0; i < sent.unknownAlias; i++) {
    await post(`${state.servingURL}/v2/models/${demo}/versions/canary-${stamp}/infer`, good, 404);
  }
  await serving.dispose();

  // Logged in batches: wait until the rollups have them all.
  const clientErrorsOf = (m: MetricsSeriesView) => summaryOf(m)?.clientErrors ?? 0;
  let after = before;
  await expect
    .poll(
      async () => {
        after = await hourOfMetrics();
        return [
          clientErrorsOf(after) - clientErrorsOf(before),
          (after.unresolved?.summary.requests ?? 0) - (before.unresolved?.summary.requests ?? 0),
        ];
      },
      { timeout: 20_000 },
    )
    .toEqual([sent.malformed + sent.unknownInput, sent.unknownAlias]);
  const summary = summaryOf(after)!;

  // The model page: the version's client errors as share and count, the server errors
  // apart, the requests no version answered on their own row.
  const custom = new URLSearchParams({
    range: "custom",
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
  });
  await page.goto(`/models/${demo}?${custom}`);
  const section = page.getByTestId("model-monitoring");
  const row = section.getByTestId(`monitoring-version-${version}`);
  const headers = section
    .getByRole("table", { name: "Versions in range" })
    .getByRole("columnheader");
  await expect(headers.nth(4)).toHaveText("Client errors (4xx)");
  await expect(headers.nth(5)).toHaveText("Server errors (5xx)");
  await expect(row.getByRole("cell").nth(1)).toHaveText(count(summary.requests));
  await expect(row.getByRole("cell").nth(4)).toHaveText(
    formatShareOf(summary.clientErrors, summary.requests),
  );
  await expect(row.getByRole("cell").nth(4)).not.toHaveText(/^0 %/);
  await expect(row.getByRole("cell").nth(5)).toHaveText(
    formatShareOf(summary.errors, summary.requests),
  );
  const unresolved = section.getByTestId("monitoring-unresolved");
  await expect(unresolved).toContainText("No version");
  await expect(unresolved.getByRole("cell").nth(4)).toHaveText(
    formatShareOf(after.unresolved!.summary.clientErrors, after.unresolved!.summary.requests),
  );
  // The error chart: a client and a server line per version, and the unresolved 4xx.
  const chart = section.getByRole("figure", { name: "Error rate: client 4xx / server 5xx" });
  await expect(chart.getByRole("list", { name: "Legend" })).toContainText(
    "client errors 4xx (dashed)",
  );
  await expect(chart.getByRole("list", { name: "Legend" })).toContainText(
    "server errors 5xx (solid)",
  );
  await section.getByRole("table", { name: "Versions in range" }).scrollIntoViewIfNeeded();
  await section.screenshot({
    path: path.join(screenshotDir, "monitoring-client-errors-model-page.png"),
  });
  await chart.getByRole("button", { name: "Table" }).click();
  for (const column of [`v${version} 4xx`, `v${version} 5xx`, "no version 4xx"]) {
    await expect(chart.getByRole("columnheader", { name: column, exact: true })).toBeVisible();
  }
  await chart.getByRole("button", { name: "Chart" }).click();

  // The Monitoring page and the Overview: the model's client errors (the unresolved ones
  // included: they were addressed to the model), apart from its server errors. Other specs'
  // traffic to the demo model counts too, so at least what this test sent.
  const atLeast = summary.clientErrors + after.unresolved!.summary.clientErrors;
  const countIn = async (cell: Locator) =>
    Number(/\(([\d,]+)\)$/.exec((await cell.textContent()) ?? "")?.[1]?.replace(/,/g, ""));
  await page.goto("/monitoring?range=1h");
  const models = page.getByRole("table", { name: "Models with traffic" });
  const line = page.getByTestId(`overview-${demo}`);
  const monitoringClient = await cellUnder(models, line, "Client errors (4xx)");
  expect(await countIn(monitoringClient)).toBeGreaterThanOrEqual(atLeast);
  await expect(monitoringClient).toHaveText(/^\d+(\.\d+)? % \([\d,]+\)$/);
  await expect(await cellUnder(models, line, "Server errors (5xx)")).toHaveText(
    /^\d+(\.\d+)? % \([\d,]+\)$/,
  );
  await expect(line.getByRole("list", { name: `${demo} versions served` })).toContainText(
    "no version",
  );
  await snap(page, "monitoring-client-errors-monitoring-page");

  await page.goto("/");
  const inProduction = page.getByRole("table", { name: "Models in production" });
  const overview = page.getByTestId(`overview-model-${demo}`);
  const errors = await cellUnder(inProduction, overview, "Errors, last hour");
  await expect(errors).toHaveText(/^4xx \d+(\.\d+)? % \([\d,]+\)\s*5xx \d+(\.\d+)? % \([\d,]+\)$/);
  const overviewClient = errors.locator("div").first();
  await expect(overviewClient).toHaveAttribute(
    "title",
    /^Client errors \(4xx\) of [\d,]+ requests in the last hour$/,
  );
  expect(await countIn(overviewClient)).toBeGreaterThanOrEqual(atLeast);
  // The column is in view, not cut off by the table's scroll area.
  const [cellBox, areaBox] = await Promise.all([
    errors.boundingBox(),
    inProduction.locator("..").boundingBox(), // the table's scrolling wrapper
  ]);
  expect(cellBox!.x + cellBox!.width).toBeLessThanOrEqual(areaBox!.x + areaBox!.width);
  await snap(page, "monitoring-client-errors-overview");

  // An alert rule on them: the form offers client and server error rates by name (not the
  // old error_rate, which meant 5xx); the rule fires on the 4xx alone.
  const ruleName = `demo 4xx ${stamp}`;
  await page.goto("/alerts");
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
  await page.getByRole("button", { name: "New rule" }).click();
  const dialog = page.getByRole("dialog", { name: "New alert rule" });
  await dialog.getByLabel(/^Name\*?$/).fill(ruleName);
  await dialog.getByLabel(/^Model\*?$/).click();
  await page.getByRole("option", { name: demo, exact: true }).click();
  await dialog.getByLabel("Metric").click();
  const metrics = page.getByRole("option");
  await expect(metrics.filter({ hasText: "Client error rate (4xx)" })).toHaveCount(1);
  await expect(metrics.filter({ hasText: "Server error rate (5xx)" })).toHaveCount(1);
  await expect(metrics.filter({ hasText: /^Error rate/ })).toHaveCount(0);
  await page.getByRole("option", { name: "Client error rate (4xx)" }).click();
  await expect(dialog).toContainText("Share of requests answered with a 4xx status");
  await dialog.getByLabel("Threshold (fraction)").fill("0.01");
  await dialog.getByLabel("Window (minutes)").fill("5");
  await dialog.getByLabel(/^For \(seconds\)\*?$/).fill("0");
  await snap(page, "monitoring-client-errors-rule-dialog");
  await dialog.getByRole("button", { name: "Create rule" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId(`rule-row-${ruleName}`)).toContainText(
    "Client error rate (4xx) > 0.01",
  );
  const alert = page
    .getByRole("table", { name: "Open alerts" })
    .getByTestId(`alert-row-${ruleName}`);
  await expect(alert.getByTestId("alert-state")).toHaveText("Firing", { timeout: 45_000 });
  await snap(page, "monitoring-client-errors-alert-firing");
  // Gone again, so that no other test sees a firing alert it did not make.
  const rules = (await (await api.get("/api/v1/alert-rules")).json()) as {
    rules: { id: string; name: string }[];
  };
  const id = rules.rules.find((r) => r.name === ruleName)!.id;
  expect((await api.delete(`/api/v1/alert-rules/${id}`)).status()).toBe(200);
  await api.dispose();
});
