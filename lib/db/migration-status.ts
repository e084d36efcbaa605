import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Whether a database carries the migrations this code was built with. Processes that must not
 * migrate (web, serving, scheduler started as single roles) ask this instead of applying them:
 * only `modeldeck migrate` (or `npm start`'s supervisor) changes the schema.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DEFAULT_MIGRATIONS_DIR = path.join(ROOT, "prisma", "migrations");

export type MigrationStatus = {
  /** Every migration of this code is applied and none is half-applied. */
  current: boolean;
  /** Migrations of this code the database has not applied yet. */
  pending: string[];
  /** Migrations that started and neither finished nor were rolled back (need an operator). */
  failed: string[];
  /**
   * Migrations the database has applied that this code does not know: a newer release
   * migrated it (upgrade in progress, or a rollback of the code). Not a reason to stop: a
   * migration must keep the previous release working (see docs/deploying-on-kubernetes.md).
   */
  unknown: string[];
};

/** What `SELECT ... FROM _prisma_migrations` needs; a pg.Pool, pg.Client or a Prisma adapter. */
export type SqlQueryable = {
  query<R>(sql: string): Promise<{ rows: R[] }>;
};

/** The migration directory names this code carries, in order. */
export function expectedMigrations(migrationsDir = DEFAULT_MIGRATIONS_DIR): string[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

type Row = { migration_name: string; finished: boolean; rolled_back: boolean };

export async function migrationStatus(
  db: SqlQueryable,
  expected: readonly string[] = expectedMigrations(),
): Promise<MigrationStatus> {
  // Asked first rather than caught: drivers wrap "relation does not exist" differently.
  const [table] = (
    await db.query<{ present: boolean }>(
      "SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present",
    )
  ).rows;
  const rows = table?.present
    ? (
        await db.query<Row>(
          `SELECT migration_name, finished_at IS NOT NULL AS finished,
                  rolled_back_at IS NOT NULL AS rolled_back
             FROM _prisma_migrations`,
        )
      ).rows
    : [];
  const applied = new Set(
    rows.filter((r) => r.finished && !r.rolled_back).map((r) => r.migration_name),
  );
  const failed = [
    ...new Set(rows.filter((r) => !r.finished && !r.rolled_back).map((r) => r.migration_name)),
  ].sort();
  const known = new Set(expected);
  const pending = expected.filter((name) => !applied.has(name));
  const unknown = [...applied].filter((name) => !known.has(name)).sort();
  return { current: pending.length === 0 && failed.length === 0, pending, failed, unknown };
}

/** One line for logs and probe bodies. */
export function describeMigrationStatus(status: MigrationStatus): string {
  if (status.failed.length) {
    return `migration ${status.failed.join(", ")} failed part-way; resolve it, then run \`modeldeck migrate\``;
  }
  if (status.pending.length) {
    const [first] = status.pending;
    const more = status.pending.length > 1 ? ` and ${status.pending.length - 1} more` : "";
    return `migration ${first}${more} not applied yet; run \`modeldeck migrate\` (the migration Job)`;
  }
  return status.unknown.length
    ? `current (the database also has ${status.unknown.length} newer migration(s) this release does not know)`
    : "current";
}
