import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { adminStorageState, readState } from "./support/state";

/**
 * Refresh jobs in Chromium: create an import job (an invalid cron first, whose error shows as
 * it is typed and on submit; then a valid one with its next five fire times), put a real ONNX
 * file and a broken one in the import directory, Run now, watch the run's log stream until it
 * succeeds, and find the new version with lineage "import". The API reports bad input by field.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const fixtures = path.resolve(import.meta.dirname, "../node_modules/@ricky0123/vad-web/dist");
const suffix = Date.now().toString(36);
const model = `jobs-e2e-${suffix}`;
const job = `import-${suffix}`;
const directory = `e2e-${suffix}`;

test.beforeAll(async () => {
  const api = await request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  const res = await api.post("/api/v1/models", { data: { name: model, task: "other" } });
  expect(res.status(), await res.text()).toBe(201);
  await api.dispose();
  const dir = path.join(state.dataDir, "imports", directory);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(fixtures, "silero_vad_v5.onnx"), path.join(dir, "vad-v5.onnx"));
  writeFileSync(path.join(dir, "broken.onnx"), "not an ONNX model");
});

test.describe("as the admin", () => {
  test.use({ storageState: adminStorageState });

  test("create an import job: an invalid cron is refused by field, a valid one shows its next fire times", async ({
    page,
  }) => {
    await page.goto("/jobs");
    await expect(page.getByRole("heading", { name: "Jobs", level: 1 })).toBeVisible();
    await page.getByRole("button", { name: "New job" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill(job);
    await dialog.getByRole("combobox", { name: "Model" }).click();
    await page.getByRole("option", { name: model }).click();
    await dialog.getByLabel("Time zone").fill("Europe/Berlin");
    await dialog.getByLabel("Schedule").fill("61 3 * * *");
    await dialog.getByLabel("Import directory").fill(directory);
    // Checked as it is typed…
    await expect(dialog.getByText(/Has an invalid minutes field \("61"\)/)).toBeVisible();
    await snap(page, "60-job-invalid-cron");
    // …and refused by the API on submit, next to the field.
    await dialog.getByRole("button", { name: "Create job" }).click();
    await expect(dialog.getByText(/invalid minutes field/).first()).toBeVisible();
    await expect(dialog).toBeVisible();

    await dialog.getByLabel("Schedule").fill("30 3 * * 1-5");
    const preview = dialog.getByTestId("schedule-preview");
    await expect(preview).toContainText("At 03:30, Monday through Friday");
    await expect(preview.getByRole("listitem")).toHaveCount(5);
    await expect(preview.getByRole("listitem").first()).toContainText(/03:30:00 CES?T/);
    await snap(page, "61-job-valid-cron");
    await dialog.getByRole("button", { name: "Create job" }).click();
    await expect(page).toHaveURL(new RegExp(`/jobs/${job}$`));
    await expect(page.getByRole("heading", { name: job, level: 1 })).toBeVisible();
    await expect(page.getByTestId("next-runs").getByRole("listitem")).toHaveCount(5);
    await snap(page, "62-job-page");
  });

  test("Run now: the log streams, the run succeeds, the new version has lineage import", async ({
    page,
  }) => {
    await page.goto(`/jobs/${job}`);
    await page.getByRole("button", { name: "Run now" }).click();
    await expect(page).toHaveURL(new RegExp(`/jobs/${job}/runs/[0-9a-f-]{36}$`));
    const log = page.getByRole("log", { name: "Run log" });
    await expect(log).toContainText("Scanning imports/", { timeout: 60_000 });
    await expect(page.getByTestId("run-status").first()).toHaveText("succeeded", {
      timeout: 60_000,
    });
    await expect(log).toContainText("vad-v5.onnx: registered as v1");
    await expect(log).toContainText("broken.onnx: rejected, not a loadable ONNX model");
    await expect(page.getByTestId("import-file-vad-v5.onnx")).toContainText("imported");
    await expect(page.getByTestId("import-file-broken.onnx")).toContainText("rejected");
    await snap(page, "63-run-succeeded");

    await page.getByTestId("import-file-vad-v5.onnx").getByRole("link", { name: "v1" }).click();
    await expect(page).toHaveURL(new RegExp(`/models/${model}/versions/1$`));
    const lineage = page.getByRole("region", { name: "Lineage" });
    await expect(lineage).toContainText("import");
    await expect(lineage).toContainText(`job:${job}`);
    await snap(page, "64-imported-version");

    await page.goto("/jobs");
    const row = page.getByTestId(`job-row-${job}`);
    await expect(row).toContainText("At 03:30, Monday through Friday");
    await expect(row.getByTestId("run-status")).toHaveText("succeeded");
    await snap(page, "65-jobs-list");

    // The same files again: nothing new is registered.
    await page.goto(`/jobs/${job}`);
    await page.getByRole("button", { name: "Run now" }).click();
    await expect(page.getByTestId("run-status").first()).toHaveText("succeeded", {
      timeout: 60_000,
    });
    await expect(page.getByTestId("import-file-vad-v5.onnx")).toContainText("already registered");
    await page.goto(`/jobs/${job}`);
    await expect(page.getByRole("region", { name: "Runs" }).getByTestId("run-status")).toHaveText([
      "succeeded",
      "succeeded",
    ]);
    await snap(page, "66-job-run-history");
  });

  test("the jobs API reports bad input by field and describes schedules", async () => {
    const api = await request.newContext({
      baseURL: state.baseURL,
      storageState: adminStorageState,
      extraHTTPHeaders: { origin: state.baseURL },
    });
    const base = { name: `api-${suffix}`, model, schedule: "0 3 * * *" };
    const bad = async (data: Record<string, unknown>, field: string) => {
      const res = await api.post("/api/v1/jobs", { data });
      expect(res.status(), await res.text()).toBe(400);
      const body = await res.json();
      expect(body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    };
    await bad(
      { ...base, schedule: "* * 32 * *", action: { type: "import", directory: "x" } },
      "schedule",
    );
    await bad(
      { ...base, timezone: "Nowhere/City", action: { type: "import", directory: "x" } },
      "timezone",
    );
    await bad(
      { ...base, model: "no-such-model", action: { type: "import", directory: "x" } },
      "model",
    );
    await bad({ ...base, action: { type: "import", directory: "../../etc" } }, "action.directory");
    await bad({ ...base, action: { type: "shell", command: "id" } }, "action.type");
    const described = await api.post("/api/v1/cron/describe", {
      data: { schedule: "*/15 * * * *", timezone: "UTC" },
    });
    expect(described.status()).toBe(200);
    expect(await described.json()).toMatchObject({
      valid: true,
      description: "Every 15 minutes",
      nextRuns: expect.arrayContaining([expect.any(String)]),
    });
    const list = await api.get("/api/v1/jobs");
    expect((await list.json()).jobs.map((j: { name: string }) => j.name)).toContain(job);
    // A viewer reads jobs and runs but cannot change or run them.
    const token = await api.post("/api/v1/tokens", {
      data: { name: `viewer-${suffix}`, role: "viewer" },
    });
    expect(token.status()).toBe(201);
    const viewer = await request.newContext({
      baseURL: state.baseURL,
      extraHTTPHeaders: { authorization: `Bearer ${(await token.json()).secret}` },
    });
    const jobs = (await (await viewer.get("/api/v1/jobs")).json()).jobs as {
      id: string;
      name: string;
    }[];
    const mine = jobs.find((j) => j.name === job)!;
    expect((await viewer.get(`/api/v1/jobs/${mine.id}/runs`)).status()).toBe(200);
    expect((await viewer.post(`/api/v1/jobs/${mine.id}/run`)).status()).toBe(403);
    expect(
      (await viewer.patch(`/api/v1/jobs/${mine.id}`, { data: { enabled: false } })).status(),
    ).toBe(403);
    await viewer.dispose();

    const doc = await (await api.get("/api/v1/openapi.json")).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/v1/jobs", "/api/v1/jobs/{id}/run", "/api/v1/runs/{id}"]),
    );
    await api.dispose();
  });
});
