import { afterAll, describe, expect, it } from "vitest";
import { disconnectPrisma, getPrisma } from "../../../lib/db/client";
import { testDatabaseUrl, truncateAll, useTestDatabase } from "../helpers/db";

describe("getPrisma", () => {
  afterAll(() => disconnectPrisma());

  it("talks to DATABASE_URL (the run's database) and is one client per process", async () => {
    expect(process.env.DATABASE_URL).toBe(testDatabaseUrl());
    const db = getPrisma();
    expect(getPrisma()).toBe(db);
    const migrations = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL`;
    expect(migrations[0]!.n).toBeGreaterThan(0);
  });

  it("runs the parallel relation reads of a transaction one after another (no pg warning)", async () => {
    const db = getPrisma();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      await db.user.create({ data: { id: "tx-u", name: "Tx", email: "tx@example.com" } });
      // A nested read of several relations inside an interactive transaction: Prisma's
      // interpreter issues them in parallel on the transaction's one connection.
      const users = await db.$transaction(async (tx) =>
        tx.user.findMany({ include: { sessions: true, accounts: true, apiTokens: true } }),
      );
      expect(users.map((u) => u.id)).toContain("tx-u");
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((m) => m.includes("already executing a query"))).toEqual([]);
    } finally {
      process.off("warning", onWarning);
      await db.user.deleteMany({ where: { id: "tx-u" } });
    }
  });

  it("explains a missing DATABASE_URL", async () => {
    await disconnectPrisma();
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      expect(() => getPrisma()).toThrow(/DATABASE_URL is not set/);
    } finally {
      process.env.DATABASE_URL = saved;
    }
  });
});

describe("test database helpers", () => {
  const db = useTestDatabase();

  it("gives a working PrismaClient on the migrated schema", async () => {
    await db.client.user.create({ data: { id: "u1", name: "Ada", email: "ada@example.com" } });
    await db.client.auditEntry.create({
      data: { actorType: "system", actorLabel: "system", action: "test.write", resourceType: "t" },
    });
    expect(await db.client.user.count()).toBe(1);
  });

  it("starts each test with empty tables and restarted ids", async () => {
    expect(await db.client.user.count()).toBe(0);
    const entry = await db.client.auditEntry.create({
      data: { actorType: "system", actorLabel: "system", action: "test.write", resourceType: "t" },
    });
    expect(entry.id).toBe(1n);
  });

  it("keeps the migration history when truncating", async () => {
    await truncateAll();
    const rows = await db.client.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM _prisma_migrations`;
    expect(rows[0]!.n).toBeGreaterThan(0);
  });
});
