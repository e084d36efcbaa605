import { test as base } from "@playwright/test";

export { expect, request } from "@playwright/test";

/**
 * Playwright's `test`, with `page.goto` waiting until the page has hydrated (see
 * components/hydration-marker.tsx), so the next click reaches a live React handler.
 */
export const test = base.extend({
  page: async ({ page }, use) => {
    const goto = page.goto.bind(page);
    page.goto = async (url, options) => {
      const response = await goto(url, options);
      await page.locator("html[data-hydrated]").waitFor({ state: "attached", timeout: 15_000 });
      return response;
    };
    await use(page);
  },
});
