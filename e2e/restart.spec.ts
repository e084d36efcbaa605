import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, request, test } from "./support/test";
import { freshDataDir, removeDataDir, startApp, type RunningApp } from "./support/app";
import { signInThroughUI, snap } from "./support/helpers";

/**
 * kill -9 is not a shutdown: whatever the start command leaves behind (a postgres whose parent
 * died, workers whose supervisor died, a stale pid file), the same command must come back
 * with the same data. A separate instance on its own ports and data directory.
 */
test.describe.configure({ mode: "serial", timeout: 300_000 });

const ports = { web: 3200, serving: 8200, db: 54600 };
const adminPassword = "restart-admin-password";
const bootstrapToken = `mdk_${"r".repeat(40)}`;
const dataDir = freshDataDir("restart");
const env = { MODELDECK_ADMIN_PASSWORD: adminPassword, MODELDECK_BOOTSTRAP_TOKEN: bootstrapToken };
let app: RunningApp | undefined;
const email = `survivor-${Date.now()}@example.com`;

test.afterAll(async () => {
  await app?.stop();
  removeDataDir(dataDir);
});

async function usersAndAudit(baseURL: string) {
  const api = await request.newContext({
    baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${bootstrapToken}` },
  });
  const users = (await (await api.get("/api/v1/users")).json()).users as { email: string }[];
  const audit = (await (await api.get("/api/v1/audit?pageSize=200")).json()).entries as {
    action: string;
  }[];
  await api.dispose();
  return { emails: users.map((u) => u.email), actions: audit.map((e) => e.action) };
}

test("data survives kill -9 of `npm start`", async () => {
  app = await startApp({ ports, dataDir, env });
  const api = await request.newContext({
    baseURL: app.baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${bootstrapToken}` },
  });
  expect(
    (
      await api.post("/api/v1/users", { data: { email, name: "Survivor", role: "viewer" } })
    ).status(),
  ).toBe(201);
  await api.dispose();
  const before = await usersAndAudit(app.baseURL);

  await app.kill9();
  app = await startApp({ ports, dataDir, env, timeoutMs: 120_000 });
  const after = await usersAndAudit(app.baseURL);
  expect(after.emails).toEqual(before.emails);
  expect(after.actions).toEqual(before.actions);
  expect(after.emails).toContain(email);
});

test("data survives kill -9 of the supervisor itself (stale postmaster, orphaned workers)", async ({
  page,
}) => {
  const before = await usersAndAudit(app!.baseURL);
  const supervisorPid = Number(readFileSync(path.join(dataDir, "run", "supervisor.pid"), "utf8"));
  process.kill(supervisorPid, "SIGKILL");
  await app!.kill9().catch(() => undefined);

  app = await startApp({ ports, dataDir, env, timeoutMs: 120_000 });
  const after = await usersAndAudit(app.baseURL);
  expect(after.emails).toEqual(before.emails);
  expect(after.actions).toEqual(before.actions);

  await page.goto(app.baseURL + "/sign-in");
  await signInThroughUI(page, "admin@modeldeck.local", adminPassword);
  await snap(page, "12-after-restart");
  const health = await (await request.newContext()).get(app.baseURL + "/api/health");
  expect(health.status()).toBe(200);
});
