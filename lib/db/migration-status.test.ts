import { describe, expect, it } from "vitest";
import { describeMigrationStatus, migrationStatus, type SqlQueryable } from "./migration-status";

type Row = { migration_name: string; finished: boolean; rolled_back: boolean };

/** A database whose _prisma_migrations holds `rows` (or does not exist: null). */
function database(rows: Row[] | null): SqlQueryable {
  return {
    query: async <R>(sql: string) => {
      if (sql.includes("to_regclass")) return { rows: [{ present: rows !== null }] as R[] };
      return { rows: (rows ?? []) as R[] };
    },
  };
}
const done = (name: string): Row => ({ migration_name: name, finished: true, rolled_back: false });
const expected = ["001_init", "002_more"];

describe("migration status", () => {
  it("a database nothing migrated: everything pending", async () => {
    const status = await migrationStatus(database(null), expected);
    expect(status).toEqual({ current: false, pending: expected, failed: [], unknown: [] });
    expect(describeMigrationStatus(status)).toMatch(/001_init and 1 more not applied yet/);
  });

  it("current when every migration finished; newer ones of a later release do not matter", async () => {
    const status = await migrationStatus(
      database([done("001_init"), done("002_more"), done("003_newer")]),
      expected,
    );
    expect(status).toMatchObject({ current: true, pending: [], unknown: ["003_newer"] });
    expect(describeMigrationStatus(status)).toMatch(/^current \(the database also has 1 newer/);
  });

  it("a migration that started and never finished is failed, not current", async () => {
    const status = await migrationStatus(
      database([
        done("001_init"),
        { migration_name: "002_more", finished: false, rolled_back: false },
      ]),
      expected,
    );
    expect(status).toMatchObject({ current: false, pending: ["002_more"], failed: ["002_more"] });
    expect(describeMigrationStatus(status)).toMatch(/002_more failed part-way/);
  });

  it("a rolled-back attempt followed by a successful one counts as applied", async () => {
    const status = await migrationStatus(
      database([
        done("001_init"),
        { migration_name: "002_more", finished: false, rolled_back: true },
        done("002_more"),
      ]),
      expected,
    );
    expect(status.current).toBe(true);
  });
});
