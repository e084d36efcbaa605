import type { APIRequestContext } from "@playwright/test";
import { CONSTRAINED_MODELS } from "../tests/integration/serving/constrained-models";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { adminStorageState, readState } from "./support/state";

/**
 * A valid model that refuses serving's synthetic warm-up request (a reflect pad that needs a
 * longer input) is served anyway: its version page and Try it say it was served with a warm-up
 * warning and offer no example that would fail; a sample request set on the version page is
 * checked (a failing one is refused in the dialog), stored, and becomes Try it's example,
 * which serving answers.
 */
test.describe.configure({ mode: "serial" });
test.use({ storageState: adminStorageState });

const state = readState();
const pad = CONSTRAINED_MODELS[0]!;
const name = `reflect-pad-${Date.now().toString(36)}`;
const base = `/api/v1/models/${name}`;
let api: APIRequestContext;

test.beforeAll(async () => {
  api = await request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  expect((await api.post("/api/v1/models", { data: { name, task: "other" } })).status()).toBe(201);
  const upload = await api.post(`${base}/versions`, {
    headers: { "content-type": "application/octet-stream" },
    data: pad.bytes,
  });
  expect(upload.status(), await upload.text()).toBe(201);
  const promote = await api.put(`${base}/aliases/production`, { data: { version: 1 } });
  expect(promote.status(), await promote.text()).toBe(200);
  // Serving loads it (with the warning) within moments of the promotion.
  await expect
    .poll(
      async () =>
        ((await (await api.get(`${base}/serving`)).json()) as { warmUpWarnings: unknown[] })
          .warmUpWarnings.length,
      { timeout: 20_000 },
    )
    .toBe(1);
});

test.afterAll(async () => {
  await api?.dispose();
});

test("the version page and Try it show the warm-up warning instead of a failing example", async ({
  page,
}) => {
  await page.goto(`/models/${name}/versions/1`);
  const warning = page.getByTestId("warm-up-warning");
  await expect(warning).toContainText("Served with a warm-up warning");
  await expect(warning).toContainText(/synthetic request .* failed: .*Pad/);
  await expect(page.getByTestId("no-example")).toContainText("No example:");
  await snap(page, "60-version-warm-up-warning");

  await page.goto(`/models/${name}`);
  await expect(page.getByTestId("warm-up-warning-1")).toContainText(
    "Version 1 is served with a warm-up warning",
  );
  const panel = page.getByRole("form", { name: "Try it" });
  await expect(panel.getByTestId("try-no-example")).toContainText(
    "An example built from the signature would fail the same way",
  );
  await expect(panel.getByRole("textbox", { name: "Request body" })).toHaveValue("");
  await snap(page, "61-try-it-no-example");
});

test("a sample request set on the version page is checked, stored and becomes the example", async ({
  page,
}) => {
  await page.goto(`/models/${name}/versions/1`);
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
  await page.getByRole("button", { name: "Set sample request" }).click();
  const dialog = page.getByRole("dialog");
  const body = dialog.getByRole("textbox", { name: "Request body" });

  // One onnxruntime refuses: the dialog stays open with its error.
  await body.fill(JSON.stringify(pad.refused));
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toContainText("the sample request fails on it");
  await snap(page, "62-sample-request-refused");

  await body.fill(JSON.stringify(pad.request, null, 2));
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toBeHidden();
  const sample = page.getByTestId("sample-request");
  await expect(sample).toContainText("Serving warms up with this request");
  await expect(sample).toContainText('"data": [1, 2, 3, 4, 5, 6]');
  await expect(page.getByTestId("warm-up-warning")).toHaveCount(0);
  await snap(page, "63-version-sample-request");

  // Try it starts from the sample, and serving answers it.
  await page.goto(`/models/${name}`);
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
  await expect(page.getByTestId("warm-up-warning-1")).toHaveCount(0);
  const panel = page.getByRole("form", { name: "Try it" });
  await expect(panel.getByTestId("try-no-example")).toHaveCount(0);
  await expect(panel.getByRole("textbox", { name: "Request body" })).toHaveValue(
    /"data": \[1, 2, 3, 4, 5, 6\]/,
  );
  await expect
    .poll(
      async () => {
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith(`${base}/try`)),
          panel.getByRole("button", { name: "Send" }).click(),
        ]);
        return ((await response.json()) as { status: number }).status;
      },
      { timeout: 15_000, intervals: [500] },
    )
    .toBe(200);
  await expect(page.getByTestId("try-status")).toHaveText("HTTP 200");
  await expect(page.getByTestId("try-response")).toContainText('"name": "padded"');
  await snap(page, "64-try-it-sample-answered");

  const audit = await api.get("/api/v1/audit?action=version.sample_request.set&pageSize=5");
  expect(((await audit.json()) as { entries: unknown[] }).entries.length).toBeGreaterThan(0);
});
