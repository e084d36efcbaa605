import { describe, expect, it } from "vitest";
import type { Actor } from "../../../lib/audit";
import {
  AliasMovedError,
  canChangeAlias,
  getAlias,
  getAliasHistory,
  listAliases,
  removeAlias,
  rollbackAlias,
  setAlias,
  type AliasHistoryView,
} from "../../../lib/registry";
import { useRegistryDb } from "./fixtures";

const M = "fraud-detector";

/** Each entry's fromVersion is the previous entry's toVersion (entries oldest first). */
function expectChain(entries: AliasHistoryView[]) {
  let previous: number | null = null;
  for (const entry of entries) {
    expect(entry.fromVersion?.version ?? null, `entry ${entry.id}`).toBe(previous);
    previous = entry.toVersion?.version ?? null;
  }
  return previous;
}

describe("lib/registry aliases", () => {
  const t = useRegistryDb();
  const { db } = t;

  describe("setAlias", () => {
    it("moves an alias with one history entry and one alias.move audit entry per move", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      const [v1, v2] = await t.seedVersions(operator, M, 2);

      const first = await t.oneAudit("alias.move", () =>
        setAlias(
          db.client,
          operator,
          { modelName: M, alias: "production", version: 1, reason: "  first release " },
          "10.2.2.2",
        ),
      );
      expect(first).toMatchObject({
        outcome: "moved",
        alias: { model: M, name: "production", version: 1, versionId: v1!.id, protected: true },
        history: {
          alias: "production",
          kind: "promote",
          fromVersion: null,
          toVersion: { id: v1!.id, version: 1 },
          actor: { type: "user", id: operator.id, label: operator.label },
          reason: "first release",
          promotionRequestId: null,
        },
      });
      const second = await t.oneAudit("alias.move", () =>
        setAlias(db.client, operator, { modelName: M, alias: "production", version: 2 }),
      );
      expect(second).toMatchObject({
        outcome: "moved",
        history: { fromVersion: { version: 1 }, toVersion: { id: v2!.id, version: 2 } },
      });
      const entry = (await t.auditRows()).at(-1)!;
      expect(entry).toMatchObject({
        resourceType: "model_alias",
        resourceId: `${M}/production`,
        before: { model: M, alias: "production", version: 1 },
        after: { model: M, alias: "production", version: 2, reason: null },
      });
      expect(await getAlias(db.client, M, "production")).toMatchObject({ version: 2 });
    });

    it("treats a move to the current target as a no-op: no history, no audit", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      await t.seedVersions(operator, M, 1);
      await setAlias(db.client, operator, { modelName: M, alias: "staging", version: 1 });
      const before = await t.auditCount();
      const again = await setAlias(db.client, operator, {
        modelName: M,
        alias: "staging",
        version: 1,
      });
      expect(again).toMatchObject({ outcome: "unchanged", alias: { name: "staging", version: 1 } });
      expect(await t.auditCount()).toBe(before);
      expect(await db.client.aliasHistory.count()).toBe(1);
    });

    it("protects production and staging: a viewer gets 403 on every alias, an operator only on none", async () => {
      const admin = await t.seedActor("admin");
      const viewer = await t.seedActor("viewer");
      await t.seedModel(admin);
      await t.seedVersions(admin, M, 1);
      for (const alias of ["production", "staging"]) {
        const error = await t.refused(403, () =>
          setAlias(db.client, viewer, { modelName: M, alias, version: 1 }),
        );
        expect(error.message).toContain("models:promote");
      }
      const free = await t.refused(403, () =>
        setAlias(db.client, viewer, { modelName: M, alias: "challenger", version: 1 }),
      );
      expect(free.message).toContain("models:write");
      expect(await db.client.modelAlias.count()).toBe(0);

      await setAlias(db.client, admin, { modelName: M, alias: "production", version: 1 });
      await t.refused(403, () =>
        removeAlias(db.client, viewer, { modelName: M, alias: "production" }),
      );
      await t.refused(403, () =>
        rollbackAlias(db.client, viewer, { modelName: M, alias: "production", previous: true }),
      );
      expect(canChangeAlias("viewer", "production")).toBe(false);
      expect(canChangeAlias("operator", "production")).toBe(true);
      expect(canChangeAlias("viewer", "challenger")).toBe(false);
      expect(canChangeAlias("operator", "challenger")).toBe(true);
    });

    it("accepts free-form slug aliases, refuses `latest` and non-slugs (400), unknown model or version (404)", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      await t.seedVersions(operator, M, 1);
      await setAlias(db.client, operator, { modelName: M, alias: "challenger", version: 1 });
      await setAlias(db.client, operator, { modelName: M, alias: "shadow.eu-1", version: 1 });
      expect((await listAliases(db.client, M)).map((a) => [a.name, a.protected])).toEqual([
        ["challenger", false],
        ["shadow.eu-1", false],
      ]);
      const reserved = await t.refused(400, () =>
        setAlias(db.client, operator, { modelName: M, alias: "latest", version: 1 }),
      );
      expect(reserved.message).toContain("reserved");
      for (const alias of ["Prod", "", "a/b", "-x", "x".repeat(64)]) {
        await t.refused(400, () =>
          setAlias(db.client, operator, { modelName: M, alias, version: 1 }),
        );
      }
      await t.refused(404, () =>
        setAlias(db.client, operator, { modelName: "nope", alias: "staging", version: 1 }),
      );
      await t.refused(404, () =>
        setAlias(db.client, operator, { modelName: M, alias: "staging", version: 2 }),
      );
      await t.refused(400, () =>
        setAlias(db.client, operator, {
          modelName: M,
          alias: "staging",
          version: 1,
          reason: "x".repeat(2001),
        }),
      );
    });

    it("50 concurrent promotions of different versions to production: one target, 50 chained history entries, no errors", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      const versions = await t.seedVersions(operator, M, 50);
      const clients = await t.clients(5);
      const auditBefore = await t.auditCount();

      const started = Date.now();
      const results = await Promise.allSettled(
        versions.map((v, i) =>
          setAlias(clients[i % clients.length]!, operator, {
            modelName: M,
            alias: "production",
            version: v.version,
            reason: `race ${v.version}`,
          }),
        ),
      );
      const elapsed = Date.now() - started;

      const errors = results.filter((r) => r.status === "rejected").map((r) => String(r.reason));
      expect(errors).toEqual([]);
      const outcomes = results.map((r) => (r.status === "fulfilled" ? r.value.outcome : "error"));
      expect(new Set(outcomes)).toEqual(new Set(["moved"]));

      const aliases = await db.client.modelAlias.findMany();
      expect(aliases).toHaveLength(1);

      const history = (await getAliasHistory(db.client, M, "production")).reverse();
      expect(history).toHaveLength(50);
      const last = expectChain(history);
      // Every version was the target exactly once, and the last move is what production is.
      expect(new Set(history.map((h) => h.toVersion!.version)).size).toBe(50);
      const current = await getAlias(db.client, M, "production");
      expect(current.version).toBe(last);
      expect(history.map((h) => h.reason)).toEqual(
        history.map((h) => `race ${h.toVersion!.version}`),
      );
      // History timestamps follow the same order as ids.
      const ats = history.map((h) => Date.parse(h.at));
      expect([...ats].sort((a, b) => a - b)).toEqual(ats);
      // Each call's own result is consistent with the chain.
      for (const r of results) {
        const value = r.status === "fulfilled" ? r.value : null;
        if (value?.outcome !== "moved") continue;
        const mine = history.find((h) => h.id === value.history.id)!;
        expect(mine.fromVersion).toEqual(value.history.fromVersion);
      }

      expect(await t.auditCount()).toBe(auditBefore + 50);
      expect(await db.client.auditEntry.count({ where: { action: "alias.move" } })).toBe(50);
      expect(elapsed).toBeLessThan(30_000);
    });

    it("keeps different aliases and different models independent under concurrency", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator, "a");
      await t.seedModel(operator, "b");
      await t.seedVersions(operator, "a", 10);
      await t.seedVersions(operator, "b", 10);
      const clients = await t.clients(4);
      const calls = [];
      for (const model of ["a", "b"]) {
        for (const alias of ["production", "staging", "challenger"]) {
          for (let v = 1; v <= 10; v++) {
            calls.push({ modelName: model, alias, version: v });
          }
        }
      }
      const results = await Promise.allSettled(
        calls.map((input, i) => setAlias(clients[i % clients.length]!, operator, input)),
      );
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      for (const model of ["a", "b"]) {
        for (const alias of ["production", "staging", "challenger"]) {
          const history = (await getAliasHistory(db.client, model, alias)).reverse();
          expect(history).toHaveLength(10);
          expect(expectChain(history)).toBe((await getAlias(db.client, model, alias)).version);
        }
      }
    });
  });

  describe("compare-and-set moves (expectedVersion)", () => {
    it("moves only when the alias still points at the expected version; a stale one is a 409 naming both", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      await t.seedVersions(operator, M, 3);
      // null: the mover saw no alias.
      await t.oneAudit("alias.move", () =>
        setAlias(db.client, operator, {
          modelName: M,
          alias: "production",
          version: 1,
          expectedVersion: null,
        }),
      );
      await t.oneAudit("alias.move", () =>
        setAlias(db.client, operator, {
          modelName: M,
          alias: "production",
          version: 2,
          expectedVersion: 1,
        }),
      );
      // Someone saw v1 and wants v3: production is at v2 now.
      const stale = await t.refused(409, () =>
        setAlias(db.client, operator, {
          modelName: M,
          alias: "production",
          version: 3,
          expectedVersion: 1,
        }),
      );
      expect(stale).toBeInstanceOf(AliasMovedError);
      expect(stale.code).toBe("conflict");
      expect(stale.message).toBe(
        `production of model ${M} points at v2, not v1 as this change expected: it was moved meanwhile. Nothing changed; look at it again before deciding.`,
      );
      expect(stale.details).toEqual({
        reason: "alias_moved",
        alias: "production",
        expectedVersion: 1,
        currentVersion: 2,
      });
      await t.refused(409, () =>
        setAlias(db.client, operator, {
          modelName: M,
          alias: "production",
          version: 3,
          expectedVersion: null,
        }),
      );
      expect((await getAlias(db.client, M, "production")).version).toBe(2);
      expect(await db.client.aliasHistory.count()).toBe(2);
      // A retry of a move that already happened is a no-op, not a conflict.
      expect(
        await setAlias(db.client, operator, {
          modelName: M,
          alias: "production",
          version: 2,
          expectedVersion: 1,
        }),
      ).toMatchObject({ outcome: "unchanged" });
    });

    it("20 movers who all saw v1: exactly one moves, the others get 409 naming where it went", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      const versions = await t.seedVersions(operator, M, 21);
      await setAlias(db.client, operator, { modelName: M, alias: "production", version: 1 });
      const clients = await t.clients(4);
      const results = await Promise.allSettled(
        versions.slice(1).map((v, i) =>
          setAlias(clients[i % clients.length]!, operator, {
            modelName: M,
            alias: "production",
            version: v.version,
            expectedVersion: 1,
          }),
        ),
      );
      const moved = results.filter((r) => r.status === "fulfilled");
      expect(moved).toHaveLength(1);
      const winner = (await getAlias(db.client, M, "production")).version;
      for (const r of results) {
        if (r.status === "fulfilled") continue;
        expect(r.reason).toBeInstanceOf(AliasMovedError);
        expect(r.reason).toMatchObject({ expectedVersion: 1, currentVersion: winner });
      }
      expect(await db.client.aliasHistory.count()).toBe(2);
    });

    it("applies to rollbacks and to promotion requests", async () => {
      const admin = await t.seedActor("admin");
      await t.seedModel(admin, M, { approvalRequired: true });
      await t.seedVersions(admin, M, 3);
      await setAlias(db.client, admin, { modelName: M, alias: "staging", version: 1 });
      await setAlias(db.client, admin, { modelName: M, alias: "staging", version: 2 });
      await t.refused(409, () =>
        rollbackAlias(db.client, admin, {
          modelName: M,
          alias: "staging",
          previous: true,
          expectedVersion: 3,
        }),
      );
      expect(
        await rollbackAlias(db.client, admin, {
          modelName: M,
          alias: "staging",
          previous: true,
          expectedVersion: 2,
        }),
      ).toMatchObject({ outcome: "moved", alias: { version: 1 } });

      // production needs approval: a stale expectation opens no request.
      await t.refused(409, () =>
        setAlias(db.client, admin, {
          modelName: M,
          alias: "production",
          version: 3,
          expectedVersion: 2,
        }),
      );
      expect(await db.client.promotionRequest.count()).toBe(0);
      expect(
        await setAlias(db.client, admin, {
          modelName: M,
          alias: "production",
          version: 3,
          expectedVersion: null,
        }),
      ).toMatchObject({ outcome: "requested" });
    });
  });

  describe("removeAlias", () => {
    it("removes with a history entry to null and an alias.remove audit entry; 404 when not set", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      await t.seedVersions(operator, M, 1);
      await setAlias(db.client, operator, { modelName: M, alias: "challenger", version: 1 });
      const { history } = await t.oneAudit("alias.remove", () =>
        removeAlias(db.client, operator, { modelName: M, alias: "challenger", reason: "done" }),
      );
      expect(history).toMatchObject({
        kind: "remove",
        fromVersion: { version: 1 },
        toVersion: null,
        reason: "done",
      });
      expect(await listAliases(db.client, M)).toEqual([]);
      await t.refused(404, () =>
        removeAlias(db.client, operator, { modelName: M, alias: "challenger" }),
      );
      await t.refused(404, () =>
        removeAlias(db.client, operator, { modelName: M, alias: "Bad Name" }),
      );
      await expect(getAlias(db.client, M, "challenger")).rejects.toMatchObject({ status: 404 });
    });
  });

  describe("rollbackAlias and getAliasHistory", () => {
    it("rolls back to the previous version or to a history entry, appending rollback entries", async () => {
      const operator = await t.seedActor("operator");
      const admin = await t.seedActor("admin");
      await t.seedModel(admin);
      await t.seedVersions(admin, M, 3);
      const h1 = await setAlias(db.client, operator, {
        modelName: M,
        alias: "production",
        version: 1,
      });
      await setAlias(db.client, admin, { modelName: M, alias: "production", version: 2 });
      await setAlias(db.client, operator, { modelName: M, alias: "production", version: 3 });
      await setAlias(db.client, operator, { modelName: M, alias: "staging", version: 3 });

      // "previous production": 3 → 2
      const back = await t.oneAudit("alias.rollback", () =>
        rollbackAlias(db.client, admin, {
          modelName: M,
          alias: "production",
          previous: true,
          reason: "v3 misbehaves",
        }),
      );
      expect(back).toMatchObject({
        outcome: "moved",
        alias: { version: 2 },
        history: {
          kind: "rollback",
          fromVersion: { version: 3 },
          toVersion: { version: 2 },
          reason: "v3 misbehaves",
        },
      });

      // To the entry that first put v1 in production.
      expect(h1.outcome).toBe("moved");
      const entryId = h1.outcome === "moved" ? h1.history.id : "";
      const toV1 = await t.oneAudit("alias.rollback", () =>
        rollbackAlias(db.client, admin, {
          modelName: M,
          alias: "production",
          toHistoryEntryId: entryId,
        }),
      );
      expect(toV1).toMatchObject({ outcome: "moved", alias: { version: 1 } });
      const audit = (await t.auditRows()).at(-1)!;
      expect(audit.after).toMatchObject({ version: 1, rolledBackTo: { historyEntryId: entryId } });

      // Rolling back to where it already is: no-op.
      const before = await t.auditCount();
      const same = await rollbackAlias(db.client, admin, {
        modelName: M,
        alias: "production",
        toHistoryEntryId: entryId,
      });
      expect(same.outcome).toBe("unchanged");
      expect(await t.auditCount()).toBe(before);

      const history = await getAliasHistory(db.client, M, "production");
      expect(
        history.map((h) => [h.kind, h.fromVersion?.version ?? null, h.toVersion?.version]),
      ).toEqual([
        ["rollback", 2, 1],
        ["rollback", 3, 2],
        ["promote", 2, 3],
        ["promote", 1, 2],
        ["promote", null, 1],
      ]);
      expect(history[3]!.actor).toEqual({ type: "user", id: admin.id, label: admin.label });
      expectChain([...history].reverse());

      // Whole-model history interleaves aliases, newest first; paging with beforeId.
      const all = await getAliasHistory(db.client, M);
      expect(all).toHaveLength(6);
      expect(all.map((h) => Number(h.id))).toEqual(
        [...all.map((h) => Number(h.id))].sort((a, b) => b - a),
      );
      const page = await getAliasHistory(db.client, M, undefined, {
        limit: 2,
        beforeId: all[1]!.id,
      });
      expect(page.map((h) => h.id)).toEqual([all[2]!.id, all[3]!.id]);
      expect(await getAliasHistory(db.client, M, "never-set")).toEqual([]);
      await expect(getAliasHistory(db.client, "nope")).rejects.toMatchObject({ status: 404 });
    });

    it("refuses what cannot be rolled back to (404/409/400), writing nothing", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      await t.seedVersions(operator, M, 2);
      await t.seedModel(operator, "other");
      await t.seedVersions(operator, "other", 1);

      // No history yet.
      await t.refused(404, () =>
        rollbackAlias(db.client, operator, { modelName: M, alias: "production", previous: true }),
      );
      const first = await setAlias(db.client, operator, {
        modelName: M,
        alias: "production",
        version: 1,
      });
      // The only entry has no "from".
      await t.refused(409, () =>
        rollbackAlias(db.client, operator, { modelName: M, alias: "production", previous: true }),
      );
      await setAlias(db.client, operator, { modelName: M, alias: "production", version: 2 });

      // An entry of another alias or model, or that does not exist.
      const otherEntry = await setAlias(db.client, operator, {
        modelName: "other",
        alias: "production",
        version: 1,
      });
      const otherId = otherEntry.outcome === "moved" ? otherEntry.history.id : "";
      for (const id of [otherId, "999999", "abc", "-1"]) {
        await t.refused(404, () =>
          rollbackAlias(db.client, operator, {
            modelName: M,
            alias: "production",
            toHistoryEntryId: id,
          }),
        );
      }
      const firstId = first.outcome === "moved" ? first.history.id : "";
      await t.refused(404, () =>
        rollbackAlias(db.client, operator, {
          modelName: M,
          alias: "staging",
          toHistoryEntryId: firstId,
        }),
      );

      // The target was archived meanwhile.
      await setAlias(db.client, operator, { modelName: M, alias: "challenger", version: 1 });
      await removeAlias(db.client, operator, { modelName: M, alias: "challenger" });
      await db.client.modelVersion.updateMany({
        where: { version: 1 },
        data: { status: "archived" },
      });
      const archived = await t.refused(409, () =>
        rollbackAlias(db.client, operator, { modelName: M, alias: "production", previous: true }),
      );
      expect(archived.message).toContain("archived");

      // An entry that removed the alias points at nothing.
      const removal = (await getAliasHistory(db.client, M, "challenger"))[0]!;
      expect(removal.kind).toBe("remove");
      await t.refused(409, () =>
        rollbackAlias(db.client, operator, {
          modelName: M,
          alias: "challenger",
          toHistoryEntryId: removal.id,
        }),
      );

      // Exactly one of previous / toHistoryEntryId.
      await t.refused(400, () =>
        rollbackAlias(db.client, operator, {
          modelName: M,
          alias: "production",
        } as unknown as Parameters<typeof rollbackAlias>[2]),
      );
      expect((await getAlias(db.client, M, "production")).version).toBe(2);
    });

    it("rollback of `previous` after a removal restores the removed alias", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      await t.seedVersions(operator, M, 1);
      await setAlias(db.client, operator, { modelName: M, alias: "staging", version: 1 });
      await removeAlias(db.client, operator, { modelName: M, alias: "staging" });
      const restored = await rollbackAlias(db.client, operator, {
        modelName: M,
        alias: "staging",
        previous: true,
      });
      expect(restored).toMatchObject({
        outcome: "moved",
        alias: { version: 1 },
        history: { fromVersion: null, toVersion: { version: 1 } },
      });
    });
  });

  it("records token and system actors as they are", async () => {
    const admin = await t.seedActor("admin");
    await t.seedModel(admin);
    await t.seedVersions(admin, M, 2);
    const token: Actor & { role: "operator" } = {
      type: "token",
      id: "5f0c3c1e-0000-4000-8000-000000000001",
      label: "token:ci",
      role: "operator",
    };
    const system: Actor & { role: "admin" } = { type: "system", label: "system", role: "admin" };
    await setAlias(db.client, token, { modelName: M, alias: "staging", version: 1 });
    await setAlias(db.client, system, { modelName: M, alias: "staging", version: 2 });
    const [bySystem, byToken] = await getAliasHistory(db.client, M, "staging");
    expect(byToken!.actor).toEqual({ type: "token", id: token.id, label: "token:ci" });
    expect(bySystem!.actor).toEqual({ type: "system", id: null, label: "system" });
  });
});
