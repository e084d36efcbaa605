import { readFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { buildDemoModelVersions, DEMO_MODEL } from "../prisma/seed/demo-model";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { adminStorageState, readState } from "./support/state";

/**
 * Batch predictions in Chromium: a model of its own (the demo's v2 in production) and the
 * iris rows repeated to 3,000 as a dataset; submit from the model page, watch the progress
 * reach 100 % (the scheduler process scores it), download the CSV and read its header and
 * row count. The API side: a dataset that does not fit is refused with 400.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const stamp = Date.now().toString(36);
const model = `batch-e2e-${stamp}`;
const dataset = `iris-batch-${stamp}`;
const narrow = `iris-narrow-${stamp}`;
const REPEAT = 20;
const iris = readFileSync(path.resolve(import.meta.dirname, "../prisma/seed/iris.csv"), "utf8");
const [header, ...lines] = iris.trimEnd().split("\n");
const bigCsv = `${header}\n${Array.from({ length: REPEAT }, () => lines.join("\n")).join("\n")}\n`;
const ROWS = lines.length * REPEAT;

async function adminApi(): Promise<APIRequestContext> {
  return request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
}

test.describe("as the admin", () => {
  test.use({ storageState: adminStorageState });

  test.beforeAll(async () => {
    const api = await adminApi();
    const created = await api.post("/api/v1/models", {
      data: { name: model, task: "classification", description: "batch predictions (e2e)" },
    });
    expect(created.status(), await created.text()).toBe(201);
    const upload = await api.post(`/api/v1/models/${model}/versions`, {
      multipart: {
        file: {
          name: "iris.onnx",
          mimeType: "application/octet-stream",
          buffer: (await buildDemoModelVersions()).v2,
        },
      },
    });
    expect(upload.status(), await upload.text()).toBe(201);
    const production = await api.put(`/api/v1/models/${model}/aliases/production`, {
      data: { version: 1, reason: "batch predictions e2e" },
    });
    expect(production.status(), await production.text()).toBe(200);
    for (const [name, columns] of [
      [dataset, DEMO_MODEL.features.v2],
      [narrow, DEMO_MODEL.features.v2.slice(0, 3)],
    ] as const) {
      const ds = await api.post("/api/v1/datasets", {
        multipart: {
          name,
          labelColumn: "species",
          featureColumns: columns.join(","),
          file: { name: "iris.csv", mimeType: "text/csv", buffer: Buffer.from(bigCsv) },
        },
      });
      expect(ds.status(), await ds.text()).toBe(201);
    }
    await api.dispose();
  });

  test("submit a batch prediction from the model page, watch it reach 100 %, download the CSV", async ({
    page,
  }) => {
    await page.goto(`/models/${model}`);
    const section = page.locator("section[aria-labelledby=batch-heading]");
    await expect(section.getByRole("table", { name: "Batch predictions" })).toContainText(
      "No batch predictions yet.",
    );
    const form = section.getByRole("form", { name: "Submit a batch prediction" });
    await expect(form.getByLabel("Alias")).toHaveValue("production");
    await form.getByLabel("Dataset", { exact: true }).selectOption(dataset);
    await section.scrollIntoViewIfNeeded();
    await snap(page, "90-batch-form");
    await form.getByRole("button", { name: "Submit" }).click();

    const row = section.getByTestId("batch-row").first();
    await expect(row).toContainText(`${dataset} v1`);
    await expect(row.getByTestId("batch-progress")).toHaveText("100 %", { timeout: 60_000 });
    await expect(row.getByTestId("batch-status")).toHaveText("succeeded");
    await expect(row).toContainText(
      `${ROWS.toLocaleString("en-US")} / ${ROWS.toLocaleString("en-US")}`,
    );
    await section.scrollIntoViewIfNeeded();
    await snap(page, "91-batch-succeeded");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      row.getByTestId("batch-download").click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${model}-v1-${dataset}-v1-predictions.csv`);
    const file = await download.path();
    const csv = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(csv[0]).toBe(
      [
        "row",
        ...DEMO_MODEL.features.v2,
        "prediction",
        ...DEMO_MODEL.classLabels.map((c) => `p_${c}`),
      ].join(","),
    );
    expect(csv).toHaveLength(ROWS + 1);
    expect(csv[1]!.split(",")[0]).toBe("1");
    expect(DEMO_MODEL.classLabels).toContain(csv[1]!.split(",")[5]);
  });

  test("the API refuses a dataset that does not fit and queues nothing", async () => {
    const api = await adminApi();
    const refused = await api.post(`/api/v1/models/${model}/batch-predictions`, {
      data: { dataset: narrow },
    });
    expect(refused.status(), await refused.text()).toBe(400);
    expect((await refused.json()).error.message).toMatch(/cannot be scored by/);
    const missing = await api.post(`/api/v1/models/${model}/batch-predictions`, {
      data: { dataset, alias: "challenger" },
    });
    expect(missing.status()).toBe(404);
    const list = await api.get(`/api/v1/models/${model}/batch-predictions`);
    expect(((await list.json()) as { batchPredictions: unknown[] }).batchPredictions).toHaveLength(
      1,
    );
    await api.dispose();
  });
});
