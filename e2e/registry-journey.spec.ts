import path from "node:path";
import { expect, request, test } from "./support/test";
import { apiSession, signInThroughUI, snap } from "./support/helpers";
import { adminStorageState, readState } from "./support/state";

/**
 * The registry journey in Chromium: create a model, upload an ONNX file while watching
 * the progress bar, read its signature, upload a second version, promote, roll production back
 * from the history, and find every step (with its actor) in the history and the audit log.
 * A viewer sees no promote controls and gets 403 from the API.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const fixtures = path.resolve(import.meta.dirname, "../node_modules/@ricky0123/vad-web/dist");
const model = `vad-${Date.now().toString(36)}`;

test.describe("as the admin", () => {
  test.use({ storageState: adminStorageState });

  test("the demo model is seeded with v2 in production", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByTestId("overview-model-iris-classifier")).toContainText("v2");
    await page.goto("/models/iris-classifier");
    await expect(page.getByTestId("alias-card-production")).toContainText("v2");
    await expect(page.getByTestId("version-row-1")).toBeVisible();
    await snap(page, "20-demo-model");
  });

  test("create a model, upload a version with progress, see its signature", async ({ page }) => {
    await page.goto("/models");
    await page.getByRole("button", { name: "New model" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill(model);
    await dialog.getByRole("combobox", { name: "Task" }).click();
    await page.getByRole("option", { name: "Other" }).click();
    await dialog
      .getByLabel("Description")
      .fill("Silero voice activity detector (third-party ONNX)");
    await dialog.getByRole("button", { name: "Create model" }).click();
    await expect(page).toHaveURL(new RegExp(`/models/${model}$`));
    await expect(page.getByRole("heading", { name: model, level: 1 })).toBeVisible();

    // Slow the upload down so the progress bar is observable.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 512 * 1024,
    });
    await page.getByLabel("ONNX file").setInputFiles(path.join(fixtures, "silero_vad_legacy.onnx"));
    await expect(page.getByTestId("upload-file-name")).toHaveText("silero_vad_legacy.onnx");
    await page.getByLabel("Description").fill("legacy export");
    await page.getByRole("button", { name: "Upload version" }).click();
    const bar = page.getByRole("progressbar", { name: "Upload progress" });
    await expect(bar).toBeVisible();
    await expect
      .poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 15_000 })
      .toBeGreaterThan(10);
    await expect(page.getByTestId("upload-progress")).toContainText(/MB of 1\.7 MB · \d+%/);
    await snap(page, "21-upload-progress");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    // Lands on the version page with the signature read from the file.
    await expect(page).toHaveURL(new RegExp(`/models/${model}/versions/1$`), { timeout: 30_000 });
    const sr = page.getByTestId("signature-input-sr");
    await expect(sr).toContainText("int64");
    await expect(sr).toContainText("scalar");
    await expect(page.getByTestId("signature-input-input")).toContainText("batch");
    await expect(page.getByTestId("signature-output-output")).toContainText("float32");
    await expect(page.getByText("ai.onnx.ml", { exact: false }).first()).toBeVisible();
    await snap(page, "22-version-signature");
  });

  test("upload a second version, promote, and roll production back from the history", async ({
    page,
  }) => {
    await page.goto(`/models/${model}`);
    await page.getByLabel("ONNX file").setInputFiles(path.join(fixtures, "silero_vad_v5.onnx"));
    await page.getByRole("button", { name: "Upload version" }).click();
    await expect(page).toHaveURL(new RegExp(`/models/${model}/versions/2$`), { timeout: 30_000 });
    await page.goto(`/models/${model}`);

    const promote = async (version: number, alias: string, reason: string) => {
      await page
        .getByTestId(`version-row-${version}`)
        .getByRole("button", { name: `Actions for v${version}` })
        .click();
      await page.getByRole("menuitem", { name: `Promote to ${alias}` }).click();
      const confirm = page.getByRole("alertdialog");
      await expect(confirm).toContainText(`Promote ${model} v${version} to ${alias}?`);
      await confirm.getByLabel("Reason").fill(reason);
      await confirm.getByRole("button", { name: `Promote to ${alias}` }).click();
      await expect(confirm).toBeHidden();
      await expect(page.getByTestId(`alias-card-${alias}`)).toContainText(`v${version}`);
    };
    await promote(1, "production", "first release");
    await promote(1, "staging", "keep v1 on staging");
    await promote(2, "production", "v5 export is faster");
    await snap(page, "23-promoted");

    // History, newest first: production v1 → v2 is current; roll back via the older entry.
    const history = page.getByRole("list", { name: "Alias history" });
    await expect(history.getByTestId("history-entry")).toHaveCount(3);
    await history.getByRole("button", { name: "Roll back to v1" }).click();
    const confirm = page.getByRole("alertdialog");
    await expect(confirm).toContainText("production moves from v2 to v1");
    await confirm.getByLabel("Reason").fill("v2 misbehaves");
    await confirm.getByRole("button", { name: "Roll back" }).click();
    await expect(page.getByTestId("alias-card-production")).toContainText("v1");
    await expect(history.getByTestId("history-entry")).toHaveCount(4);
    await expect(history.getByTestId("history-entry").first()).toContainText(
      `rolled back by ${state.adminEmail}`,
    );
    await snap(page, "24-rolled-back");

    // A free-form alias, and editing the model.
    await page.getByTestId("version-row-2").getByRole("button", { name: "Actions for v2" }).click();
    await page.getByRole("menuitem", { name: "Set another alias…" }).click();
    const aliasDialog = page.getByRole("dialog");
    await aliasDialog.getByLabel("Alias").fill("challenger");
    await expect(aliasDialog).toContainText("challenger is created, pointing at v2.");
    await aliasDialog.getByRole("button", { name: "Set alias" }).click();
    await expect(page.getByTestId("alias-card-challenger")).toContainText("v2");

    await page.getByRole("button", { name: "Edit", exact: true }).click();
    const edit = page.getByRole("dialog");
    await edit.getByLabel("Description").fill("Silero VAD, edited");
    await edit.getByLabel("Tags").fill("audio, third-party");
    await edit.getByRole("button", { name: "Save" }).click();
    await expect(edit).toBeHidden();
    await expect(page.getByText("Silero VAD, edited").first()).toBeVisible();
    await expect(page.getByText("third-party", { exact: true })).toBeVisible();
  });

  test("the audit log shows every step with the actor", async ({ page }) => {
    await page.goto(`/admin/audit?actor=${encodeURIComponent(state.adminEmail)}`);
    const table = page.getByRole("table", { name: "Audit entries" });
    for (const action of ["model.create", "version.create", "alias.move", "alias.rollback"]) {
      await expect(table.getByText(action, { exact: true }).first()).toBeVisible();
    }
    const entries = await page.evaluate(async (m) => {
      const r = await fetch("/api/v1/audit?pageSize=200&resourceType=model_alias");
      const all = (await r.json()).entries as {
        action: string;
        actorLabel: string;
        resourceId: string;
      }[];
      return all.filter((e) => e.resourceId?.startsWith(`${m}/`));
    }, model);
    expect(entries.map((e) => e.action).sort()).toEqual([
      "alias.move",
      "alias.move",
      "alias.move",
      "alias.move",
      "alias.rollback",
    ]);
    for (const e of entries) expect(e.actorLabel).toBe(state.adminEmail);
    await snap(page, "25-audit-registry");
  });
});

test("a viewer sees no promote or upload controls and gets 403 from the API", async ({ page }) => {
  const admin = await apiSession(request, state.baseURL, state.adminEmail, state.adminPassword);
  const email = `viewer-reg-${Date.now().toString(36)}@example.com`;
  const created = await admin.post("/api/v1/users", {
    data: { email, name: "Registry Viewer", role: "viewer", password: "viewer-pass-123" },
  });
  expect(created.status()).toBe(201);
  await admin.dispose();

  await signInThroughUI(page, email, "viewer-pass-123");
  await page.goto(`/models/${model}`);
  await expect(page.getByTestId("alias-card-production")).toContainText("v1");
  await expect(page.getByRole("button", { name: /Actions for v/ })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Roll back to/ })).toHaveCount(0);
  await expect(page.getByRole("form", { name: "Upload a new version" })).toHaveCount(0);
  await snap(page, "26-viewer-model");
  const status = await page.evaluate(async (m) => {
    const r = await fetch(`/api/v1/models/${m}/aliases/production`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ version: 2 }),
    });
    return r.status;
  }, model);
  expect(status).toBe(403);
});
