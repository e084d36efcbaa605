import { defineConfig } from "@playwright/test";
import { E2E_PORTS } from "./e2e/support/state";

/**
 * End-to-end tests drive Debian's Chromium (Playwright cannot download its own browser
 * here) against the production build started by `npm start` in global setup.
 */
const chromium = process.env.CHROMIUM_PATH ?? "/usr/lib/chromium/chromium";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [
    ["list"],
    ["html", { open: "never", outputFolder: "playwright-report" }],
    ["json", { outputFile: "reports/playwright.json" }],
  ],
  globalSetup: "./e2e/global-setup.ts",
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORTS.web}`,
    screenshot: "on",
    trace: "retain-on-failure",
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: chromium,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    { name: "journeys", testIgnore: [/rate-limit\.spec/, /restart\.spec/] },
    // Sign-in rate limiting is per client address; run it after everything that signs in.
    { name: "rate-limit", testMatch: /rate-limit\.spec/, dependencies: ["journeys"] },
    // Starts a second, separate instance (own ports and data) to kill -9 and restart it.
    { name: "restart", testMatch: /restart\.spec/, dependencies: ["rate-limit"] },
  ],
});
