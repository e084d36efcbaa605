import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext, Page } from "@playwright/test";
import { expect, request, test } from "./support/test";
import { apiSession, snap } from "./support/helpers";
import { adminStorageState, readState } from "./support/state";

/**
 * The model page's Serving card and Try it panel against the real serving process, on the
 * seeded demo model (production → v2): an answer from v2, a rollback of production to v1 that
 * the next try follows (with a request prefilled for v1's two features), the batching settings
 * edited in the UI and found in the audit log, a version whose file is damaged on disk shown as a
 * load failure while production keeps serving the previous version, and a viewer who may try
 * but not change settings.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const model = "iris-classifier";
const base = `/api/v1/models/${model}`;

async function adminApi(): Promise<APIRequestContext> {
  return request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
}

async function setProduction(version: number, reason: string) {
  const api = await adminApi();
  const res = await api.put(`${base}/aliases/production`, { data: { version, reason } });
  expect(res.status(), await res.text()).toBe(200);
  await api.dispose();
}

/** Clicks Send and returns the API's answer once the panel shows it. */
async function send(page: Page, modelName = model) {
  const tryPath = `/api/v1/models/${modelName}/try`;
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(tryPath) && r.request().method() === "POST"),
    page.getByRole("form", { name: "Try it" }).getByRole("button", { name: "Send" }).click(),
  ]);
  const answer = (await response.json()) as {
    status: number;
    servedVersion: number | null;
    requestId: string | null;
    latencyMs: number;
    body: unknown;
  };
  expect(response.status(), JSON.stringify(answer)).toBe(200);
  if (answer.requestId) {
    await expect(page.getByTestId("try-request-id")).toHaveText(answer.requestId);
  }
  return answer;
}

test.describe("as the admin", () => {
  test.use({ storageState: adminStorageState });

  test.afterAll(async () => {
    // Leave the demo as it was seeded for whatever runs next.
    await setProduction(2, "e2e: restore the demo");
    const api = await adminApi();
    const res = await api.put(`${base}/serving`, {
      data: {
        maxBatchSize: 64,
        maxQueueDelayMicros: 0,
        maxQueueLength: 2048,
        payloadSampleRate: 0.1,
      },
    });
    expect(res.status(), await res.text()).toBe(200);
    await api.dispose();
  });

  test("try production (v2), a pinned version, and the simple form", async ({ page }) => {
    await page.goto(`/models/${model}`);
    const panel = page.getByRole("form", { name: "Try it" });
    const target = panel.getByLabel("Target");
    const body = panel.getByLabel("Request body");
    await expect(target).toHaveValue("alias:production");
    await expect(panel.getByLabel("Request form")).toHaveValue("infer");
    await expect(body).toHaveValue(/"data": \[5\.1, 3\.5, 1\.4, 0\.2\]/);
    await expect(body).toHaveValue(/"shape": \[1, 4\]/);
    await expect(panel.getByTestId("try-endpoint")).toHaveText(
      `POST /v2/models/${model}/versions/production/infer`,
    );
    // The Serving card: the default settings.
    await expect(page.getByTestId("setting-max-batch-size")).toHaveText("64 rows");
    await expect(page.getByTestId("setting-payload-sample-rate")).toHaveText("10 %");
    await snap(page, "30-try-it-prefilled");

    const first = await send(page);
    expect(first).toMatchObject({ status: 200, servedVersion: 2 });
    const answer = page.getByTestId("try-answer");
    await expect(answer.getByTestId("try-status")).toHaveText("HTTP 200");
    await expect(answer).toContainText("served by version 2");
    await expect(answer.getByTestId("try-latency")).toHaveText(/^\d+\.\d ms$/);
    const response = answer.getByTestId("try-response");
    await expect(response).toContainText('"model_version": "2"');
    await expect(response).toContainText('"name": "probabilities"');
    await expect(response).toContainText('"name": "label"');
    await snap(page, "31-try-it-v2");

    // A version number as the target: its own signature (two features) fills the body.
    await target.selectOption("version:1");
    await expect(body).toHaveValue(/"data": \[5\.1, 3\.5\]/);
    await expect(panel.getByTestId("try-endpoint")).toHaveText(
      `POST /v2/models/${model}/versions/1/infer`,
    );
    expect(await send(page)).toMatchObject({ status: 200, servedVersion: 1 });
    await expect(answer).toContainText("served by version 1");

    // The simple form, rows keyed by the feature names in the signature's metadata.
    await target.selectOption("alias:production");
    await panel.getByLabel("Request form").selectOption("predict");
    await expect(body).toHaveValue(/"petal_width": 0\.2/);
    const simple = await send(page);
    expect(simple).toMatchObject({ status: 200, servedVersion: 2 });
    await expect(response).toContainText('"predictions"');
    await snap(page, "32-try-it-predict");

    // Serving's own refusals come through as they are.
    await body.fill('{"rows": [[1, 2]]}');
    const refused = await send(page);
    expect(refused.status).toBe(400);
    await expect(answer.getByTestId("try-status")).toHaveText("HTTP 400");
    await expect(answer.getByRole("alert")).toBeVisible();
    await snap(page, "33-try-it-serving-error");

    // The card lists the serving instance with production on v2 (from its heartbeat, which a
    // fresh instance sends before its first load; the card re-reads the status by itself).
    const instance = page.getByTestId("serving-instance").first();
    await expect(instance).toContainText(/production\s*v2/, { timeout: 35_000 });
  });

  test("after production is rolled back to v1, Try it is served by v1", async ({ page }) => {
    await setProduction(1, "e2e: try it follows a rollback");
    await page.goto(`/models/${model}`);
    await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
    const panel = page.getByRole("form", { name: "Try it" });
    await expect(panel.getByLabel("Target")).toHaveValue("alias:production");
    await expect(panel.getByLabel("Target").locator("option:checked")).toHaveText(
      "production → v1",
    );
    // Prefilled for the version production points at now: v1 takes two features.
    await expect(panel.getByLabel("Request body")).toHaveValue(/"data": \[5\.1, 3\.5\]/);

    // Serving hears of the move through Postgres; give it up to 5 s.
    await expect
      .poll(async () => (await send(page)).servedVersion, { timeout: 5_000, intervals: [250] })
      .toBe(1);
    await expect(page.getByTestId("try-answer")).toContainText("served by version 1");
    await expect(page.getByTestId("try-status")).toHaveText("HTTP 200");
    await snap(page, "34-try-it-after-rollback");

    await setProduction(2, "e2e: back to v2");
    await page.reload();
    // A click before React hydrates is lost (the poll's 5 s then run out on a loaded machine).
    await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
    await expect(panel.getByLabel("Request body")).toHaveValue(
      /"data": \[5\.1, 3\.5, 1\.4, 0\.2\]/,
    );
    await expect
      .poll(async () => (await send(page)).servedVersion, { timeout: 5_000, intervals: [250] })
      .toBe(2);
  });

  test("edit the batching settings; they are saved and audited", async ({ page }) => {
    await page.goto(`/models/${model}`);
    await page.getByRole("button", { name: "Edit serving settings" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByLabel("Max batch size")).toHaveValue("64");
    await dialog.getByLabel("Max batch size").fill("32");
    await dialog.getByLabel("Max queue delay (µs)").fill("500");
    await dialog.getByLabel("Max queue length").fill("1000");
    await dialog.getByLabel("Payload sample rate (%)").fill("25");
    await snap(page, "35-serving-settings-dialog");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("setting-max-batch-size")).toHaveText("32 rows");
    await expect(page.getByTestId("setting-max-queue-delay")).toHaveText("500 µs");
    await expect(page.getByTestId("setting-max-queue-length")).toHaveText("1,000 requests");
    await expect(page.getByTestId("setting-payload-sample-rate")).toHaveText("25 %");

    // Saved: a fresh page and the API agree.
    await page.reload();
    await expect(page.getByTestId("setting-max-batch-size")).toHaveText("32 rows");
    await snap(page, "36-serving-settings-saved");
    const status = await page.evaluate(
      async (path) => (await fetch(path)).json(),
      `${base}/serving`,
    );
    expect(status.settings).toEqual({
      maxBatchSize: 32,
      maxQueueDelayMicros: 500,
      maxQueueLength: 1000,
      payloadSampleRate: 0.25,
    });

    // Serving keeps answering with the new settings.
    expect(await send(page)).toMatchObject({ status: 200, servedVersion: 2 });

    await page.goto("/admin/audit?action=model.serving.update");
    const table = page.getByRole("table", { name: "Audit entries" });
    await expect(table.getByText("model.serving.update", { exact: true }).first()).toBeVisible();
    await expect(table.locator("tbody tr").first()).toContainText(state.adminEmail);
    await snap(page, "37-audit-serving-update");
    const entries = await page.evaluate(async () => {
      const r = await fetch("/api/v1/audit?action=model.serving.update&pageSize=50");
      return (await r.json()).entries as {
        actorLabel: string;
        before: Record<string, unknown>;
        after: Record<string, unknown>;
      }[];
    });
    expect(entries[0]).toMatchObject({
      actorLabel: state.adminEmail,
      before: {
        maxBatchSize: 64,
        maxQueueDelayMicros: 0,
        maxQueueLength: 2048,
        payloadSampleRate: 0.1,
      },
      after: {
        maxBatchSize: 32,
        maxQueueDelayMicros: 500,
        maxQueueLength: 1000,
        payloadSampleRate: 0.25,
      },
    });
  });
});

test.describe("a version that fails to load", () => {
  test.use({ storageState: adminStorageState });

  test("is shown on the Serving card while production keeps serving the previous one", async ({
    page,
  }) => {
    test.setTimeout(120_000);
    const api = await adminApi();
    const name = `broken-${Date.now().toString(36)}`;
    const modelBase = `/api/v1/models/${name}`;
    // Two valid models with bytes of their own: the demo's v2 with a docString letter changed.
    const demo = await (await api.get(`${base}/versions/2/artifact`)).body();
    const at = demo.indexOf("Iris species");
    expect(at).toBeGreaterThan(0);
    const variant = (letter: string) => {
      const copy = Buffer.from(demo);
      copy.write(letter, at);
      return copy;
    };
    expect(
      (await api.post("/api/v1/models", { data: { name, task: "classification" } })).status(),
    ).toBe(201);
    const storageKeys: string[] = [];
    for (const letter of ["A", "B"]) {
      const res = await api.post(`${modelBase}/versions`, {
        headers: { "content-type": "application/octet-stream" },
        data: variant(letter),
      });
      expect(res.status(), await res.text()).toBe(201);
      storageKeys.push((await res.json()).version.storageKey);
    }
    // override: the damaged version fails its pre-flight, and this test wants it promoted.
    const promote = async (version: number, override = false) => {
      const res = await api.put(`${modelBase}/aliases/production`, {
        data: { version, ...(override ? { override: true } : {}) },
      });
      expect(res.status(), await res.text()).toBe(200);
    };
    const tryProduction = async () => {
      const res = await api.post(`${modelBase}/try`, {
        data: { form: "predict", request: { rows: [[5.1, 3.5, 1.4, 0.2]] } },
      });
      expect(res.status()).toBe(200);
      return (await res.json()) as { status: number; servedVersion: number | null };
    };

    await promote(1);
    await expect
      .poll(async () => (await tryProduction()).servedVersion, { timeout: 10_000 })
      .toBe(1);

    // Damage v2's file in the artifact store, then promote it: serving cannot load it.
    const file = path.join(state.dataDir, "artifacts", storageKeys[1]!);
    chmodSync(file, 0o644);
    writeFileSync(file, "these bytes are not an ONNX model");
    await promote(2, true);
    await expect
      .poll(
        async () =>
          (
            (await (await api.get(`${modelBase}/serving`)).json()) as {
              loadFailures: { version: number }[];
            }
          ).loadFailures.map((f) => f.version),
        { timeout: 10_000 },
      )
      .toEqual([2]);
    expect(await tryProduction()).toMatchObject({ status: 200, servedVersion: 1 });

    // The card says so; which version production keeps comes from the next heartbeat.
    await expect
      .poll(
        async () => {
          await page.goto(`/models/${name}`);
          return page.getByTestId("load-failure-2").textContent();
        },
        { timeout: 40_000, intervals: [2_000] },
      )
      .toContain("production keeps serving version 1");
    const alert = page.getByTestId("load-failure-2");
    await expect(alert).toContainText(
      /Version 2 failed to load on serving-\S+: .+ · \d{4}-\d\d-\d\d/,
    );
    await expect(page.getByTestId("serving-instance").first()).toContainText(/production\s*v1/);
    await snap(page, "39-load-failure");

    // Try it on production is answered by v1, and says production now points elsewhere.
    const panel = page.getByRole("form", { name: "Try it" });
    await expect(panel.getByLabel("Target").locator("option:checked")).toHaveText(
      "production → v2",
    );
    await panel.getByLabel("Request form").selectOption("predict");
    expect(await send(page, name)).toMatchObject({ status: 200, servedVersion: 1 });
    await expect(page.getByTestId("try-answer")).toContainText("served by version 1");
    await expect(page.getByTestId("try-version-mismatch")).toContainText(
      "production was answered by version 1, not v2",
    );
    await snap(page, "39b-load-failure-try-it");
    await api.dispose();
  });
});

test("a viewer may try the model but gets 403 changing serving settings", async ({ browser }) => {
  const admin = await apiSession(request, state.baseURL, state.adminEmail, state.adminPassword);
  const email = `viewer-serving-${Date.now().toString(36)}@example.com`;
  const created = await admin.post("/api/v1/users", {
    data: { email, name: "Serving Viewer", role: "viewer", password: "viewer-pass-123" },
  });
  expect(created.status()).toBe(201);
  await admin.dispose();

  const viewer = await apiSession(request, state.baseURL, email, "viewer-pass-123");
  const put = await viewer.put(`${base}/serving`, { data: { maxBatchSize: 8 } });
  expect(put.status()).toBe(403);
  expect((await put.json()).error.code).toBe("forbidden");
  expect((await viewer.get(`${base}/serving`)).status()).toBe(200);
  const tried = await viewer.post(`${base}/try`, {
    data: { alias: "production", form: "predict", request: { rows: [[5.1, 3.5, 1.4, 0.2]] } },
  });
  expect(tried.status()).toBe(200);
  expect(await tried.json()).toMatchObject({ status: 200, servedVersion: 2 });

  // In the browser: no Edit button on the Serving card, Try it works.
  const context = await browser.newContext({ storageState: await viewer.storageState() });
  await viewer.dispose();
  const page = await context.newPage();
  await page.goto(`/models/${model}`);
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
  await expect(page.getByTestId("serving-settings")).toBeVisible();
  await expect(page.getByRole("button", { name: "Edit serving settings" })).toHaveCount(0);
  expect(await send(page)).toMatchObject({ status: 200, servedVersion: 2 });
  await snap(page, "38-viewer-try-it");
  await context.close();
});

test("the serving routes validate their bodies and are in the OpenAPI document", async () => {
  const api = await adminApi();
  const unknown = await api.put(`${base}/serving`, { data: { maxBatchSize: 8, batch: true } });
  expect(unknown.status()).toBe(400);
  expect((await unknown.json()).error.details.fields).toContainEqual({
    field: "batch",
    message: "is not a recognised field",
  });
  const tooBig = await api.put(`${base}/serving`, { data: { maxBatchSize: 100_000 } });
  expect(tooBig.status()).toBe(400);
  expect((await tooBig.json()).error.details.fields[0].field).toBe("maxBatchSize");
  expect((await api.put(`${base}/serving`, { data: {} })).status()).toBe(400);

  const both = await api.post(`${base}/try`, {
    data: { alias: "production", version: 1, form: "infer", request: {} },
  });
  expect(both.status()).toBe(400);
  expect((await both.json()).error.message).toContain("alias or version, not both");
  const badForm = await api.post(`${base}/try`, { data: { form: "explain", request: {} } });
  expect(badForm.status()).toBe(400);
  expect((await badForm.json()).error.details.fields[0].field).toBe("form");
  const missing = await api.post(`/api/v1/models/no-such-model/try`, {
    data: { form: "infer", request: {} },
  });
  expect(missing.status()).toBe(404);
  expect((await api.get(`/api/v1/models/no-such-model/serving`)).status()).toBe(404);

  const doc = await (await api.get("/api/v1/openapi.json")).json();
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([`/api/v1/models/{name}/serving`, `/api/v1/models/{name}/try`]),
  );
  expect(Object.keys(doc.paths["/api/v1/models/{name}/serving"])).toEqual(["get", "put"]);
  expect(doc.components.schemas.ServingStatus).toBeDefined();
  await api.dispose();
});
