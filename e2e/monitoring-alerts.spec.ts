import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { APIRequestContext, Page } from "@playwright/test";
import { buildLogisticRegressionModel } from "../lib/onnx/build";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { adminStorageState, readState, screenshotDir } from "./support/state";

/**
 * The monitoring and alerting journey in Chromium, against the real serving process and scheduler:
 * traffic and ground truth for two versions; the model page shows throughput, latency
 * percentiles and live accuracy for both; an alert rule on p95 latency with a threshold
 * below any real latency, created in the UI, goes pending then firing; a webhook receiver
 * started here gets a correctly signed payload; the alert is acknowledged in the UI; raising
 * the threshold lifts the cause and the alert resolves (signed webhook again).
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const stamp = Date.now().toString(36);
const model = `alerts-e2e-${stamp}`;
const ruleName = `p95 too slow ${stamp}`;
const CLASSES = ["setosa", "versicolor", "virginica"];
const REQUESTS_PER_VERSION = 40;

type Received = { headers: Record<string, string | string[] | undefined>; body: string };
const received: Received[] = [];
let receiver: Server;
let receiverUrl = "";
let secret = "";
let token = "";

async function adminApi(): Promise<APIRequestContext> {
  return request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
}

/** What a receiver does, written here independently of lib/notifications. */
function verifies(r: Received): boolean {
  const header = String(r.headers["modeldeck-signature"] ?? "");
  const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
  const v1 = /(?:^|,)v1=([0-9a-f]+)/.exec(header)?.[1];
  if (!t || !v1) return false;
  if (Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${r.body}`).digest();
  const given = Buffer.from(v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type AlertEnvelope = {
  type: string;
  data: { model?: { name?: string }; value?: number; [key: string]: unknown };
};

function deliveriesOf(type: string) {
  return received
    .map((r) => ({ r, json: JSON.parse(r.body) as AlertEnvelope }))
    .filter(({ json }) => json.type === type && json.data.model?.name === model);
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  receiver = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/modeldeck`;

  const api = await adminApi();
  const created = await api.post("/api/v1/models", {
    data: { name: model, task: "classification", description: "Alerts journey (e2e)" },
  });
  expect(created.status(), await created.text()).toBe(201);
  for (const bias of [0, 0.5]) {
    const onnx = buildLogisticRegressionModel({
      weights: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0, 0, 0],
      ],
      bias: [bias, 0, 0],
      classLabels: CLASSES,
    });
    const upload = await api.post(`/api/v1/models/${model}/versions`, {
      multipart: { file: { name: "m.onnx", mimeType: "application/octet-stream", buffer: onnx } },
    });
    expect(upload.status(), await upload.text()).toBe(201);
  }
  for (const [alias, version] of [
    ["production", 2],
    ["staging", 1],
  ] as const) {
    const moved = await api.put(`/api/v1/models/${model}/aliases/${alias}`, {
      data: { version, reason: "alerts e2e" },
    });
    expect(moved.status(), await moved.text()).toBe(200);
  }
  const hook = await api.post("/api/v1/webhooks", {
    data: {
      name: `alerts-e2e-${stamp}`,
      url: receiverUrl,
      events: ["alert.pending", "alert.firing", "alert.acknowledged", "alert.resolved"],
    },
  });
  expect(hook.status(), await hook.text()).toBe(201);
  secret = ((await hook.json()) as { secret: string }).secret;
  const tokenRes = await api.post("/api/v1/tokens", {
    data: { name: `alerts-${stamp}`, role: "viewer" },
  });
  expect(tokenRes.status(), await tokenRes.text()).toBe(201);
  token = ((await tokenRes.json()) as { secret: string }).secret;
  await api.dispose();
});

test.afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
});

test.use({ storageState: adminStorageState });

/** Served requests to one version through the serving process, then their ground truth. */
async function trafficAndFeedback(serving: APIRequestContext, version: number) {
  const ids: { id: string; label: string }[] = [];
  for (let i = 0; i < REQUESTS_PER_VERSION; i++) {
    const x = [(i % 5) / 2, ((i * 3) % 7) / 3, ((i * 5) % 11) / 4, 0];
    const res = await serving.post(
      `${state.servingURL}/v2/models/${model}/versions/${version}/infer`,
      {
        data: { inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: x }] },
      },
    );
    expect(res.status(), await res.text()).toBe(200);
    const id = res.headers()["x-request-id"];
    expect(id).toBeTruthy();
    // The truth: the largest of the first three features (what bias 0 predicts).
    ids.push({ id: id!, label: CLASSES[x.slice(0, 3).indexOf(Math.max(...x.slice(0, 3)))]! });
  }
  // The log is written in batches: feedback for an id not logged yet is kept pending and
  // joined when its row lands.
  const fb = await serving.post(`${state.baseURL}/api/v1/feedback`, {
    data: { items: ids.map((r) => ({ request_id: r.id, label: r.label })) },
  });
  expect(fb.status(), await fb.text()).toBe(200);
  const { results } = (await fb.json()) as { results: { status: string }[] };
  expect(results.filter((r) => r.status !== "applied" && r.status !== "pending")).toEqual([]);
}

async function openAlertRow(page: Page) {
  return page.getByRole("table", { name: "Open alerts" }).getByTestId(`alert-row-${ruleName}`);
}

test("traffic and feedback for two versions show on the model page", async ({ page }) => {
  const serving = await request.newContext({
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
  await expect
    .poll(
      async () =>
        (await serving.get(`${state.servingURL}/v2/models/${model}/ready`)).json() as Promise<{
          ready: boolean;
        }>,
      { timeout: 30_000 },
    )
    .toMatchObject({ ready: true });
  await trafficAndFeedback(serving, 1);
  await trafficAndFeedback(serving, 2);
  await serving.dispose();

  await page.goto(`/models/${model}?range=1h`);
  const section = page.getByTestId("model-monitoring");
  for (const v of [1, 2]) {
    const row = section.getByTestId(`monitoring-version-${v}`);
    await expect(row).toContainText(String(REQUESTS_PER_VERSION));
    await expect(row.getByRole("cell").nth(2)).not.toHaveText("—"); // throughput
    await expect(row.getByRole("cell").nth(7)).toHaveText(/\d ms$/); // p95
    await expect(row.getByRole("cell").nth(9)).toHaveText(
      new RegExp(`^[01](\\.\\d+)? \\(${REQUESTS_PER_VERSION} labelled\\)$`),
    ); // live accuracy
  }
  for (const name of ["Throughput", "Latency p50 / p95 / p99", "Live accuracy"]) {
    await expect(section.getByRole("figure", { name })).toBeVisible();
  }
  await section.screenshot({ path: path.join(screenshotDir, "70-alerts-journey-monitoring.png") });
});

test("a p95 rule created in the UI goes pending then firing, webhooks are signed, ack, then it resolves", async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto("/alerts");
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
  await page.getByRole("button", { name: "New rule" }).click();
  const dialog = page.getByRole("dialog", { name: "New alert rule" });
  await dialog.getByLabel(/^Name\*?$/).fill(ruleName);
  await dialog.getByLabel(/^Model\*?$/).click();
  await page.getByRole("option", { name: model, exact: true }).click();
  await dialog.getByLabel("Scope").click();
  await page.getByRole("option", { name: "Alias production" }).click();
  await expect(dialog.getByLabel("Metric")).toHaveText("p95 latency");
  await expect(dialog).toContainText("95th percentile of request latency");
  // Far below any real latency: the condition holds at once.
  await dialog.getByLabel("Threshold (ms)").fill("0.01");
  await dialog.getByLabel("Window (minutes)").fill("5");
  await dialog.getByLabel(/^For \(seconds\)\*?$/).fill("9");
  await dialog.getByLabel("Keep firing for (seconds)").fill("0");
  await dialog.getByLabel("Severity").click();
  await page.getByRole("option", { name: "Critical" }).click();
  await snap(page, "71-alerts-new-rule-dialog");
  await dialog.getByRole("button", { name: "Create rule" }).click();
  await expect(dialog).toBeHidden();

  const ruleRow = page.getByTestId(`rule-row-${ruleName}`);
  await expect(ruleRow).toContainText("alias production");
  await expect(ruleRow).toContainText("p95 latency > 0.01 ms");

  // Pending first (the condition must hold 9 s), then firing; the page follows live.
  const row = await openAlertRow(page);
  await expect(row.getByTestId("alert-state")).toHaveText("Pending", { timeout: 20_000 });
  await snap(page, "72-alerts-pending");
  await expect(row.getByTestId("alert-state")).toHaveText("Firing", { timeout: 30_000 });
  await expect(row).toContainText("critical");
  await expect(row.getByTestId("alert-value")).toHaveText(/ms$/);
  await snap(page, "73-alerts-firing");

  // The receiver got both transitions, signed with the webhook's secret.
  await expect.poll(() => deliveriesOf("alert.firing").length, { timeout: 20_000 }).toBe(1);
  expect(deliveriesOf("alert.pending")).toHaveLength(1);
  const firing = deliveriesOf("alert.firing")[0]!;
  expect(verifies(firing.r)).toBe(true);
  expect(firing.r.headers["modeldeck-event"]).toBe("alert.firing");
  expect(firing.json.data).toMatchObject({
    state: "firing",
    severity: "critical",
    rule: { name: ruleName, metric: "latency_p95", threshold: 0.01, scope: "alias production" },
    model: { name: model, version: 2 },
  });
  expect(firing.json.data.value).toBeGreaterThan(0.01);
  // A tampered body does not verify.
  expect(verifies({ ...firing.r, body: firing.r.body.replace("firing", "resolved") })).toBe(false);

  // Badges while it fires: the Overview and the model page header.
  await page.goto("/");
  await expect(page.getByTestId("firing-alerts-badge")).toContainText(/\d+ firing alerts?/);
  await page.goto(`/models/${model}`);
  await expect(page.getByTestId("firing-alerts-badge")).toHaveText("1 firing alert");
  await page
    .getByRole("main")
    .locator("header")
    .first()
    .screenshot({ path: path.join(screenshotDir, "74-alerts-model-badge.png") });

  // Acknowledge in the UI.
  await page.goto("/alerts");
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
  await row.getByRole("button", { name: `Acknowledge ${ruleName}` }).click();
  const ack = page.getByRole("dialog", { name: `Acknowledge “${ruleName}”` });
  await expect(ack.getByLabel("Comment")).toHaveAttribute("required"); // a comment is required
  await ack.getByLabel("Comment").fill("Looking at the slow production version");
  await ack.getByRole("button", { name: "Acknowledge" }).click();
  await expect(ack).toBeHidden();
  await expect(row.getByTestId("alert-ack")).toContainText(state.adminEmail);
  await expect(row.getByTestId("alert-ack")).toContainText("Looking at the slow");
  await expect.poll(() => deliveriesOf("alert.acknowledged").length, { timeout: 20_000 }).toBe(1);
  expect(verifies(deliveriesOf("alert.acknowledged")[0]!.r)).toBe(true);
  await snap(page, "75-alerts-acknowledged");

  // Lift the cause: raise the threshold above any latency seen; it resolves.
  await ruleRow.getByRole("button", { name: `Edit rule ${ruleName}` }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${ruleName}` });
  await edit.getByLabel("Threshold (ms)").fill("60000");
  await edit.getByRole("button", { name: "Save rule" }).click();
  await expect(edit).toBeHidden();
  await expect(row).toBeHidden({ timeout: 20_000 });
  await expect(ruleRow.getByTestId("alert-state")).toHaveText("OK");
  const timeline = page.getByTestId("alert-timeline");
  await expect(timeline.getByRole("listitem").first()).toContainText(ruleName);
  await expect(timeline.getByRole("listitem").first()).toContainText("Resolved");
  await expect.poll(() => deliveriesOf("alert.resolved").length, { timeout: 20_000 }).toBe(1);
  const resolved = deliveriesOf("alert.resolved")[0]!;
  expect(verifies(resolved.r)).toBe(true);
  expect(resolved.json.data).toMatchObject({ state: "resolved", rule: { threshold: 60000 } });
  await snap(page, "76-alerts-resolved");

  // Every transition is in the API's history, in order.
  const api = await adminApi();
  const list = (await (await api.get(`/api/v1/alerts?model=${model}`)).json()) as {
    transitions: { ruleName: string; from: string; to: string }[];
  };
  expect(
    list.transitions
      .filter((t) => t.ruleName === ruleName)
      .map((t) => `${t.from}→${t.to}`)
      .reverse(),
  ).toEqual(["inactive→pending", "pending→firing", "firing→resolved"]);
  await api.dispose();
});

test("invalid rule definitions are refused with the field named", async () => {
  const api = await adminApi();
  const res = await api.post("/api/v1/alert-rules", {
    data: {
      name: "bad",
      model,
      metric: "live_mae",
      windowSeconds: 10,
      comparison: "gt",
      threshold: 1,
      severity: "info",
    },
  });
  expect(res.status()).toBe(400);
  const body = (await res.json()) as { error: { details: { fields: { field: string }[] } } };
  expect(body.error.details.fields.map((f) => f.field)).toEqual(["windowSeconds"]);
  const wrongTask = await api.post("/api/v1/alert-rules", {
    data: {
      name: "bad",
      model,
      metric: "live_mae",
      windowSeconds: 60,
      comparison: "gt",
      threshold: 1,
      severity: "info",
    },
  });
  expect(wrongTask.status()).toBe(400);
  expect(await wrongTask.text()).toContain("live_mae needs a regression model");
  await api.dispose();
});
