import { expect, request, test } from "./support/test";
import { signInThroughUI, snap } from "./support/helpers";
import { readState } from "./support/state";

/**
 * Sign-in limits (defaults: 5 wrong passwords lock an account from an address; 20 sign-in
 * requests a minute per address in e2e). Everything here comes from one address (loopback),
 * like colleagues behind one office NAT.
 */
const state = readState();

test("a guessed account is locked, its neighbours still sign in, and an admin unlocks it", async ({
  page,
}) => {
  const guessed = `guessed-${Date.now()}@example.com`;
  const api = await request.newContext({
    baseURL: state.baseURL,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  const statuses: number[] = [];
  for (let i = 0; i < 10 && !statuses.includes(429); i++) {
    const res = await api.post("/api/auth/sign-in/email", {
      data: { email: guessed, password: `wrong-password-${i}` },
    });
    statuses.push(res.status());
    if (res.status() === 429) {
      expect(Number(res.headers()["retry-after"])).toBeGreaterThan(60);
      expect((await res.json()).error.code).toBe("rate_limited");
    }
  }
  expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  // Another account from the same address is not locked out.
  const admin = await api.post("/api/auth/sign-in/email", {
    data: { email: state.adminEmail, password: state.adminPassword },
  });
  expect(admin.status()).toBe(200);
  await api.dispose();

  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(guessed);
  await page.getByLabel("Password").fill("still-wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form").getByRole("alert")).toContainText("Too many sign-in attempts");
  await snap(page, "11-sign-in-locked");

  await signInThroughUI(page, state.adminEmail, state.adminPassword);
  await page.goto("/admin/users");
  const locks = page.getByRole("table", { name: "Sign-in locks" });
  const row = locks.getByTestId(`sign-in-lock-${guessed}`);
  await expect(row).toContainText("account, from one address");
  await expect(row).toContainText("5");
  await snap(page, "11b-sign-in-locks-table");
  await row.getByRole("button", { name: "Unlock" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Unlock" }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByText("No sign-in is locked.")).toBeVisible();

  const audit = await page.request.get("/api/v1/audit?action=sign_in.");
  const actions = ((await audit.json()).entries as { action: string }[]).map((e) => e.action);
  expect(actions).toEqual(expect.arrayContaining(["sign_in.lock", "sign_in.unlock"]));
});

test("a flood of sign-in requests from one address hits the per-address ceiling", async () => {
  const api = await request.newContext({
    baseURL: state.baseURL,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  const statuses: number[] = [];
  // Different emails, so no account lock: only the per-address request ceiling (20/60) stops it.
  for (let i = 0; i < 25 && !statuses.includes(429); i++) {
    const res = await api.post("/api/auth/sign-in/email", {
      data: { email: `flood-${i}@example.com`, password: "wrong-password" },
    });
    statuses.push(res.status());
  }
  expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  expect(statuses.at(-1)).toBe(429);
  await api.dispose();
});
