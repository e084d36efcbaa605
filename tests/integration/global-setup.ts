/**
 * Integration tests run against real PostgreSQL: one embedded cluster for the whole run, in a
 * fresh temporary directory on a free port, with one freshly created and migrated database.
 * Tests get its URL through `inject("databaseUrl")` (and process.env.DATABASE_URL).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { findFreePort, startEmbeddedPostgres, type DbLogger } from "../../lib/db/embedded-postgres";
import { applyMigrations } from "../../lib/db/migrations";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's migrated database. */
    databaseUrl: string;
    /** The same server's maintenance database, for CREATE/DROP DATABASE. */
    adminDatabaseUrl: string;
  }
}

// Quiet unless something goes wrong; MODELDECK_LOG_LEVEL=debug shows the server's log.
const verbose = process.env.MODELDECK_LOG_LEVEL === "debug";
const log: DbLogger = {
  info: (obj, msg) => verbose && console.log("[test-db]", msg, obj),
  // Server-side lines (field `pg`) are mostly the expected failures of negative tests.
  warn: (obj, msg) => (verbose || !("pg" in obj)) && console.warn("[test-db]", msg, obj),
  error: (obj, msg) => console.error("[test-db]", msg, obj),
  debug: verbose ? (obj, msg) => console.log("[test-db]", msg, obj) : undefined,
};

export default async function setup(project: TestProject) {
  const t = Date.now();
  // Under the OS temp dir (world-traversable), so the `postgres` user can reach it when the
  // tests run as root; the data dir itself is created by initdb.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-test-pg-"));
  await fs.chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, "data"),
    port: await findFreePort(),
    log,
    database: "postgres",
    // Durability is pointless for a throwaway cluster; these make DDL-heavy tests faster.
    settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" },
  });

  const database = `modeldeck_test_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: server.connectionStringFor("postgres") });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  const databaseUrl = server.connectionStringFor(database);
  await applyMigrations(databaseUrl, { log });

  project.provide("databaseUrl", databaseUrl);
  project.provide("adminDatabaseUrl", server.connectionStringFor("postgres"));
  process.env.DATABASE_URL = databaseUrl;
  if (verbose) console.log(`[test-db] ready in ${Date.now() - t} ms: ${database}`);

  return async () => {
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  };
}
