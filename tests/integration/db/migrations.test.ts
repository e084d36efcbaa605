import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { DbLogger } from "../../../lib/db/embedded-postgres";
import {
  applyMigrations,
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  MIGRATION_LOCK_TOML,
  writeNewMigration,
} from "../../../lib/db/migrations";
import { adminQuery, createEmptyDatabase } from "../helpers/db";

const ROOT = path.resolve(DEFAULT_MIGRATIONS_DIR, "../..");
const silent: DbLogger = { info: () => {}, warn: () => {}, error: () => {} };

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function emptyDatabase() {
  const db = await createEmptyDatabase("migrate");
  cleanups.push(db.drop);
  return db;
}

async function tempDir() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-migrations-"));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function checkedInMigrations(): Promise<{ name: string; sql: string }[]> {
  const entries = await fs.readdir(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true });
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  return Promise.all(
    dirs.sort().map(async (name) => ({
      name,
      sql: await fs.readFile(path.join(DEFAULT_MIGRATIONS_DIR, name, "migration.sql"), "utf8"),
    })),
  );
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  started_at: Date;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

const historyOf = (url: string) =>
  adminQuery<MigrationRow>(url, `SELECT * FROM _prisma_migrations ORDER BY migration_name`);

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function runCli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/migrate.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("applyMigrations (prisma migrate deploy on the wasm engine)", () => {
  it("applies every migration to an empty database and records them as Prisma does", async () => {
    const db = await emptyDatabase();
    const expected = await checkedInMigrations();
    expect(expected.length).toBeGreaterThan(0);

    const { applied } = await applyMigrations(db.url, { log: silent });
    expect(applied).toEqual(expected.map((m) => m.name));

    const tables = await adminQuery<{ tablename: string }>(
      db.url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining([
        "_prisma_migrations",
        "user",
        "session",
        "account",
        "verification",
        "rate_limit",
        "api_token",
        "audit_entry",
        "instance_setting",
        "process_heartbeat",
      ]),
    );

    const rows = await historyOf(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(expected.map((m) => m.name));
    for (const [i, row] of rows.entries()) {
      expect(row.checksum).toBe(sha256(expected[i]!.sql));
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it("is idempotent: a second run applies nothing and leaves the history alone", async () => {
    const db = await emptyDatabase();
    await applyMigrations(db.url, { log: silent });
    const before = await historyOf(db.url);

    const { applied } = await applyMigrations(db.url, { log: silent });
    expect(applied).toEqual([]);
    expect(await historyOf(db.url)).toEqual(before);
  });

  it("creates the target database when it does not exist", async () => {
    const db = await emptyDatabase();
    await db.drop();
    const { applied } = await applyMigrations(db.url, { log: silent });
    expect(applied.length).toBeGreaterThan(0);
  });

  it("two concurrent callers in one process apply each migration exactly once", async () => {
    const db = await emptyDatabase();
    const expected = (await checkedInMigrations()).map((m) => m.name);
    const [a, b] = await Promise.all([
      applyMigrations(db.url, { log: silent }),
      applyMigrations(db.url, { log: silent }),
    ]);
    expect([...a.applied, ...b.applied].sort()).toEqual(expected);
    const rows = await historyOf(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(expected);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });

  it("two processes running `db:migrate` at once: one applies, the other waits", async () => {
    const db = await emptyDatabase();
    const expected = (await checkedInMigrations()).map((m) => m.name);
    const runs = await Promise.all([
      runCli(["deploy"], { DATABASE_URL: db.url }),
      runCli(["deploy"], { DATABASE_URL: db.url }),
    ]);
    for (const run of runs) expect(run.code, run.output).toBe(0);
    expect(runs.filter((r) => r.output.includes("No pending migrations")).length).toBe(1);
    const rows = await historyOf(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(expected);
  });

  it("runs each migration file as one transaction, semicolons in strings and bodies included", async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, "migration_lock.toml"), MIGRATION_LOCK_TOML);
    const write = async (name: string, sql: string) => {
      await fs.mkdir(path.join(dir, name));
      await fs.writeFile(path.join(dir, name, "migration.sql"), sql);
    };
    // adapter-pg alone splits scripts on every ";": all of this would break.
    await write(
      "20200101000000_tricky",
      `-- a comment; with a semicolon
CREATE TABLE note (id INT PRIMARY KEY, body TEXT NOT NULL);
INSERT INTO note VALUES (1, 'a;b;c');
CREATE FUNCTION note_count() RETURNS BIGINT LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(*) FROM note);
END;
$$;
`,
    );
    await write(
      "20200102000000_fails_halfway",
      "CREATE TABLE half (id INT);\nINSERT INTO note VALUES (2, 'x');\nSELECT 1 / 0;\n",
    );
    const db = await emptyDatabase();

    await expect(applyMigrations(db.url, { migrationsDir: dir, log: silent })).rejects.toThrow(
      /division by zero/,
    );
    const [note] = await adminQuery<{ body: string; n: string }>(
      db.url,
      "SELECT body, note_count()::text AS n FROM note",
    );
    expect(note).toEqual({ body: "a;b;c", n: "1" });
    // Nothing of the failed file survived: not the table, not the insert.
    const [half] = await adminQuery<{ t: string | null }>(
      db.url,
      "SELECT to_regclass('half') AS t",
    );
    expect(half!.t).toBeNull();

    const rows = await historyOf(db.url);
    expect(rows.map((r) => [r.migration_name, r.finished_at !== null])).toEqual([
      ["20200101000000_tricky", true],
      ["20200102000000_fails_halfway", false],
    ]);
    expect(rows[1]!.logs).toMatch(/division by zero/);

    // Like migrate deploy, a failed migration blocks further deploys until resolved.
    await expect(applyMigrations(db.url, { migrationsDir: dir, log: silent })).rejects.toThrow(
      /failed/i,
    );
  });
});

describe("writeNewMigration (prisma migrate dev --create-only on the wasm engine)", () => {
  const server = () => inject("adminDatabaseUrl");

  async function copyOfMigrations() {
    const dir = await tempDir();
    await fs.cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    return dir;
  }

  async function shadowDatabases() {
    const rows = await adminQuery<{ datname: string }>(
      server(),
      "SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'",
    );
    return rows.map((r) => r.datname);
  }

  it("finds prisma/schema.prisma fully covered by the checked-in migrations", async () => {
    const dir = await copyOfMigrations();
    const drift = await writeNewMigration("drift_check", server(), {
      migrationsDir: dir,
      log: silent,
    });
    expect(drift?.sql ?? null, "schema.prisma changed without a migration").toBeNull();
  });

  it("writes a first migration and migration_lock.toml as Prisma would", async () => {
    const dir = await tempDir();
    const migrations = await checkedInMigrations();
    const init = migrations[0];
    const created = await writeNewMigration("Init", server(), {
      migrationsDir: dir,
      log: silent,
      now: new Date("2030-01-02T03:04:05Z"),
    });
    expect(created?.name).toBe("20300102030405_init");
    if (migrations.length === 1) {
      expect(created?.sql).toBe(init!.sql);
    } else {
      // From an empty history the one migration creates everything the chain creates.
      const creates = (sql: string) =>
        sql.match(/^CREATE (TABLE|TYPE|UNIQUE INDEX|INDEX) "[^"]+"/gm) ?? [];
      // A set: a later migration may recreate what it rebuilt (the log's partitioning does).
      const chain = [...new Set(migrations.flatMap((m) => creates(m.sql)))].sort();
      expect(creates(created!.sql).sort()).toEqual(chain);
    }
    expect(await fs.readFile(path.join(dir, "migration_lock.toml"), "utf8")).toBe(
      MIGRATION_LOCK_TOML,
    );
  });

  it("diffs a schema change against the replayed migrations, then applies cleanly", async () => {
    const before = await shadowDatabases();
    const dir = await copyOfMigrations();
    const schemaPath = path.join(await tempDir(), "schema.prisma");
    const schema = await fs.readFile(DEFAULT_SCHEMA_PATH, "utf8");
    await fs.writeFile(
      schemaPath,
      schema.replace("model InstanceSetting {", "model InstanceSetting {\n  description String?\n"),
    );

    const created = await writeNewMigration("add setting description", server(), {
      migrationsDir: dir,
      schemaPath,
      log: silent,
    });
    expect(created?.name).toMatch(/^\d{14}_add_setting_description$/);
    expect(created?.sql).toContain(
      'ALTER TABLE "instance_setting" ADD COLUMN     "description" TEXT;',
    );
    expect(await fs.readFile(created!.file, "utf8")).toBe(created!.sql);
    expect(await shadowDatabases()).toEqual(before); // shadow databases are dropped

    const db = await emptyDatabase();
    const { applied } = await applyMigrations(db.url, { migrationsDir: dir, log: silent });
    expect(applied.at(-1)).toBe(created!.name);
    const again = await writeNewMigration("nothing", server(), {
      migrationsDir: dir,
      schemaPath,
      log: silent,
    });
    expect(again).toBeNull();
  });

  it("writes an empty migration only when asked to", async () => {
    const dir = await copyOfMigrations();
    const created = await writeNewMigration("data fix", server(), {
      migrationsDir: dir,
      log: silent,
      allowEmpty: true,
    });
    expect(created?.empty).toBe(true);
    expect(created?.sql).toBe("-- This is an empty migration.\n");
  });
});
