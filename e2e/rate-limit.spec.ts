import { expect, request, test } from "./support/test";
import { snap } from "./support/helpers";
import { readState } from "./support/state";

/** Wrong passwords get 401, then 429 once the per-client limit (20 a minute in e2e) is hit. */
const state = readState();

test("repeated wrong passwords are rate-limited, in the API and in the form", async ({ page }) => {
  const api = await request.newContext({
    baseURL: state.baseURL,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  const statuses: number[] = [];
  // The e2e instance allows 20 attempts a minute per client address; earlier specs used a few.
  for (let i = 0; i < 25 && !statuses.includes(429); i++) {
    const res = await api.post("/api/auth/sign-in/email", {
      data: { email: state.adminEmail, password: `wrong-password-${i}` },
    });
    statuses.push(res.status());
    if (res.status() === 429) {
      expect(
        Number(res.headers()["x-retry-after"] ?? res.headers()["retry-after"]),
      ).toBeGreaterThan(0);
    }
  }
  expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  expect(statuses.at(-1)).toBe(429);
  // Even the right password is refused while limited: guessing cannot continue.
  const right = await api.post("/api/auth/sign-in/email", {
    data: { email: state.adminEmail, password: state.adminPassword },
  });
  expect(right.status()).toBe(429);
  await api.dispose();

  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(state.adminEmail);
  await page.getByLabel("Password").fill("still-wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form").getByRole("alert")).toContainText("Too many sign-in attempts");
  await snap(page, "11-sign-in-rate-limited");
});
