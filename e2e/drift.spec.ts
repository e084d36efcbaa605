import { readFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { buildDemoModelVersions, DEMO_MODEL } from "../prisma/seed/demo-model";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { adminStorageState, readState, screenshotDir } from "./support/state";

/**
 * Drift in Chromium against the real serving process: a model of its own (the demo's v2 in
 * production, every request's inputs sampled), evaluated on the iris dataset (the
 * reference), then served every iris row once with petal_length shifted by +2.5 cm. The
 * model page's drift table must show petal_length drifted and the other three features
 * stable (their served distribution is exactly the reference's), and the API must refuse a
 * bad window with a JSON 400.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const stamp = Date.now().toString(36);
const model = `drift-e2e-${stamp}`;
const dataset = `iris-drift-${stamp}`;
const FEATURES = DEMO_MODEL.features.v2;
const SHIFTED = "petal_length";
const iris = readFileSync(path.resolve(import.meta.dirname, "../prisma/seed/iris.csv"), "utf8");
const [header, ...lines] = iris.trimEnd().split("\n");
const columns = header!.split(",");
const rows = lines.map((l) => {
  const cells = l.split(",");
  return FEATURES.map((f) => Number(cells[columns.indexOf(f)]));
});

async function adminApi(): Promise<APIRequestContext> {
  return request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
}

test.describe("as the admin", () => {
  test.use({ storageState: adminStorageState });
  let token: string;

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    const api = await adminApi();
    const created = await api.post("/api/v1/models", {
      data: { name: model, task: "classification", description: "drift (e2e)" },
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
    // Sample every request's inputs (before production moves, so serving loads it with this).
    const sampling = await api.put(`/api/v1/models/${model}/serving`, {
      data: { payloadSampleRate: 1 },
    });
    expect(sampling.status(), await sampling.text()).toBe(200);
    const production = await api.put(`/api/v1/models/${model}/aliases/production`, {
      data: { version: 1, reason: "drift e2e" },
    });
    expect(production.status(), await production.text()).toBe(200);
    const ds = await api.post("/api/v1/datasets", {
      multipart: {
        name: dataset,
        labelColumn: "species",
        featureColumns: FEATURES.join(","),
        file: { name: "iris.csv", mimeType: "text/csv", buffer: Buffer.from(iris) },
      },
    });
    expect(ds.status(), await ds.text()).toBe(201);
    const started = await api.post(`/api/v1/models/${model}/evaluations`, {
      data: { version: 1, dataset },
    });
    expect(started.status(), await started.text()).toBe(202);
    const { evaluation } = (await started.json()) as { evaluation: { id: string } };
    await expect
      .poll(
        async () =>
          (
            (await (await api.get(`/api/v1/evaluations/${evaluation.id}`)).json()) as {
              evaluation: { status: string };
            }
          ).evaluation.status,
        { timeout: 60_000 },
      )
      .toBe("succeeded");
    const tokenRes = await api.post("/api/v1/tokens", {
      data: { name: `drift-${stamp}`, role: "viewer" },
    });
    expect(tokenRes.status(), await tokenRes.text()).toBe(201);
    token = ((await tokenRes.json()) as { secret: string }).secret;
    await api.dispose();
  });

  test("shifted petal_length is drifted in the model page's drift table", async ({ page }) => {
    const serving = await request.newContext({
      extraHTTPHeaders: { authorization: `Bearer ${token}` },
    });
    // Serving loads the new model on the registry's notification; wait until it answers.
    await expect
      .poll(
        async () =>
          (await serving.get(`${state.servingURL}/v2/models/${model}/ready`)).json() as Promise<{
            ready: boolean;
          }>,
        { timeout: 30_000 },
      )
      .toMatchObject({ ready: true });
    // Every iris row once, 5 rows per request, half through /infer (tensors) and half through
    // /predict (rows): petal_length + 2.5, the rest exactly the reference's values.
    const shift = FEATURES.indexOf(SHIFTED);
    const served = rows.map((r) => r.map((v, j) => (j === shift ? v + 2.5 : v)));
    for (let i = 0, k = 0; i < served.length; i += 5, k++) {
      const chunk = served.slice(i, i + 5);
      const res =
        k % 2 === 0
          ? await serving.post(`${state.servingURL}/v2/models/${model}/infer`, {
              data: {
                inputs: [
                  {
                    name: "features",
                    shape: [chunk.length, 4],
                    datatype: "FP32",
                    data: chunk.flat(),
                  },
                ],
              },
            })
          : await serving.post(`${state.servingURL}/v2/models/${model}/predict`, {
              data: { rows: chunk },
            });
      expect(res.status(), await res.text()).toBe(200);
    }
    await serving.dispose();

    await page.goto(`/models/${model}`);
    const section = page.getByTestId("drift-section");
    await section.scrollIntoViewIfNeeded();
    // The log is written in batches off the response path: re-measure until all rows are in.
    await expect(async () => {
      await section.getByRole("button", { name: "Measure again" }).click();
      await expect(section.getByTestId("drift-summary")).toContainText("150 rows", {
        timeout: 2_000,
      });
    }).toPass({ timeout: 30_000 });

    const table = section.getByRole("region", { name: "Drift per feature" });
    await expect(table.getByTestId(`drift-row-${SHIFTED}`)).toHaveAttribute(
      "data-status",
      "drifted",
    );
    await expect(table.getByTestId(`drift-row-${SHIFTED}`)).toContainText("drifted");
    for (const f of FEATURES.filter((f) => f !== SHIFTED)) {
      await expect(table.getByTestId(`drift-row-${f}`)).toHaveAttribute("data-status", "ok");
    }
    await expect(section.getByTestId("drift-summary")).toContainText("25%");
    await expect(section.getByTestId("drift-summary")).toContainText("1 of 4 features drifted");
    await expect(section).toContainText(`${dataset} v1`);
    await expect(section).toContainText("production's version");
    await section.screenshot({ path: path.join(screenshotDir, "60-drift-section.png") });
    await snap(page, "61-drift-model-page");

    // The version picker narrows the scope to one version: the same requests (v1 answered all).
    await section.getByLabel("Versions").selectOption("1");
    await expect(section.getByTestId("drift-summary")).toContainText("(v1)");
    await expect(table.getByTestId(`drift-row-${SHIFTED}`)).toHaveAttribute(
      "data-status",
      "drifted",
    );
  });

  test("the API refuses a bad window and an unknown model with JSON errors", async () => {
    const api = await adminApi();
    const bad = await api.get(`/api/v1/models/${model}/drift?window=90s`);
    expect(bad.status()).toBe(400);
    const body = (await bad.json()) as {
      error: { code: string; details: { fields: { field: string }[] } };
    };
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details.fields.map((f) => f.field)).toEqual(["query.window"]);
    const unknown = await api.get(`/api/v1/models/no-such-model-${stamp}/drift`);
    expect(unknown.status()).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");
    await api.dispose();
  });
});
