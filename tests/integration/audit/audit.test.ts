import { describe, expect, it } from "vitest";
import {
  auditFacets,
  listAuditEntries,
  recordAudit,
  SYSTEM_ACTOR,
  type Actor,
  type AuditFilter,
} from "../../../lib/audit";
import { useTestDatabase } from "../helpers/db";

describe("lib/audit", () => {
  const db = useTestDatabase();

  const alice: Actor = { type: "user", id: "u-alice", label: "Alice@Example.com" };
  const bob: Actor = { type: "user", id: "u-bob", label: "bob@example.com" };
  const ci: Actor = { type: "token", id: "t-ci", label: "token:CI pipeline" };

  const T0 = new Date("2026-03-01T12:00:00.000Z");
  const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

  /** Seeds one entry per line, `at` = T0 + i minutes (i = line index); returns their ids. */
  async function seed(
    lines: { actor: Actor; action: string; resourceType: string; resourceId?: string }[],
  ): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, line] of lines.entries()) {
      await recordAudit(db.client, { ...line, after: { n: i } });
      const row = await db.client.auditEntry.findFirstOrThrow({ orderBy: { id: "desc" } });
      await db.client.auditEntry.update({ where: { id: row.id }, data: { at: minutes(i) } });
      ids.push(row.id.toString());
    }
    return ids;
  }

  const FIXTURE = [
    { actor: alice, action: "user.create", resourceType: "user", resourceId: "u1" }, // 0
    { actor: bob, action: "user.role.change", resourceType: "user", resourceId: "u1" }, // 1
    { actor: ci, action: "token.create", resourceType: "api_token", resourceId: "k1" }, // 2
    { actor: alice, action: "user.disable", resourceType: "user", resourceId: "u2" }, // 3
    { actor: SYSTEM_ACTOR, action: "user.create", resourceType: "user", resourceId: "u3" }, // 4
    { actor: ci, action: "token.revoke", resourceType: "api_token", resourceId: "k1" }, // 5
    { actor: bob, action: "users.export", resourceType: "report" }, // 6: "users." is not "user."
  ];

  async function list(filter: AuditFilter, page = { page: 1, pageSize: 50 }) {
    return listAuditEntries(db.client, filter, page);
  }
  /** Indexes into FIXTURE of the returned entries, in returned order. */
  const indexes = (entries: { after: unknown }[]) =>
    entries.map((e) => (e.after as { n: number }).n);

  describe("recordAudit", () => {
    it("writes one entry with the actor, action, resource, JSON before/after and address", async () => {
      await db.client.$transaction(async (tx) => {
        await recordAudit(tx, {
          actor: alice,
          action: "user.role.change",
          resourceType: "user",
          resourceId: "u1",
          before: { role: "viewer", at: new Date("2026-01-01T00:00:00Z") },
          after: { role: "admin", nested: { list: [1, 2] } },
          ipAddress: "203.0.113.9",
        });
      });
      const rows = await db.client.auditEntry.findMany();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actorType: "user",
        actorId: "u-alice",
        actorLabel: "Alice@Example.com",
        action: "user.role.change",
        resourceType: "user",
        resourceId: "u1",
        // Dates are stored in their JSON form, as an API would show them.
        before: { role: "viewer", at: "2026-01-01T00:00:00.000Z" },
        after: { role: "admin", nested: { list: [1, 2] } },
        ipAddress: "203.0.113.9",
      });
      expect(Math.abs(rows[0]!.at.getTime() - Date.now())).toBeLessThan(60_000);
    });

    it("stores missing before/after, resource id and address as NULL, and a system actor without id", async () => {
      await recordAudit(db.client, {
        actor: SYSTEM_ACTOR,
        action: "system.start",
        resourceType: "instance",
      });
      const row = await db.client.auditEntry.findFirstOrThrow();
      expect(row).toMatchObject({
        actorType: "system",
        actorId: null,
        actorLabel: "system",
        resourceId: null,
        before: null,
        after: null,
        ipAddress: null,
      });
    });

    it("is part of the caller's transaction: a change that rolls back leaves no entry", async () => {
      await expect(
        db.client.$transaction(async (tx) => {
          await tx.instanceSetting.create({ data: { key: "k", value: "v" } });
          await recordAudit(tx, { actor: alice, action: "setting.set", resourceType: "setting" });
          expect(await tx.auditEntry.count()).toBe(1); // visible inside the transaction...
          throw new Error("change failed after auditing");
        }),
      ).rejects.toThrow(/change failed after auditing/);
      expect(await db.client.auditEntry.count()).toBe(0); // ...gone with it
      expect(await db.client.instanceSetting.count()).toBe(0);

      // The same transaction without the failure commits both.
      await db.client.$transaction(async (tx) => {
        await tx.instanceSetting.create({ data: { key: "k", value: "v" } });
        await recordAudit(tx, { actor: alice, action: "setting.set", resourceType: "setting" });
      });
      expect(await db.client.auditEntry.count()).toBe(1);
    });
  });

  describe("listAuditEntries", () => {
    it("lists newest first with the total, and pages through it", async () => {
      const ids = await seed(FIXTURE);
      const all = await list({});
      expect(all.total).toBe(7);
      expect(indexes(all.entries)).toEqual([6, 5, 4, 3, 2, 1, 0]);
      expect(all.entries[0]).toMatchObject({
        id: ids[6],
        at: minutes(6).toISOString(),
        actorType: "user",
        actorId: "u-bob",
        actorLabel: "bob@example.com",
        action: "users.export",
        resourceType: "report",
        resourceId: null,
        before: null,
      });

      const pages = await Promise.all([1, 2, 3, 4].map((page) => list({}, { page, pageSize: 3 })));
      expect(pages.map((p) => indexes(p.entries))).toEqual([[6, 5, 4], [3, 2, 1], [0], []]);
      for (const p of pages) expect(p).toMatchObject({ total: 7, pageSize: 3 });
      expect(pages.map((p) => p.page)).toEqual([1, 2, 3, 4]);
    });

    it("breaks ties on the same instant by id, newest first", async () => {
      for (let i = 0; i < 3; i++) {
        await recordAudit(db.client, {
          actor: alice,
          action: "x.y",
          resourceType: "t",
          after: { n: i },
        });
      }
      await db.client.auditEntry.updateMany({ data: { at: T0 } });
      const { entries } = await list({});
      expect(indexes(entries)).toEqual([2, 1, 0]);
    });

    it("filters by actor id exactly, or by a case-insensitive part of the actor label", async () => {
      await seed(FIXTURE);
      expect(indexes((await list({ actor: "u-alice" })).entries)).toEqual([3, 0]);
      expect(indexes((await list({ actor: "ALICE@example" })).entries)).toEqual([3, 0]);
      expect(indexes((await list({ actor: "example.COM" })).entries)).toEqual([6, 3, 1, 0]);
      expect(indexes((await list({ actor: "ci pipe" })).entries)).toEqual([5, 2]);
      expect(indexes((await list({ actor: "t-ci" })).entries)).toEqual([5, 2]);
      expect(indexes((await list({ actor: "SYSTEM" })).entries)).toEqual([4]);
      // An id is matched whole, not as a part.
      expect((await list({ actor: "u-ali" })).total).toBe(0);
      const none = await list({ actor: "nobody" });
      expect(none).toMatchObject({ total: 0, entries: [] });
    });

    it("treats %, _ and \\ in the actor and action filters as plain characters", async () => {
      const labels = ["bob@example.com", "b_b@example.com", "100%@example.com", "a\\b@example.com"];
      for (const [i, label] of labels.entries()) {
        await recordAudit(db.client, {
          actor: { type: "user", id: `id-${i}`, label },
          action: i === 1 ? "api_token.create" : "apiXtoken.create",
          resourceType: "t",
          after: { n: i },
        });
      }
      expect(indexes((await list({ actor: "%" })).entries)).toEqual([2]);
      expect(indexes((await list({ actor: "b_b" })).entries)).toEqual([1]);
      expect(indexes((await list({ actor: "A\\B" })).entries)).toEqual([3]);
      expect((await list({ actor: "_" })).total).toBe(1);
      expect(indexes((await list({ action: "api_token." })).entries)).toEqual([1]);
    });

    it("filters by exact action, or by a prefix ending in a dot", async () => {
      await seed(FIXTURE);
      expect(indexes((await list({ action: "user.create" })).entries)).toEqual([4, 0]);
      // Exact means exact: no prefix match without the trailing dot.
      expect((await list({ action: "user" })).total).toBe(0);
      expect((await list({ action: "user.role" })).total).toBe(0);
      const prefix = await list({ action: "user." });
      expect(indexes(prefix.entries)).toEqual([4, 3, 1, 0]); // not "users.export"
      expect(prefix.total).toBe(4);
      expect(indexes((await list({ action: "user.role." })).entries)).toEqual([1]);
      expect(indexes((await list({ action: "token." })).entries)).toEqual([5, 2]);
    });

    it("filters by resource type and id", async () => {
      await seed(FIXTURE);
      expect(indexes((await list({ resourceType: "api_token" })).entries)).toEqual([5, 2]);
      expect(indexes((await list({ resourceType: "user", resourceId: "u1" })).entries)).toEqual([
        1, 0,
      ]);
      expect((await list({ resourceType: "USER" })).total).toBe(0);
    });

    it("filters by an inclusive time range", async () => {
      await seed(FIXTURE);
      expect(indexes((await list({ from: minutes(2), to: minutes(4) })).entries)).toEqual([
        4, 3, 2,
      ]);
      expect(indexes((await list({ from: minutes(5) })).entries)).toEqual([6, 5]);
      expect(indexes((await list({ to: minutes(1) })).entries)).toEqual([1, 0]);
      const between = await list({ from: new Date(minutes(2).getTime() + 1), to: minutes(3) });
      expect(indexes(between.entries)).toEqual([3]);
      expect((await list({ from: minutes(7) })).total).toBe(0);
    });

    it("combines filters, and counts the total of the filtered set across pages", async () => {
      await seed(FIXTURE);
      const result = await list(
        { actor: "example.com", action: "user.", from: minutes(1) },
        { page: 1, pageSize: 1 },
      );
      expect(result.total).toBe(2);
      expect(indexes(result.entries)).toEqual([3]);
      const second = await list(
        { actor: "example.com", action: "user.", from: minutes(1) },
        { page: 2, pageSize: 1 },
      );
      expect(indexes(second.entries)).toEqual([1]);
    });
  });

  describe("auditFacets", () => {
    it("lists distinct actions and resource types, sorted", async () => {
      await seed(FIXTURE);
      expect(await auditFacets(db.client)).toEqual({
        actions: [
          "token.create",
          "token.revoke",
          "user.create",
          "user.disable",
          "user.role.change",
          "users.export",
        ],
        resourceTypes: ["api_token", "report", "user"],
      });
    });
  });
});
