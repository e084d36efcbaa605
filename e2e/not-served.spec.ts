import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext, Page } from "@playwright/test";
import { buildLogisticRegressionModel, encodeModel } from "../lib/onnx/build";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { adminStorageState, readState, screenshotDir } from "./support/state";

/**
 * A version serving cannot load, pointed at by production, in Chromium against the real
 * serving process: the promote dialog shows its failed pre-flight and promotes it only with
 * the explicit override; then the alias card, the models list, the Overview and system health
 * all say it is not served, on how many instances, and why. Upload refuses a model onnxruntime
 * cannot load, so the test replaces the stored file of a valid version with one whose node is
 * in an unknown operator domain.
 */
test.describe.configure({ mode: "serial" });
test.use({ storageState: adminStorageState });

const state = readState();
const model = `unservable-${Date.now().toString(36)}`;
const base = `/api/v1/models/${model}`;

const CLASSES = ["setosa", "versicolor", "virginica"];
const classifier = (bias: number) =>
  buildLogisticRegressionModel({
    weights: [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [0, 0, 0],
    ],
    bias: [bias, 0, 0],
    classLabels: CLASSES,
  });

/** Same inputs and outputs, but its one node is in a domain onnxruntime does not know. */
const unknownDomain = encodeModel({
  graph: {
    name: "logistic_regression",
    inputs: [{ name: "features", type: "float32", shape: ["batch", 4] }],
    outputs: [{ name: "probabilities", type: "float32", shape: ["batch", 3] }],
    nodes: [
      {
        op: "Classify",
        domain: "com.example.private",
        inputs: ["features"],
        outputs: ["probabilities"],
      },
    ],
  },
  opsets: [
    { domain: "", version: 17 },
    { domain: "com.example.private", version: 1 },
  ],
});

let api: APIRequestContext;

test.beforeAll(async () => {
  api = await request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
});

test.afterAll(async () => {
  // Leave the instance healthy for the specs after this one.
  await api.delete(`${base}/aliases/production`);
  await api.delete(base);
  await api.dispose();
});

async function reloadUntil(page: Page, url: string, testId: string, text: RegExp) {
  await expect
    .poll(
      async () => {
        await page.goto(url);
        const element = page.getByTestId(testId);
        return (await element.count()) > 0 ? ((await element.textContent()) ?? "") : "";
      },
      { timeout: 45_000, intervals: [1_000, 2_000] },
    )
    .toMatch(text);
}

test("a version that cannot load: pre-flight in the dialog, then not served everywhere people look", async ({
  page,
}) => {
  test.setTimeout(180_000);
  expect(
    (await api.post("/api/v1/models", { data: { name: model, task: "classification" } })).status(),
  ).toBe(201);
  const storageKeys: string[] = [];
  for (const bias of [0, 1, 2]) {
    const res = await api.post(`${base}/versions`, {
      multipart: {
        file: { name: "m.onnx", mimeType: "application/octet-stream", buffer: classifier(bias) },
      },
    });
    expect(res.status(), await res.text()).toBe(201);
    storageKeys.push((await res.json()).version.storageKey);
  }
  const first = await api.put(`${base}/aliases/production`, {
    data: { version: 1, expectedVersion: null },
  });
  expect(first.status(), await first.text()).toBe(200);
  expect((await first.json()).preflight).toMatchObject({ outcome: "passed", version: 1 });

  // v2's file is replaced by a model onnxruntime refuses.
  const file = path.join(state.dataDir, "artifacts", storageKeys[1]!);
  chmodSync(file, 0o644);
  writeFileSync(file, unknownDomain);

  // The API refuses to promote it without the override, saying why.
  const refused = await api.put(`${base}/aliases/production`, {
    data: { version: 2, expectedVersion: 1 },
  });
  expect(refused.status()).toBe(422);
  expect((await refused.json()).error).toMatchObject({
    code: "unprocessable",
    message: expect.stringMatching(/failed its pre-flight.*com\.example\.private/),
    details: { reason: "preflight_failed", preflight: { outcome: "failed", stage: "load" } },
  });

  // The promote dialog shows the failed pre-flight before anything moves.
  await page.goto(`/models/${model}`);
  await expect(page.getByTestId("alias-serving-production")).toContainText(
    /Served on 1 of 1 instance|Switching/,
  );
  await page.getByTestId("version-row-2").getByRole("button", { name: "Actions for v2" }).click();
  await page.getByRole("menuitem", { name: "Promote to production" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog).toContainText(`Promote ${model} v2 to production?`);
  const preflight = dialog.getByTestId("preflight");
  await expect(preflight).toHaveAttribute("data-outcome", "failed", { timeout: 30_000 });
  await expect(preflight).toContainText("Pre-flight failed while creating the onnxruntime session");
  await expect(preflight).toContainText(
    /onnxruntime cannot load this model: .*com\.example\.private/,
  );
  const confirm = dialog.getByRole("button", { name: "Promote to production" });
  await expect(confirm).toBeDisabled();
  await snap(page, "50-preflight-failed");
  await dialog.screenshot({ path: path.join(screenshotDir, "50-preflight-failed-dialog.png") });

  await dialog.getByLabel("Promote anyway").check();
  await dialog.getByLabel("Reason").fill("testing what a broken production looks like");
  await expect(confirm).toBeEnabled();
  await snap(page, "51-preflight-override");
  await confirm.click();
  await expect(dialog).toBeHidden();

  // The alias card: production → v2, not served, with the load error.
  await reloadUntil(
    page,
    `/models/${model}`,
    "alias-serving-production",
    /Not served on 1 of 1 instance/,
  );
  const note = page.getByTestId("alias-serving-production");
  await expect(note).toContainText(/Not served on 1 of 1 instance: .+/);
  await expect(page.getByTestId("alias-card-production")).toContainText("v2");
  await snap(page, "52-alias-not-served");
  await page
    .getByRole("region", { name: "Aliases" })
    .screenshot({ path: path.join(screenshotDir, "52-alias-not-served-card.png") });

  // The models list.
  await page.goto("/models");
  const badge = page.getByTestId(`serving-status-${model}`);
  await expect(badge).toHaveText("production v2 not served");
  await expect(badge).toHaveAttribute("title", /not served on 1 of 1 instance/);
  await snap(page, "53-models-not-served");

  // The Overview: a "needs attention" entry, and serving degraded in system health.
  await page.goto("/");
  const attention = page.getByTestId(`attention-${model}-production`);
  await expect(attention).toContainText("not served on 1 of 1 serving instance");
  await expect(attention).toContainText(/Load error: .+/);
  const serving = page.getByTestId("health-Serving");
  await expect(serving).toContainText("degraded");
  await expect(serving.getByTestId("health-not-served")).toContainText(`${model} production → v2`);
  await snap(page, "54-overview-attention");

  const health = await (await request.newContext({ baseURL: state.baseURL })).get("/api/health");
  const body = await health.json();
  expect(body.status).toBe("degraded");
  expect(body.components.serving).toMatchObject({
    status: "degraded",
    reason: expect.stringContaining(`${model} production → v2 is not served on 1 of 1`),
  });

  // The audit entry keeps the overridden pre-flight.
  const audit = await api.get(`/api/v1/audit?resourceType=model_alias&pageSize=20`);
  const entry = ((await audit.json()).entries as { resourceId: string; after: unknown }[]).find(
    (e) => e.resourceId === `${model}/production`,
  );
  expect(entry?.after).toMatchObject({
    version: 2,
    preflight: { outcome: "failed", stage: "load", overridden: true },
  });

  // The dialog sends the version it showed: a move made meanwhile is reported, not overwritten.
  await page.goto(`/models/${model}`);
  await page.getByTestId("version-row-3").getByRole("button", { name: "Actions for v3" }).click();
  await page.getByRole("menuitem", { name: "Promote to production" }).click();
  const again = page.getByRole("alertdialog");
  await expect(again).toContainText("production moves from v2 to v3.");
  await expect(again.getByTestId("preflight")).toHaveAttribute("data-outcome", "passed", {
    timeout: 30_000,
  });
  const meanwhile = await api.put(`${base}/aliases/production`, {
    data: { version: 1, expectedVersion: 2, reason: "someone else, meanwhile" },
  });
  expect(meanwhile.status(), await meanwhile.text()).toBe(200);
  await again.getByRole("button", { name: "Promote to production" }).click();
  await expect(again.getByRole("alert")).toContainText(
    `production of model ${model} points at v1, not v2 as this change expected`,
  );
  await snap(page, "55-promote-conflict");
  await again.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("alias-card-production")).toContainText("v1");
});
