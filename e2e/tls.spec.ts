import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { expect, test } from "./support/test";
import { freshDataDir, removeDataDir, startApp, type RunningApp } from "./support/app";
import { signInThroughUI, snap } from "./support/helpers";
import { E2E_TLS_PORTS } from "./support/state";

/**
 * `npm start` with MODELDECK_TLS_CERT / MODELDECK_TLS_KEY (a certificate generated here): the
 * sign-in journey over HTTPS. A separate instance on its own ports and data directory.
 */
test.describe.configure({ mode: "serial", timeout: 300_000 });
// Chromium cannot be told to trust one CA without a certificate database; the API checks
// below trust the generated certificate explicitly instead.
test.use({ ignoreHTTPSErrors: true });

const dataDir = freshDataDir("tls");
const certFile = path.join(dataDir, "cert.pem");
const keyFile = path.join(dataDir, "key.pem");
const adminPassword = "tls-admin-password";
let app: RunningApp | undefined;

test.beforeAll(async () => {
  execFileSync("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-days", "2", "-subj", "/CN=localhost"],
    ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    ...["-keyout", keyFile, "-out", certFile],
  ]);
  app = await startApp({
    ports: E2E_TLS_PORTS,
    dataDir,
    env: {
      MODELDECK_TLS_CERT: certFile,
      MODELDECK_TLS_KEY: keyFile,
      MODELDECK_ADMIN_PASSWORD: adminPassword,
      MODELDECK_DEMO: "off",
    },
  });
});

test.afterAll(async () => {
  await app?.stop();
  removeDataDir(dataDir);
});

function get(url: string): Promise<{ status: number; hsts: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: readFileSync(certFile), timeout: 5_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            hsts: res.headers["strict-transport-security"],
            body,
          }),
        );
      })
      .on("error", reject);
  });
}

test("web and serving answer HTTPS with the configured certificate, not plain HTTP", async () => {
  expect(app!.baseURL).toMatch(/^https:/);
  // Ready may lag "running" by a moment on a busy machine (its first database check).
  const servingSeenByWeb = async () => {
    const report = JSON.parse((await get(`${app!.baseURL}/api/health`)).body) as {
      components: { serving: { status: string; error?: string } };
    };
    return report.components.serving;
  };
  await expect.poll(servingSeenByWeb, { timeout: 30_000 }).toMatchObject({ status: "up" });
  const plain = await fetch(app!.baseURL.replace("https:", "http:") + "/livez").then(
    (r) => r.status,
    () => "no answer",
  );
  expect(plain).not.toBe(200);
});

test("an admin signs in over HTTPS and gets a Secure session cookie", async ({ page }) => {
  await page.goto(`${app!.baseURL}/sign-in`);
  await signInThroughUI(page, app!.adminEmail, adminPassword);
  expect(page.url()).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
  const session = (await page.context().cookies()).find((c) => c.name.includes("session_token"));
  expect(session).toMatchObject({ secure: true, httpOnly: true });
  expect(session!.name).toMatch(/^__Secure-/);
  // The dashboard's health of serving is fetched by web over HTTPS, trusting the certificate.
  await page.goto(`${app!.baseURL}/admin/users`);
  await expect(page.getByRole("heading", { name: "Users", level: 1 })).toBeVisible();
  await snap(page, "12-signed-in-over-https");
});
