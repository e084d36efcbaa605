import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { snap } from "./support/helpers";
import { expect, request, test } from "./support/test";
import { adminStorageState, readState } from "./support/state";

/**
 * Webhooks in Chromium: an admin creates a webhook in Settings → Webhooks (the secret is
 * shown once), presses "Send test", and a local receiver started here gets a webhook.test
 * event whose signature verifies with that secret; the delivery log shows HTTP 200 (and not the
 * receiver's reply). A bad URL, and an internal one (outbound-request policy), are refused with
 * the field named. Viewers get 403 from the API.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const stamp = Date.now().toString(36);
const name = `ops-e2e-${stamp}`;

let receiver: Server;
let receiverUrl = "";
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

test.beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      if (req.url?.endsWith("/down")) {
        res.writeHead(503, "Down For Maintenance").end("maintenance page, internal details");
        return;
      }
      received.push({ headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/modeldeck`;
});

test.afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
});

test.describe("as the admin", () => {
  test.use({ storageState: adminStorageState });

  test("create a webhook, send a test, see it delivered and signed", async ({ page }) => {
    await page.goto("/settings");
    await page.getByRole("link", { name: /Webhooks/ }).click();
    await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
    await page.locator("html[data-hydrated]").waitFor({ state: "attached" });

    // A URL that is not http(s) is refused, the field says why.
    await page.getByRole("button", { name: "New webhook" }).click();
    const dialog = page.getByRole("dialog", { name: "New webhook" });
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByLabel("Payload URL").fill("ftp://hooks.example.com/x");
    await dialog.getByRole("button", { name: "Create webhook" }).click();
    await expect(dialog.getByText(/http:\/\/ or https:\/\/ URL/)).toBeVisible();
    await snap(page, "95-webhooks-bad-url");

    // The cloud metadata address is refused by the outbound-request policy, at the field.
    await dialog.getByLabel("Payload URL").fill("http://169.254.169.254/latest/meta-data/");
    await dialog.getByRole("button", { name: "Create webhook" }).click();
    await expect(
      dialog.getByText(/outbound-request policy refuses 169\.254\.169\.254/),
    ).toContainText("link-local");
    await snap(page, "95-webhooks-outbound-refused");

    await dialog.getByLabel("Payload URL").fill(receiverUrl);
    await dialog.getByLabel(/alias\.moved/).check();
    await dialog.getByRole("button", { name: "Create webhook" }).click();
    const created = page.getByRole("dialog", { name: "Webhook created" });
    const secret = (await created.getByTestId("webhook-secret").textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    await snap(page, "96-webhooks-secret-once");
    await created.getByRole("button", { name: "Done" }).click();

    const card = page.getByTestId(`webhook-${name}`);
    await expect(card).toContainText(receiverUrl);
    await expect(card.getByRole("list", { name: "Events" })).toContainText("alias.moved");
    await expect(card.getByRole("list", { name: "Events" })).toContainText("alert.firing");
    await expect(card).toContainText("none yet");

    await card.getByRole("button", { name: "Send test" }).click();
    const row = card.getByTestId("delivery-row").first();
    await expect(row).toContainText("webhook.test");
    await expect(row.getByTestId("delivery-http")).toHaveText("200", { timeout: 20_000 });
    await expect(row).toContainText("succeeded");
    await expect(row).toContainText("1/8");
    // The outcome, never the receiver's reply.
    await expect(row).toContainText("delivered");
    await expect(row).not.toContainText('{"received":true}');

    // The receiver got one POST whose signature verifies with the secret shown once.
    expect(received).toHaveLength(1);
    const [req] = received;
    expect(req!.headers["modeldeck-event"]).toBe("webhook.test");
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(
      String(req!.headers["modeldeck-signature"]),
    )!;
    expect(v1).toBe(createHmac("sha256", secret).update(`${t}.${req!.body}`).digest("hex"));
    expect(JSON.parse(req!.body)).toMatchObject({ type: "webhook.test" });

    await row.getByRole("button", { name: "Show attempts" }).click();
    await expect(card.getByText("Attempt 1")).toBeVisible();
    await expect(card.getByText(/^Last delivery/)).toBeVisible();
    await snap(page, "97-webhooks-delivered");

    // A receiver that fails: the log shows the status and the kind of failure, not its reply.
    const failing = `down-e2e-${stamp}`;
    const api = page.request;
    const made = await api.post("/api/v1/webhooks", {
      data: { name: failing, url: `${receiverUrl}/down`, events: ["alias.moved"] },
      headers: { origin: state.baseURL },
    });
    expect(made.status(), await made.text()).toBe(201);
    await page.reload();
    const down = page.getByTestId(`webhook-${failing}`);
    await down.getByRole("button", { name: "Send test" }).click();
    const failed = down.getByTestId("delivery-row").first();
    await expect(failed.getByTestId("delivery-http")).toHaveText("503", { timeout: 20_000 });
    await expect(failed.getByTestId("delivery-error-class")).toHaveText("HTTP error");
    await expect(failed).toContainText("The receiver answered HTTP 503.");
    await expect(down).not.toContainText("maintenance");
    await expect(down).not.toContainText("Down For Maintenance");
    await failed.getByRole("button", { name: "Show attempts" }).click();
    await expect(down.getByText("Attempt 1")).toBeVisible();
    await snap(page, "97-webhooks-failed-attempt");
  });
});

test("a viewer cannot open Settings → Webhooks or call the API", async () => {
  const admin = await request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  const token = await admin.post("/api/v1/tokens", {
    data: { name: `webhooks-viewer-${stamp}`, role: "viewer" },
  });
  expect(token.status(), await token.text()).toBe(201);
  const { secret } = (await token.json()) as { secret: string };
  await admin.dispose();
  const viewer = await request.newContext({
    baseURL: state.baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${secret}` },
  });
  const list = await viewer.get("/api/v1/webhooks");
  expect(list.status()).toBe(403);
  const create = await viewer.post("/api/v1/webhooks", {
    data: { name: "x", url: receiverUrl, events: ["alias.moved"] },
  });
  expect(create.status()).toBe(403);
  await viewer.dispose();
});
