/**
 * Database helpers for integration tests. The run's database is created and migrated once
 * by global-setup.ts; tests share it and empty it between tests with `truncateAll`.
 *
 *   const db = useTestDatabase();            // PrismaClient, tables emptied before each test
 *   it("...", async () => { await db.client.user.create(...) });
 */
import { randomBytes } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, beforeEach, inject } from "vitest";
import { PrismaClient } from "../../../lib/db/generated/client";
import { withSerializedTransactions } from "../../../lib/db/serialized-transactions";

/** URL of the run's migrated database. */
export function testDatabaseUrl(): string {
  return inject("databaseUrl");
}

/** A PrismaClient of its own for the run's database (or `connectionString`); $disconnect it. */
export function createTestPrisma(connectionString = testDatabaseUrl()): PrismaClient {
  return new PrismaClient({
    adapter: withSerializedTransactions(new PrismaPg({ connectionString })),
  });
}

/**
 * Empty every table except Prisma's migration history, in one statement (CASCADE covers
 * foreign keys, RESTART IDENTITY resets autoincrement ids such as audit_entry.id).
 */
export async function truncateAll(connectionString = testDatabaseUrl()): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT quote_ident(tablename) AS name FROM pg_tables
        WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
    );
    if (rows.length) {
      await client.query(`TRUNCATE ${rows.map((r) => r.name).join(", ")} RESTART IDENTITY CASCADE`);
    }
  } finally {
    await client.end();
  }
}

/**
 * Registers hooks for a test file: one PrismaClient for the file, all tables truncated before
 * each test (or not, with `{ truncate: false }`), disconnected after the file.
 */
export function useTestDatabase(options: { truncate?: boolean } = {}): {
  readonly client: PrismaClient;
  readonly url: string;
} {
  const url = testDatabaseUrl();
  let client: PrismaClient | undefined;
  if (options.truncate !== false) beforeEach(() => truncateAll(url));
  afterAll(async () => {
    await client?.$disconnect();
  });
  return {
    url,
    get client() {
      client ??= createTestPrisma(url);
      return client;
    },
  };
}

/**
 * A new, empty database on the test server (for tests that need a blank slate, e.g. applying
 * migrations from scratch). `drop()` removes it, closing leftover connections.
 */
export async function createEmptyDatabase(
  prefix = "scratch",
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const adminUrl = inject("adminDatabaseUrl");
  const name = `${prefix}_${Date.now()}_${randomBytes(3).toString("hex")}`;
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** Run one statement on its own connection (CREATE/DROP DATABASE cannot share a transaction). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  connectionString: string,
  sql: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
