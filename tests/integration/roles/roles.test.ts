/**
 * One role per process: `modeldeck migrate | web | serving | scheduler` as real processes
 * against a real PostgreSQL, checked through their probes (no container runtime involved).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findFreePort } from "../../../lib/db/embedded-postgres";
import { expectedMigrations } from "../../../lib/db/migration-status";
import { createLogger } from "../../../lib/log";
import { ensureBuilt } from "../../../workers/supervisor/build";
import { adminQuery, createEmptyDatabase } from "../helpers/db";
import { killLeftovers, probe, repoRoot, startRole, until } from "./harness";

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "modeldeck-roles-"));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
afterEach(killLeftovers);

describe("modeldeck <role>", () => {
  it("refuses to start a role without DATABASE_URL, saying why", async () => {
    const proc = startRole("serving", { DATABASE_URL: undefined });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/DATABASE_URL is not set/);
    const unknown = startRole("frontend", {});
    expect(await unknown.exited).toBe(2);
    expect(unknown.output()).toMatch(/usage: modeldeck <web\|serving\|scheduler\|migrate\|start>/);
  });

  it("two migrate processes at once on a fresh database both succeed, and migrate once", async () => {
    const db = await createEmptyDatabase("roles_migrate");
    try {
      const env = {
        DATABASE_URL: db.url,
        MODELDECK_DATA_DIR: dataDir,
        MODELDECK_DEMO: "on",
        MODELDECK_ADMIN_PASSWORD: undefined,
      };
      const runs = [startRole("migrate", env), startRole("migrate", env)];
      const codes = await Promise.all(runs.map((r) => r.exited));
      const outputs = runs.map((r) => r.output()).join("\n----\n");
      expect(codes, outputs).toEqual([0, 0]);

      const rows = await adminQuery<{ migration_name: string; finished: boolean }>(
        db.url,
        "SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations",
      );
      expect(rows.map((r) => r.migration_name).sort()).toEqual(expectedMigrations());
      expect(rows.every((r) => r.finished)).toBe(true);
      // Install-time provisioning ran once too: one admin (its password printed by one run),
      // one demo model.
      const [users] = await adminQuery<{ n: number }>(
        db.url,
        'SELECT count(*)::int AS n FROM "user"',
      );
      expect(users!.n).toBe(1);
      expect(runs.filter((r) => r.output().includes("An admin account was created"))).toHaveLength(
        1,
      );
      const [models] = await adminQuery<{ n: number }>(
        db.url,
        "SELECT count(*)::int AS n FROM model",
      );
      expect(models!.n).toBe(1);

      const again = startRole("migrate", env);
      expect(await again.exited, again.output()).toBe(0);
      expect(again.output()).toMatch(/no pending migrations/);
      expect(again.output()).not.toMatch(/An admin account was created/);
    } finally {
      await db.drop();
    }
  });

  describe("probes", () => {
    beforeAll(async () => {
      // Web serves the production build; build it when this checkout has none (CI runs the
      // integration tests before the browser tests, which would otherwise build it).
      await ensureBuilt(repoRoot, createLogger("roles-test"));
    }, 600_000);

    it("web, serving and scheduler wait for migrate, then report ready", async () => {
      const db = await createEmptyDatabase("roles_probes");
      try {
        const [webPort, servingPort, schedulerPort] = [
          await findFreePort(),
          await findFreePort(),
          await findFreePort(),
        ];
        const env = {
          DATABASE_URL: db.url,
          MODELDECK_HOST: "127.0.0.1",
          MODELDECK_DATA_DIR: dataDir,
          MODELDECK_WEB_PORT: String(webPort),
          MODELDECK_SERVING_PORT: String(servingPort),
          MODELDECK_SERVING_URL: `http://127.0.0.1:${servingPort}`,
          MODELDECK_GRPC_PORT: "off",
          MODELDECK_SCHEDULER_HEALTH_PORT: String(schedulerPort),
          MODELDECK_SECRET: undefined,
          BETTER_AUTH_SECRET: undefined,
        };
        const web = startRole("web", env);
        const serving = startRole("serving", env);
        const scheduler = startRole("scheduler", env);
        const logs = () =>
          `web:\n${web.output()}\nserving:\n${serving.output()}\nscheduler:\n${scheduler.output()}`;
        const webUrl = `http://127.0.0.1:${webPort}`;
        const servingUrl = `http://127.0.0.1:${servingPort}`;
        const schedulerUrl = `http://127.0.0.1:${schedulerPort}`;

        // Before migrate: web is live but not ready, and says why; the others wait.
        let lastBody: unknown;
        const notReady = await until(
          "web to report its migrations",
          async () => {
            const live = await probe(`${webUrl}/livez`);
            if (live.status !== 200) return undefined;
            const ready = await probe(`${webUrl}/readyz`);
            lastBody = ready.body;
            // The first check may time out while the process opens its pool on a busy machine.
            return "migrations" in ready.body ? ready : undefined;
          },
          120_000,
          () => `${JSON.stringify(lastBody)}\n${logs()}`,
        );
        expect(notReady.status).toBe(503);
        expect(notReady.body).toMatchObject({
          role: "web",
          ready: false,
          database: { status: "up" },
          migrations: { current: false, pending: expectedMigrations() },
        });
        for (const proc of [serving, scheduler]) {
          await until(
            "the wait to be logged",
            async () => proc.output().includes("waiting for the database before starting"),
            30_000,
            logs,
          );
        }
        await expect(fetch(`${servingUrl}/livez`)).rejects.toThrow();

        const migrate = startRole("migrate", { ...env, MODELDECK_DEMO: "on" });
        expect(await migrate.exited, migrate.output()).toBe(0);

        // Serving is ready once every alias target is loaded: the demo's production → v2.
        const servingReady = await until(
          "serving to be ready",
          async () => {
            const r = await probe(`${servingUrl}/readyz`);
            return r.status === 200 ? r : undefined;
          },
          90_000,
          logs,
        );
        const models = servingReady.body.models as { model: string; aliases: object }[];
        expect(models).toHaveLength(1);
        expect(models[0]!.aliases).toMatchObject({ production: 2 });
        expect((await probe(`${servingUrl}/livez`)).status).toBe(200);

        const schedulerReady = await until(
          "scheduler to be ready",
          async () => {
            const r = await probe(`${schedulerUrl}/readyz`);
            return r.status === 200 ? r : undefined;
          },
          60_000,
          logs,
        );
        expect(schedulerReady.body).toMatchObject({
          role: "scheduler",
          ready: true,
          database: { status: "up" },
          scheduler: { started: true },
        });
        expect((await probe(`${schedulerUrl}/livez`)).body).toMatchObject({ live: true });

        const webReady = await until(
          "web to be ready",
          async () => {
            const r = await probe(`${webUrl}/readyz`);
            return r.status === 200 ? r : undefined;
          },
          30_000,
          logs,
        );
        expect(webReady.body).toMatchObject({ migrations: { current: true, pending: [] } });
        // Ready means usable: the sign-in page renders (the session secret came from the database).
        const signIn = await fetch(`${webUrl}/sign-in`);
        expect(signIn.status, logs()).toBe(200);

        // SIGTERM: every role stops cleanly.
        const codes = await Promise.all([web, serving, scheduler].map((p) => p.stop()));
        expect(codes, logs()).toEqual([0, 0, 0]);
      } finally {
        await db.drop();
      }
    }, 300_000);
  });
});
