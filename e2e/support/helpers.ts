import { expect, type APIRequestContext, type Page } from "@playwright/test";
import path from "node:path";
import { screenshotDir } from "./state";

export async function signInThroughUI(page: Page, email: string, password: string) {
  if (!page.url().includes("/sign-in")) await page.goto("/sign-in");
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // Signing in hashes the password (deliberately slow) and renders the first page of a
  // freshly started server: on a loaded 2-core CI machine that took over 10 s once.
  await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible({
    timeout: 30_000,
  });
}

/** Named screenshots kept with the test artifacts (e2e/.artifacts/screenshots). */
export async function snap(page: Page, name: string) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Signs in through the API and returns a request context carrying the session cookie. */
export async function apiSession(
  playwrightRequest: { newContext: (o: object) => Promise<APIRequestContext> },
  baseURL: string,
  email: string,
  password: string,
) {
  const ctx = await playwrightRequest.newContext({
    baseURL,
    extraHTTPHeaders: { origin: baseURL },
  });
  const res = await ctx.post("/api/auth/sign-in/email", { data: { email, password } });
  expect(res.status(), await res.text()).toBe(200);
  return ctx;
}
