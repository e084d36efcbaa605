import { readFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext, Page } from "@playwright/test";
import { buildLogisticRegressionModel } from "../lib/onnx/build";
import { trainLogisticRegression } from "../lib/training/logistic";
import { DEMO_MODEL, parseIris } from "../prisma/seed/demo-model";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { adminStorageState, readState, screenshotDir } from "./support/state";

/**
 * The refresh loop end to end, in Chromium, as the admin: a classifier whose
 * production v1 is deliberately weak (it always answers "setosa") and whose v2 is trained on
 * all four iris features; the iris CSV uploaded through the browser; a gate; an
 * evaluate-and-promote job created in the UI on a yearly cron (it never fires during the test)
 * and Run now: v2 is promoted, the run page shows every gate criterion with its value and
 * pass/fail, and the Try it panel is then served by version 2. Then a retrain job with the
 * built-in trainer: Run now registers v3, whose lineage names v2 as its parent.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const stamp = Date.now().toString(36);
const model = `refresh-e2e-${stamp}`;
const dataset = `iris-refresh-${stamp}`;
const evaluateJob = `evaluate-${stamp}`;
const retrainJob = `retrain-${stamp}`;
const features = DEMO_MODEL.features.v2;
const irisCsv = readFileSync(path.resolve(import.meta.dirname, "../prisma/seed/iris.csv"));

/** v1: zero weights and a bias for class 0, so it answers "setosa" for every row (1/3). */
function weakModel(): Buffer {
  return buildLogisticRegressionModel({
    weights: features.map(() => [0, 0, 0]),
    bias: [0.1, 0, 0],
    featureNames: features,
    classLabels: DEMO_MODEL.classLabels,
    docString: "Deliberately weak: always setosa",
  });
}

/** v2: multinomial logistic regression on all four features of the iris CSV. */
function goodModel(): Buffer {
  const rows = parseIris(irisCsv.toString("utf8"));
  const trained = trainLogisticRegression(
    rows.map((r) => features.map((f) => r.features[f]!)),
    rows.map((r) => r.label),
    { classes: 3, epochs: 150, seed: 7 },
  );
  expect(trained.trainAccuracy).toBeGreaterThan(0.9);
  return buildLogisticRegressionModel({
    weights: trained.weights,
    bias: trained.bias,
    featureNames: features,
    classLabels: DEMO_MODEL.classLabels,
  });
}

async function adminApi(): Promise<APIRequestContext> {
  return request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
}

/** Creates a job in the New job dialog of /jobs and lands on its page. */
async function createJobInUI(
  page: Page,
  name: string,
  fill: (dialog: ReturnType<Page["getByRole"]>) => Promise<void>,
  shot: string,
) {
  await page.goto("/jobs");
  await page.getByRole("button", { name: "New job" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("combobox", { name: "Model" }).click();
  await page.getByRole("option", { name: model, exact: true }).click();
  await dialog.getByLabel("Time zone").fill("UTC");
  // Once a year, at midnight on 1 January: never during the test.
  await dialog.getByLabel("Schedule").fill("0 0 1 1 *");
  await expect(dialog.getByTestId("schedule-preview")).toContainText("January");
  await fill(dialog);
  await snap(page, shot);
  await dialog.getByRole("button", { name: "Create job" }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${name}$`));
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
}

/** Run now on the job's page; waits for the run to succeed (showing its error otherwise). */
async function runNow(page: Page, name: string) {
  await page.goto(`/jobs/${name}`);
  await page.getByRole("button", { name: "Run now" }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${name}/runs/[0-9a-f-]{36}$`));
  const status = page.getByTestId("run-status").first();
  await expect(status).toHaveText(/succeeded|failed/, { timeout: 120_000 });
  if ((await status.textContent()) !== "succeeded") {
    const error = await page.getByTestId("run-error").textContent();
    throw new Error(`run of ${name} failed: ${error}`);
  }
}

test.describe("as the admin", () => {
  test.use({ storageState: adminStorageState });

  test.beforeAll(async () => {
    const api = await adminApi();
    const created = await api.post("/api/v1/models", {
      data: { name: model, task: "classification", description: "refresh journey (e2e)" },
    });
    expect(created.status(), await created.text()).toBe(201);
    for (const [file, bytes] of [
      ["weak.onnx", weakModel()],
      ["good.onnx", goodModel()],
    ] as const) {
      const upload = await api.post(`/api/v1/models/${model}/versions`, {
        multipart: { file: { name: file, mimeType: "application/octet-stream", buffer: bytes } },
      });
      expect(upload.status(), await upload.text()).toBe(201);
    }
    const production = await api.put(`/api/v1/models/${model}/aliases/production`, {
      data: { version: 1, reason: "refresh journey: the weak version starts in production" },
    });
    expect(production.status(), await production.text()).toBe(200);
    await api.dispose();
  });

  test("upload the iris dataset in the browser and set the model's gate", async ({ page }) => {
    await page.goto(`/models/${model}`);
    await expect(page.getByTestId("alias-card-production")).toContainText("v1");
    const chart = page.getByRole("figure", { name: /Accuracy per version over time/ });
    await expect(chart.getByRole("heading", { name: "No evaluations yet" })).toBeVisible();
    await snap(page, "80-refresh-model-v1-production");

    await page.goto("/datasets");
    await page.getByRole("button", { name: "Upload dataset" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Dataset file").setInputFiles({
      name: "iris.csv",
      mimeType: "text/csv",
      buffer: irisCsv,
    });
    await expect(dialog.getByLabel("Label column")).toHaveValue("species");
    for (const f of features) await expect(dialog.getByRole("checkbox", { name: f })).toBeChecked();
    await dialog.getByLabel("Name").fill(dataset);
    await snap(page, "81-refresh-dataset-upload");
    await dialog.getByRole("button", { name: "Upload and check" }).click();
    await expect(page).toHaveURL(new RegExp(`/datasets/${dataset}$`), { timeout: 30_000 });
    await expect(page.getByTestId("dataset-row-count")).toHaveText("150 rows");
    await snap(page, "82-refresh-dataset-page");

    await page.goto(`/models/${model}`);
    const card = page.getByTestId("gate-card");
    await card.getByRole("button", { name: "Edit gate" }).click();
    const gate = page.getByRole("dialog");
    await gate.getByLabel("Primary metric").selectOption("accuracy");
    await gate.getByLabel("Min. absolute improvement").fill("0.1");
    await gate.getByLabel("Min. relative improvement (%)").fill("5");
    await gate.getByLabel("Min. dataset rows").fill("100");
    await snap(page, "83-refresh-gate-editor");
    await gate.getByRole("button", { name: "Save gate" }).click();
    await expect(gate).toBeHidden();
    await expect(card.getByTestId("gate-improvement")).toHaveText("at least 0.1 and 5%");
    await expect(card.getByTestId("gate-rows")).toHaveText("at least 100");
  });

  test("an evaluate-and-promote job, Run now: v2 is promoted with every gate criterion shown", async ({
    page,
  }) => {
    test.setTimeout(180_000);
    await createJobInUI(
      page,
      evaluateJob,
      async (dialog) => {
        await dialog.getByRole("combobox", { name: "Action" }).click();
        await page.getByRole("option", { name: "Evaluate and promote" }).click();
        await dialog.getByRole("combobox", { name: "Dataset" }).click();
        await page.getByRole("option", { name: dataset, exact: true }).click();
        await expect(dialog.getByRole("combobox", { name: "Candidates" })).toHaveText(
          "Versions newer than production",
        );
      },
      "84-refresh-evaluate-job-form",
    );
    await snap(page, "85-refresh-evaluate-job-page");

    await runNow(page, evaluateJob);
    const decision = page.getByTestId("run-decision");
    await expect(decision).toContainText("promoted");
    await expect(decision).toContainText("production →");
    const candidate = decision.getByTestId("candidate-2");
    await expect(candidate).toContainText("passes the gate");
    // Each criterion of the gate with its value, and pass.
    for (const name of [
      "minDatasetRows",
      "primaryMetric",
      "absoluteImprovement",
      "relativeImprovement",
    ]) {
      const row = candidate.getByTestId(`criterion-${name}`);
      await expect(row).toBeVisible();
      await expect(row).toHaveAttribute("data-pass", "true");
      await expect(row).toContainText(/\d/);
    }
    await expect(candidate.getByTestId("criterion-minDatasetRows")).toContainText(
      "150 rows ≥ 100 required",
    );
    await expect(candidate.getByTestId("criterion-primaryMetric")).toContainText(/Accuracy 0\.9/);
    // Production v1 answers setosa for every row: 50 of 150.
    await expect(candidate.getByTestId("criterion-absoluteImprovement")).toContainText(
      /production v1 \(0\.3333 → 0\.9\d*\); at least 0\.1 required/,
    );
    await snap(page, "86-refresh-decision");

    await page.goto(`/models/${model}`);
    await expect(page.getByTestId("alias-card-production")).toContainText("v2");
    await expect(page.getByTestId("alias-card-production")).toContainText(`job:${evaluateJob}`);
    await snap(page, "87-refresh-model-v2-production");

    // The chart of the gate's primary metric: the job's two evaluations, v2 ringed as production.
    const api = await adminApi();
    const listed = (await (await api.get(`/api/v1/models/${model}/evaluations`)).json()) as {
      evaluations: { version: number; status: string; metrics: { accuracy: number } | null }[];
    };
    await api.dispose();
    const accuracy = (v: number) => {
      const e = listed.evaluations.find((x) => x.version === v && x.status === "succeeded");
      return `${(e!.metrics!.accuracy * 100).toFixed(2)}%`;
    };
    expect(accuracy(1)).toBe("33.33%");
    const chart = page.getByRole("figure", { name: /Accuracy per version over time/ });
    await chart.scrollIntoViewIfNeeded();
    await expect(chart.getByRole("heading", { level: 3 })).toHaveText(
      "Accuracy per version over time (↑ higher is better)",
    );
    await expect(chart).toHaveAccessibleDescription(/2 versions on 1 dataset version/);
    const legend = chart.getByRole("list", { name: "Legend" });
    await expect(legend.getByRole("listitem")).toHaveText([`${dataset} v1`, "production (v2)"]);
    // Each point's version label, drawn in the chart, oldest first.
    await expect(chart.getByTestId("metric-history-label")).toHaveText(["v1", "v2"]);
    // The same data as a table (read by screen readers; shown by the Table toggle), newest first.
    const points = chart.getByTestId("metric-history-point");
    await expect(points).toHaveCount(2);
    await expect(points.nth(0)).toContainText("v2production");
    await expect(points.nth(0)).toContainText(`${dataset} v1`);
    await expect(points.nth(0)).toContainText(accuracy(2));
    await expect(points.nth(1)).toContainText("v1");
    await expect(points.nth(1)).toContainText("33.33%");
    // Hovering v2's point shows its tooltip.
    const label = (await chart.getByTestId("metric-history-label").nth(1).boundingBox())!;
    await page.mouse.move(label.x + label.width / 2, label.y + label.height / 2 + 12);
    const tooltip = chart.locator(".recharts-tooltip-wrapper");
    await expect(tooltip).toContainText("v2 · production");
    await expect(tooltip).toContainText(`Accuracy${accuracy(2)}`);
    await expect(tooltip).toContainText(`Dataset${dataset} v1`);
    await expect(tooltip).toContainText(/Finished\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    await chart.screenshot({ path: path.join(screenshotDir, "87a-refresh-metric-history.png") });
    await chart.getByRole("button", { name: "Table" }).click();
    await expect(chart.getByRole("button", { name: "Table" })).toHaveAttribute(
      "aria-pressed",
      "true",
    );
    await expect(points.nth(0)).toBeVisible();
    await chart.screenshot({
      path: path.join(screenshotDir, "87b-refresh-metric-history-table.png"),
    });
  });

  test("the Try it panel is then served by version 2", async ({ page }) => {
    await page.goto(`/models/${model}`);
    const panel = page.getByRole("form", { name: "Try it" });
    await expect(panel.getByLabel("Target")).toHaveValue("alias:production");
    const tryPath = `/api/v1/models/${model}/try`;
    // Serving swaps on the promotion's notification; allow it a few seconds.
    await expect
      .poll(
        async () => {
          const [response] = await Promise.all([
            page.waitForResponse(
              (r) => r.url().endsWith(tryPath) && r.request().method() === "POST",
            ),
            panel.getByRole("button", { name: "Send" }).click(),
          ]);
          const answer = (await response.json()) as { status: number; servedVersion: number };
          return `${answer.status} v${answer.servedVersion}`;
        },
        { timeout: 8_000, intervals: [250, 500, 1000] },
      )
      .toBe("200 v2");
    await expect(page.getByTestId("try-answer")).toContainText("served by version 2");
    await snap(page, "88-refresh-try-it-v2");
  });

  test("a retrain job with the built-in trainer, Run now: v3 whose lineage names v2", async ({
    page,
  }) => {
    test.setTimeout(180_000);
    await createJobInUI(
      page,
      retrainJob,
      async (dialog) => {
        await dialog.getByRole("combobox", { name: "Action" }).click();
        await page.getByRole("option", { name: "Retrain" }).click();
        await dialog.getByRole("combobox", { name: "Dataset" }).click();
        await page.getByRole("option", { name: dataset, exact: true }).click();
        await expect(dialog.getByRole("combobox", { name: "Trainer" })).toHaveText(/Built-in/);
        await expect(dialog.getByLabel("Time limit (seconds)")).toHaveCount(0);
      },
      "89-refresh-retrain-job-form",
    );

    await runNow(page, retrainJob);
    const log = page.getByRole("log", { name: "Run log" });
    await expect(log).toContainText(
      `Training multinomial logistic regression on dataset ${dataset} v1: 150 rows`,
    );
    await expect(log).toContainText("Registered the trained model as v3");
    await expect(
      page.getByText(/built-in logistic regression, 150 rows, trained in/),
    ).toBeVisible();
    await snap(page, "90-refresh-retrain-run");

    await page.getByRole("link", { name: "v3", exact: true }).first().click();
    await expect(page).toHaveURL(new RegExp(`/models/${model}/versions/3$`));
    const lineage = page.getByRole("region", { name: "Lineage" });
    await expect(lineage).toContainText("retrain");
    await expect(lineage).toContainText(`job:${retrainJob}`);
    await expect(lineage.getByRole("link", { name: "v2", exact: true })).toBeVisible();
    await snap(page, "91-refresh-retrained-version");
  });
});
