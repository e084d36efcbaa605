import { expect, request, test } from "./support/test";
import { signInThroughUI, snap } from "./support/helpers";
import { adminStorageState, readState } from "./support/state";

/**
 * The first-day journey, in one browser session: an admin signs in with the password
 * printed at first start, creates an operator and a viewer, creates an API token, uses it,
 * revokes it, and finds every step in the audit log. The viewer then sees no admin pages.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const stamp = Date.now().toString(36);
const operator = {
  name: "Olivia Operator",
  email: `olivia-${stamp}@example.com`,
  password: "operator-pass-123",
};
const viewer = { name: "Victor Viewer", email: `victor-${stamp}@example.com`, password: "" };
let tokenSecret = "";
const tokenName = `ci-pipeline-${stamp}`;

test("admin signs in with the printed password", async ({ page }) => {
  await signInThroughUI(page, state.adminEmail, state.adminPassword);
  await expect(
    page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }),
  ).toBeVisible();
  await expect(page.getByLabel("Process health")).toContainText("Database");
  await snap(page, "01-overview-admin");
});

test("a wrong password is refused with a clear message", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(state.adminEmail);
  await page.getByLabel("Password").fill("not-the-password");
  const response = page.waitForResponse("**/api/auth/sign-in/email");
  await page.getByRole("button", { name: "Sign in" }).click();
  expect((await response).status()).toBe(401);
  await expect(page.locator("form").getByRole("alert")).toContainText("Wrong email or password.");
  await expect(page).toHaveURL(/\/sign-in/);
  await snap(page, "00-sign-in-wrong-password");
});

test.describe("as the admin", () => {
  test.use({ storageState: adminStorageState });

  test("admin creates an operator and a viewer", async ({ page }) => {
    await page.goto("/admin/users");

    await page.getByRole("button", { name: "New user" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill(operator.name);
    await dialog.getByLabel("Email").fill(operator.email);
    await dialog.getByRole("combobox", { name: "Role" }).click();
    await page.getByRole("option", { name: /^Operator/ }).click();
    await dialog.getByLabel("Password").fill(operator.password);
    await snap(page, "02-create-user-dialog");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await expect(dialog.getByRole("heading", { name: "User created" })).toBeVisible();
    await dialog.getByRole("button", { name: "Done" }).click();

    await page.getByRole("button", { name: "New user" }).click();
    await dialog.getByLabel("Name").fill(viewer.name);
    await dialog.getByLabel("Email").fill(viewer.email);
    // Role left at its default (viewer); password left empty → generated and shown once.
    await dialog.getByRole("button", { name: "Create user" }).click();
    viewer.password = (await dialog.getByTestId("generated-password").textContent())!.trim();
    expect(viewer.password).toHaveLength(20);
    await snap(page, "03-generated-password");
    await dialog.getByRole("button", { name: "Done" }).click();

    await expect(dialog).toBeHidden();
    await expect(page.getByTestId(`user-row-${operator.email}`)).toContainText("operator");
    await expect(page.getByTestId(`user-row-${viewer.email}`)).toContainText("viewer");
    await snap(page, "04-users");
  });

  test("admin creates an API token, calls the API and serving with it, then revokes it", async ({
    page,
  }) => {
    await page.goto("/settings/tokens");
    await page.getByRole("button", { name: "New token" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill(tokenName);
    await dialog.getByRole("combobox", { name: "Role" }).click();
    await page.getByRole("option", { name: /^Operator/ }).click();
    await dialog.getByRole("button", { name: "Create token" }).click();
    tokenSecret = (await dialog.getByTestId("token-secret").textContent())!.trim();
    expect(tokenSecret).toMatch(/^mdk_[A-Za-z0-9_-]{43}$/);
    await snap(page, "05-token-created");
    await dialog.getByRole("button", { name: "Done" }).click();

    const api = await request.newContext({ baseURL: state.baseURL });
    const auth = { authorization: `Bearer ${tokenSecret}` };
    const me = await api.get("/api/v1/me", { headers: auth });
    expect(me.status()).toBe(200);
    expect(await me.json()).toMatchObject({ kind: "token", name: tokenName, role: "operator" });
    // An operator token may not manage users.
    expect((await api.get("/api/v1/users", { headers: auth })).status()).toBe(403);
    // The serving process accepts the same token.
    expect((await api.get(`${state.servingURL}/v2`, { headers: auth })).status()).toBe(200);
    expect((await api.get(`${state.servingURL}/v2`)).status()).toBe(401);

    await page.reload();
    const row = page.getByTestId(`token-row-${tokenName}`);
    await expect(row).toContainText("active");
    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Revoke token" }).click();
    await expect(row).toContainText("revoked");
    await snap(page, "06-token-revoked");

    const after = await api.get("/api/v1/me", { headers: auth });
    expect(after.status()).toBe(401);
    expect((await after.json()).error.code).toBe("unauthenticated");
    // Serving caches token checks for at most 5 s.
    await expect
      .poll(async () => (await api.get(`${state.servingURL}/v2`, { headers: auth })).status(), {
        timeout: 10_000,
      })
      .toBe(401);
    await api.dispose();
  });
});

test("a viewer sees no admin pages and gets 403 from admin APIs", async ({ page }) => {
  await signInThroughUI(page, viewer.email, viewer.password);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Models" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Users" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  await snap(page, "07-overview-viewer");

  for (const path of ["/admin/users", "/admin/audit", "/settings/tokens"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(403);
    await expect(
      page.getByRole("heading", { name: "You don't have access to this page" }),
    ).toBeVisible();
  }
  await snap(page, "08-viewer-forbidden");

  // Same session, through the API (the browser's cookie, same-origin fetch).
  const status = await page.evaluate(async () => (await fetch("/api/v1/users")).status);
  expect(status).toBe(403);
  const create = await page.evaluate(async () => {
    const r = await fetch("/api/v1/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "sneaky", role: "admin" }),
    });
    return { status: r.status, body: await r.json() };
  });
  expect(create.status).toBe(403);
  expect(create.body.error.code).toBe("forbidden");
});

test("the operator changes their password in Settings and signs in with the new one", async ({
  page,
}) => {
  await signInThroughUI(page, operator.email, operator.password);
  await page.goto("/settings");
  const form = page.getByRole("form", { name: "Change password" });
  await form.getByLabel("Current password").fill("not-my-password");
  await form.getByRole("textbox", { name: "New password", exact: true }).fill("operator-pass-456");
  await form.getByLabel("Repeat new password").fill("operator-pass-456");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form).toContainText("Is not your current password.");

  await form.getByLabel("Current password").fill(operator.password);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByRole("alert").or(form.getByText("Password changed"))).toContainText(
    "Password changed",
  );
  await snap(page, "14b-password-changed");
  operator.password = "operator-pass-456";

  const fresh = await request.newContext({
    baseURL: state.baseURL,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  const old = await fresh.post("/api/auth/sign-in/email", {
    data: { email: operator.email, password: "operator-pass-123" },
  });
  expect(old.status()).toBe(401);
  const now = await fresh.post("/api/auth/sign-in/email", {
    data: { email: operator.email, password: operator.password },
  });
  expect(now.status()).toBe(200);
  await fresh.dispose();
});

test("a viewer can sign out, after which pages ask for sign-in again", async ({ page }) => {
  await signInThroughUI(page, viewer.email, viewer.password);
  const signOut = page.getByRole("menuitem", { name: "Sign out" });
  // The menu opens only once the page has hydrated; retry the click until it does.
  await expect(async () => {
    await page.getByRole("button", { name: /Victor Viewer/ }).click();
    await expect(signOut).toBeVisible({ timeout: 1_000 });
  }).toPass();
  await snap(page, "07b-user-menu");
  await signOut.click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fsettings/);
});

test.describe("as the admin, disabling", () => {
  test.use({ storageState: adminStorageState });

  test("disabling the viewer ends their session and refuses sign-in", async ({ page, browser }) => {
    // The viewer signs in elsewhere first.
    const viewerContext = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const viewerPage = await viewerContext.newPage();
    await signInThroughUI(viewerPage, viewer.email, viewer.password);

    await page.goto("/admin/users");
    const row = page.getByTestId(`user-row-${viewer.email}`);
    await row.getByRole("button", { name: "Disable" }).click();
    const confirm = page.getByRole("alertdialog");
    await expect(confirm).toContainText("signed out everywhere");
    await snap(page, "08b-disable-confirm");
    await confirm.getByRole("button", { name: "Disable user" }).click();
    await expect(row).toContainText("disabled");

    // Their open session is gone: the next page load asks for sign-in.
    await viewerPage.goto("/settings");
    await expect(viewerPage).toHaveURL(/\/sign-in/);
    await viewerPage.locator("html[data-hydrated]").waitFor({ state: "attached" });
    await viewerPage.getByLabel("Email").fill(viewer.email);
    await viewerPage.getByLabel("Password").fill(viewer.password);
    await viewerPage.getByRole("button", { name: "Sign in" }).click();
    await expect(viewerPage.locator("form").getByRole("alert")).toContainText("disabled");
    await viewerContext.close();

    // Enabling restores access with the same password.
    await row.getByRole("button", { name: "Enable" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Enable user" }).click();
    await expect(row).toContainText("active");
  });

  test("API docs and settings render for the admin", async ({ page }) => {
    await page.goto("/docs/api");
    await expect(page.getByRole("heading", { name: "API docs", level: 1 })).toBeVisible();
    await page.getByText("/api/v1/tokens").first().click();
    await expect(
      page
        .getByText("Requires the `tokens:read` permission.")
        .or(page.getByText("tokens:read"))
        .first(),
    ).toBeVisible();
    await snap(page, "13-api-docs");
    await page.goto("/settings");
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
    await snap(page, "14-settings");
  });

  test("the shell works on a phone-sized screen", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/admin/users");
    await page.getByRole("button", { name: "Open navigation menu" }).click();
    await expect(page.getByRole("link", { name: "Audit log" })).toBeVisible();
    await snap(page, "15-mobile-nav");
    await page.getByRole("link", { name: "Audit log" }).click();
    await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();
    await snap(page, "16-mobile-audit");
  });
});

test.describe("as the admin, afterwards", () => {
  test.use({ storageState: adminStorageState });

  test("the audit log shows every step with its actor", async ({ page }) => {
    await page.goto("/admin/audit");
    const table = page.getByRole("table", { name: "Audit entries" });
    for (const text of ["user.create", "token.create", "token.revoke"]) {
      await expect(table.getByText(text).first()).toBeVisible();
    }
    await expect(table).toContainText(state.adminEmail);
    await snap(page, "09-audit-log");

    // Filtering by action narrows the list to that action only.
    await page.getByLabel("Action").selectOption("token.revoke");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page).toHaveURL(/action=token\.revoke/);
    const rows = table.locator("tbody tr");
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText(state.adminEmail);
    await expect(rows.first().getByRole("definition").filter({ hasText: "revoked" })).toContainText(
      /active\s*→\s*revoked/,
    );
    await snap(page, "10-audit-filtered");

    // Every change of this run is there, attributed to the admin (checked through the API).
    const entries = await page.evaluate(async () => {
      const r = await fetch("/api/v1/audit?pageSize=200");
      return (await r.json()).entries as {
        action: string;
        actorLabel: string;
        after: { email?: string; name?: string } | null;
      }[];
    });
    const created = entries.filter((e) => e.action === "user.create").map((e) => e.after?.email);
    expect(created).toEqual(expect.arrayContaining([operator.email, viewer.email]));
    for (const e of entries.filter(
      (x) => x.action.startsWith("token.") && x.after?.name === tokenName,
    )) {
      expect(e.actorLabel).toBe(state.adminEmail);
    }
    expect(
      entries
        .filter((e) => e.after?.name === tokenName)
        .map((e) => e.action)
        .sort(),
    ).toEqual(["token.create", "token.revoke"]);
  });
});
