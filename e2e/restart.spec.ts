import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import pg from "pg";
import path from "node:path";
import { expect, request, test } from "./support/test";
import { freshDataDir, removeDataDir, startApp, type RunningApp } from "./support/app";
import { signInThroughUI, snap } from "./support/helpers";
import { E2E_RESTART_PORTS } from "./support/state";

/**
 * kill -9 is not a shutdown: whatever the start command leaves behind (a postgres whose parent
 * died, workers whose supervisor died, a stale pid file), the same command must come back
 * with the same data. A separate instance on its own ports and data directory.
 */
test.describe.configure({ mode: "serial", timeout: 300_000 });

const ports = E2E_RESTART_PORTS;
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

test("runs against an external PostgreSQL given by DATABASE_URL", async ({ page }) => {
  // The instance above stays up; its PostgreSQL plays the external server here.
  const password = readFileSync(
    path.join(dataDir, "postgres", ".modeldeck-password"),
    "utf8",
  ).trim();
  const server = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${ports.db}`;
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query("DROP DATABASE IF EXISTS modeldeck_external");
  await admin.query("CREATE DATABASE modeldeck_external");
  await admin.end();

  const externalDir = freshDataDir("external");
  const external = await startApp({
    ports: { web: 3250, serving: 8250, db: 54650 },
    dataDir: externalDir,
    env: { DATABASE_URL: `${server}/modeldeck_external`, MODELDECK_ADMIN_PASSWORD: adminPassword },
  });
  try {
    expect(external.output()).toContain("external (DATABASE_URL)");
    // No embedded cluster was created for it.
    expect(existsSync(path.join(externalDir, "postgres"))).toBe(false);
    const check = new pg.Client({ connectionString: `${server}/modeldeck_external` });
    await check.connect();
    const migrations = await check.query(
      "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL",
    );
    const users = await check.query(`SELECT email, role FROM "user"`);
    await check.end();
    expect(migrations.rowCount).toBeGreaterThan(0);
    expect(users.rows).toEqual([{ email: "admin@modeldeck.local", role: "admin" }]);

    await page.goto(external.baseURL + "/sign-in");
    await signInThroughUI(page, "admin@modeldeck.local", adminPassword);
    await page.goto(external.baseURL + "/settings");
    await expect(page.getByText("PostgreSQL (DATABASE_URL)")).toBeVisible();
  } finally {
    await external.stop();
    removeDataDir(externalDir);
  }
});

test("Ctrl-C stops every process and the database cleanly", async () => {
  const running = app!;
  app = undefined;
  await running.stop();
  const portOpen = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
  for (const port of [ports.web, ports.serving, ports.db])
    expect(await portOpen(port), `port ${port}`).toBe(false);
  // A clean PostgreSQL shutdown removes its pid file; the supervisor removes its own.
  expect(existsSync(path.join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
  expect(existsSync(path.join(dataDir, "run", "supervisor.pid"))).toBe(false);
  const log = running.output();
  expect(log).toContain('"msg":"stopped"');
});
