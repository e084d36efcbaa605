import { readFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { buildLogisticRegressionModel } from "../lib/onnx/build";
import { buildDemoModelVersions, DEMO_MODEL } from "../prisma/seed/demo-model";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { adminStorageState, readState } from "./support/state";

/**
 * Datasets and evaluation in Chromium: upload the iris CSV through the browser (progress bar),
 * read its column types and preview, evaluate the demo model's production version on it and
 * find the accuracy an independent implementation gives and the confusion matrix; edit a
 * model's gate; a malformed CSV shows its problems by line and creates nothing. The API side:
 * a 202 evaluation, a mismatch explained, scopes enforced.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const stamp = Date.now().toString(36);
const dataset = `iris-e2e-${stamp}`;
const broken = `broken-${stamp}`;
const gateModel = `gate-e2e-${stamp}`;
const irisCsv = readFileSync(path.resolve(import.meta.dirname, "../prisma/seed/iris.csv"));

async function adminApi(): Promise<APIRequestContext> {
  return request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
}

/** Accuracy of the demo's v2 over all 150 rows by lib/training (no onnxruntime involved). */
async function independentAccuracy(): Promise<number> {
  const { trainAccuracy, trainRows, testAccuracy, testRows } = (await buildDemoModelVersions())
    .metrics.v2;
  return (trainAccuracy * trainRows + testAccuracy * testRows) / (trainRows + testRows);
}

test.describe("as the admin", () => {
  test.use({ storageState: adminStorageState });

  test.beforeAll(async () => {
    // Other specs move production around; this one evaluates v2 (all four features).
    const api = await adminApi();
    const res = await api.put(`/api/v1/models/${DEMO_MODEL.name}/aliases/production`, {
      data: { version: 2, reason: "datasets-evaluation spec evaluates v2" },
    });
    expect(res.status(), await res.text()).toBe(200);
    await api.dispose();
  });

  test("upload the iris CSV with a progress bar, then read its columns and preview", async ({
    page,
  }) => {
    await page.goto("/datasets");
    await expect(page.getByRole("heading", { name: "Datasets", level: 1 })).toBeVisible();
    await expect(
      page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Datasets" }),
    ).toBeVisible();
    await page.getByRole("button", { name: "Upload dataset" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Dataset file").setInputFiles({
      name: "iris.csv",
      mimeType: "text/csv",
      buffer: irisCsv,
    });
    await expect(dialog.getByTestId("dataset-file-name")).toHaveText("iris.csv");
    await expect(dialog.getByLabel("Label column")).toHaveValue("species");
    for (const f of DEMO_MODEL.features.v2) {
      await expect(dialog.getByRole("checkbox", { name: f })).toBeChecked();
    }
    await dialog.getByLabel("Name").fill(dataset);
    await dialog.getByLabel("Description").fill("Fisher's iris, uploaded by the e2e suite");

    // Slow the upload so the progress bar is observable (the file is 4.5 KB).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 1536,
    });
    await dialog.getByRole("button", { name: "Upload and check" }).click();
    const bar = dialog.getByRole("progressbar", { name: "Upload progress" });
    await expect(bar).toBeVisible();
    await expect
      .poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 15_000 })
      .toBeGreaterThan(5);
    await expect(dialog.getByTestId("dataset-upload-progress")).toContainText(/KB of \d+\.\d KB/);
    await snap(page, "50-dataset-upload-progress");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    await expect(page).toHaveURL(new RegExp(`/datasets/${dataset}$`), { timeout: 30_000 });
    await expect(page.getByRole("heading", { name: dataset, level: 1 })).toBeVisible();
    await expect(page.getByTestId("dataset-row-count")).toHaveText("150 rows");
    for (const f of DEMO_MODEL.features.v2) {
      await expect(page.getByTestId(`column-${f}`).getByTestId("column-type")).toHaveText("number");
    }
    await expect(page.getByTestId("column-species").getByTestId("column-type")).toHaveText(
      "string",
    );
    await expect(page.getByTestId("column-species")).toContainText("setosa, versicolor, virginica");
    await expect(page.getByTestId("preview-row")).toHaveCount(20);
    await expect(page.getByTestId("preview-row").first()).toContainText("5.1");
    await expect(page.getByTestId("preview-row").first()).toContainText("setosa");
    await snap(page, "51-dataset-page");
  });

  test("evaluate the demo model's production version: accuracy and confusion matrix", async ({
    page,
  }) => {
    const expected = await independentAccuracy();
    await page.goto(`/models/${DEMO_MODEL.name}`);
    const form = page.getByRole("form", { name: "Run an evaluation" });
    await expect(form.getByLabel("Version", { exact: true })).toHaveValue("2");
    await form.getByLabel("Dataset", { exact: true }).selectOption(dataset);
    await form.getByRole("button", { name: "Evaluate" }).click();
    const row = page.getByTestId("evaluation-row").first();
    await expect(row).toContainText(`${dataset} v1`);
    await expect(row.getByTestId("evaluation-status")).toHaveText("succeeded", { timeout: 60_000 });
    await expect(row.getByTestId("evaluation-primary")).toHaveText(
      `${(expected * 100).toFixed(2)}%`,
    );
    await page.getByRole("heading", { name: "Evaluation", level: 2 }).scrollIntoViewIfNeeded();
    await snap(page, "52-model-evaluations");

    await row.getByRole("link", { name: "v2" }).click();
    await expect(page).toHaveURL(/\/evaluations\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId("metric-accuracy")).toHaveText(`${(expected * 100).toFixed(2)}%`);
    const cm = page.getByTestId("confusion-matrix");
    await expect(cm).toBeVisible();
    // 50 rows per species; every true-class row of the matrix adds up to 50.
    for (let i = 0; i < 3; i++) {
      let sum = 0;
      for (let j = 0; j < 3; j++) sum += Number(await cm.getByTestId(`cm-${i}-${j}`).textContent());
      expect(sum).toBe(50);
    }
    const diagonal =
      Number(await cm.getByTestId("cm-0-0").textContent()) +
      Number(await cm.getByTestId("cm-1-1").textContent()) +
      Number(await cm.getByTestId("cm-2-2").textContent());
    expect(diagonal / 150).toBeCloseTo(expected, 10);
    await expect(page.getByTestId("latency")).toContainText("p95 at batch 1");
    await expect(page.getByTestId("latency")).toContainText("rows/s");
    await snap(page, "53-evaluation-page");
  });

  test("edit a model's gate", async ({ page }) => {
    const api = await adminApi();
    expect(
      (
        await api.post("/api/v1/models", { data: { name: gateModel, task: "classification" } })
      ).status(),
    ).toBe(201);
    const onnx = buildLogisticRegressionModel({
      weights: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0, 0, 0],
      ],
      bias: [0, 0, 0],
      classLabels: DEMO_MODEL.classLabels,
    });
    const upload = await api.post(`/api/v1/models/${gateModel}/versions`, {
      multipart: { file: { name: "g.onnx", mimeType: "application/octet-stream", buffer: onnx } },
    });
    expect(upload.status(), await upload.text()).toBe(201);
    await api.dispose();

    await page.goto(`/models/${gateModel}`);
    const card = page.getByTestId("gate-card");
    await expect(card).toContainText("default");
    await card.getByRole("button", { name: "Edit gate" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Primary metric").selectOption("f1Macro");
    await dialog.getByLabel("Min. absolute improvement").fill("0.02");
    await dialog.getByLabel("Min. relative improvement (%)").fill("1.5");
    await dialog.getByLabel("Max. p95 latency increase (%)").fill("25");
    await dialog.getByLabel("Min. dataset rows").fill("100");
    await snap(page, "54-gate-editor");
    await dialog.getByRole("button", { name: "Save gate" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(card.getByTestId("gate-primary-metric")).toHaveText(
      "F1 (macro) (↑ higher is better)",
    );
    await expect(card.getByTestId("gate-improvement")).toHaveText("at least 0.02 and 1.5%");
    await expect(card.getByTestId("gate-latency")).toHaveText("may grow by at most 25%");
    await expect(card.getByTestId("gate-rows")).toHaveText("at least 100");
    await expect(card).not.toContainText("default");
    await page.reload();
    await expect(page.getByTestId("gate-card").getByTestId("gate-rows")).toHaveText("at least 100");
    await page.getByTestId("gate-card").scrollIntoViewIfNeeded();
    await snap(page, "55-gate-card");
  });

  test("a malformed CSV shows its problems with line numbers and creates nothing", async ({
    page,
  }) => {
    await page.goto("/datasets");
    await page.getByRole("button", { name: "Upload dataset" }).click();
    const dialog = page.getByRole("dialog");
    const bad = [
      "sepal_length,sepal_width,petal_length,petal_width,species",
      "5.1,3.5,1.4,0.2,setosa",
      "4.9,3.0,1.4,setosa", // ragged
      "4.7,abc,1.3,0.2,setosa", // non-numeric feature
      "4.6,3.1,1.5,0.2,", // missing label
      "5.0,3.6,1.4,0.2,setosa",
    ].join("\n");
    await dialog.getByLabel("Dataset file").setInputFiles({
      name: "broken.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(bad),
    });
    await dialog.getByLabel("Name").fill(broken);
    await dialog.getByRole("button", { name: "Upload and check" }).click();
    const problems = dialog.getByTestId("dataset-problems");
    await expect(problems).toContainText("Nothing was stored: 3 problems in the file.");
    await expect(dialog.getByTestId("dataset-problem")).toHaveText([
      "Line 3 has 4 values, but the header has 5 columns.",
      'Line 4: feature "sepal_width" is "abc", not a number.',
      'Line 5: the label "species" is missing.',
    ]);
    await snap(page, "56-dataset-problems");

    const api = await adminApi();
    const list = (await (await api.get("/api/v1/datasets")).json()) as {
      datasets: { name: string }[];
    };
    expect(list.datasets.map((d) => d.name)).not.toContain(broken);
    expect((await api.get(`/api/v1/datasets/${broken}`)).status()).toBe(404);
    await api.dispose();
  });
});

test("the API: 202 evaluation, a mismatch explained, OpenAPI, scopes", async () => {
  const admin = await adminApi();
  const token = await admin.post("/api/v1/tokens", {
    data: { name: `viewer-${stamp}`, role: "viewer" },
  });
  expect(token.status()).toBe(201);
  const viewer = await request.newContext({
    baseURL: state.baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${(await token.json()).secret}` },
  });

  const misfit = await admin.post(`/api/v1/models/${DEMO_MODEL.name}/evaluations`, {
    data: { version: 1, dataset },
  });
  expect(misfit.status()).toBe(422);
  expect((await misfit.json()).error.message).toContain(
    'Dataset maps 4 columns to input "features", but the model expects 2',
  );

  const started = await admin.post(`/api/v1/models/${DEMO_MODEL.name}/evaluations`, {
    data: { version: 2, dataset, datasetVersion: 1 },
  });
  expect(started.status(), await started.text()).toBe(202);
  const { evaluation } = (await started.json()) as { evaluation: { id: string; status: string } };
  expect(["queued", "running"]).toContain(evaluation.status);
  await expect
    .poll(
      async () =>
        (await (await viewer.get(`/api/v1/evaluations/${evaluation.id}`)).json()).evaluation.status,
      { timeout: 60_000 },
    )
    .toBe("succeeded");
  const done = (await (await viewer.get(`/api/v1/evaluations/${evaluation.id}`)).json()).evaluation;
  expect(done.metrics.accuracy).toBeCloseTo(await independentAccuracy(), 12);
  expect(done.latency.batch1.runs).toBe(150);

  const listed = await viewer.get(`/api/v1/models/${DEMO_MODEL.name}/evaluations?limit=5`);
  expect(listed.status()).toBe(200);
  expect((await listed.json()).evaluations[0].id).toBe(evaluation.id);
  const detail = await viewer.get(`/api/v1/datasets/${dataset}`);
  expect(detail.status()).toBe(200);
  expect((await detail.json()).version.preview).toHaveLength(20);

  // Viewers read; only operators and admins write.
  expect((await viewer.get(`/api/v1/models/${gateModel}/gate`)).status()).toBe(200);
  expect(
    (
      await viewer.put(`/api/v1/models/${gateModel}/gate`, { data: { primaryMetric: "accuracy" } })
    ).status(),
  ).toBe(403);
  expect(
    (
      await viewer.post(`/api/v1/models/${DEMO_MODEL.name}/evaluations`, {
        data: { version: 2, dataset },
      })
    ).status(),
  ).toBe(403);
  const upload = await viewer.post("/api/v1/datasets", {
    multipart: {
      name: "nope",
      labelColumn: "species",
      file: { name: "i.csv", mimeType: "text/csv", buffer: irisCsv },
    },
  });
  expect(upload.status()).toBe(403);
  const badGate = await admin.put(`/api/v1/models/${gateModel}/gate`, {
    data: { primaryMetric: "rmse" },
  });
  expect(badGate.status()).toBe(400);
  const unknown = await admin.put(`/api/v1/models/${gateModel}/gate`, {
    data: { primaryMetric: "accuracy", colour: "red" },
  });
  expect(unknown.status()).toBe(400);

  const doc = (await (await admin.get("/api/v1/openapi.json")).json()) as {
    paths: Record<string, unknown>;
  };
  for (const p of [
    "/api/v1/datasets",
    "/api/v1/datasets/{name}",
    "/api/v1/models/{name}/evaluations",
    "/api/v1/evaluations/{id}",
    "/api/v1/models/{name}/gate",
  ]) {
    expect(doc.paths[p], p).toBeDefined();
  }
  await viewer.dispose();
  await admin.dispose();
});
