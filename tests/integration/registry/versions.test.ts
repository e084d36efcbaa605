import { describe, expect, it } from "vitest";
import {
  archiveVersion,
  createVersion,
  getVersion,
  listVersions,
  parseVersionNumber,
  resolveVersion,
  setAlias,
  unarchiveVersion,
} from "../../../lib/registry";
import { SIGNATURE, useRegistryDb } from "./fixtures";

describe("lib/registry versions", () => {
  const t = useRegistryDb();
  const { db } = t;

  describe("createVersion", () => {
    it("registers a staged artifact as version 1 with lineage, display facts and a version.create entry", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      const input = t.versionInput("fraud-detector", "bytes-1");
      const v1 = await t.oneAudit("version.create", () =>
        createVersion(
          db.client,
          operator,
          {
            ...input,
            sha256: input.sha256.toUpperCase(),
            sizeBytes: 5n * 1024n ** 3n, // a BigInt past 2^32 survives the round trip
            originalFilename: "../../etc/model.onnx",
            description: "first cut",
            tags: ["Baseline"],
            source: "git:abc123",
          },
          "10.1.1.1",
        ),
      );
      expect(v1).toMatchObject({
        model: "fraud-detector",
        version: 1,
        sha256: input.sha256,
        sizeBytes: 5 * 1024 ** 3,
        storageKey: input.storageKey,
        opset: 17,
        inputCount: 2,
        outputCount: 1,
        description: "first cut",
        tags: ["baseline"],
        source: "git:abc123",
        originalFilename: "model.onnx",
        lineage: { kind: "upload", parent: null },
        status: "ready",
        archivedAt: null,
        createdBy: { type: "user", id: operator.id, label: operator.label },
        aliases: [],
        signature: SIGNATURE,
      });
      const entry = (await t.auditRows()).at(-1)!;
      expect(entry).toMatchObject({
        resourceType: "model_version",
        resourceId: v1.id,
        ipAddress: "10.1.1.1",
        after: { model: "fraud-detector", version: 1, sha256: input.sha256 },
      });

      const v2 = await createVersion(db.client, operator, {
        ...t.versionInput("fraud-detector", "bytes-2"),
        signature: { something: "else" },
        summary: { opset: 13, inputCount: 1 },
        lineage: { kind: "retrain", parentVersion: 1 },
      });
      expect(v2).toMatchObject({
        version: 2,
        opset: 13,
        inputCount: 1,
        outputCount: null,
        lineage: { kind: "retrain", parent: { id: v1.id, version: 1 } },
      });
    });

    it("answers 409 naming the existing version for the same bytes twice, writing nothing", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      await t.seedVersions(operator, "fraud-detector", 3);
      const again = t.versionInput("fraud-detector", "fraud-detector-1"); // version 2's bytes
      const error = await t.refused(409, () =>
        createVersion(db.client, operator, { ...again, storageKey: "somewhere/else" }),
      );
      expect(error.message).toMatch(/already version 2 of model fraud-detector/);
      expect(error.details).toMatchObject({ existingVersion: 2, sha256: again.sha256 });
      expect(await db.client.modelVersion.count()).toBe(3);
      // The failed attempt consumed no number.
      const v4 = await createVersion(db.client, operator, t.versionInput("fraud-detector", "new"));
      expect(v4.version).toBe(4);

      // The same bytes in another model are fine.
      await t.seedModel(operator, "other");
      const other = await createVersion(db.client, operator, { ...again, modelName: "other" });
      expect(other.version).toBe(1);
    });

    it("validates its input (400) and needs a known model and parent (404)", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      const base = t.versionInput("fraud-detector", "x");
      const cases: [string, Partial<typeof base> & Record<string, unknown>][] = [
        ["sha256", { sha256: "abc" }],
        ["sha256", { sha256: "g".repeat(64) }],
        ["sizeBytes", { sizeBytes: -1 }],
        ["sizeBytes", { sizeBytes: 1.5 }],
        ["storageKey", { storageKey: "" }],
        ["signature", { signature: [1, 2] }],
        ["signature", { signature: null }],
        ["signature", { signature: "text" }],
        ["tags", { tags: ["ok", ""] }],
        ["lineage.kind", { lineage: { kind: "copy" as "upload" } }],
        ["lineage.parentVersion", { lineage: { kind: "retrain", parentVersion: 0 } }],
      ];
      for (const [field, patch] of cases) {
        const error = await t.refused(400, () =>
          createVersion(db.client, operator, { ...base, ...patch } as typeof base),
        );
        expect(JSON.stringify(error.details), field).toContain(`"field":"${field}`);
      }
      await t.refused(404, () =>
        createVersion(db.client, operator, { ...base, modelName: "missing" }),
      );
      await t.refused(404, () =>
        createVersion(db.client, operator, {
          ...base,
          lineage: { kind: "retrain", parentVersion: 7 },
        }),
      );
      expect(await db.client.modelVersion.count()).toBe(0);
    });

    it("20 concurrent uploads to one model get versions 1..20: no gap, no duplicate, one audit entry each", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      const clients = await t.clients(4);
      const started = Date.now();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          createVersion(
            clients[i % clients.length]!,
            operator,
            t.versionInput("fraud-detector", `concurrent-${i}`),
          ),
        ),
      );
      const elapsed = Date.now() - started;
      const rejected = results.filter((r) => r.status === "rejected");
      expect(rejected.map((r) => String(r.reason))).toEqual([]);
      const numbers = results
        .map((r) => (r.status === "fulfilled" ? r.value.version : 0))
        .sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const rows = await db.client.modelVersion.findMany({ orderBy: { version: "asc" } });
      expect(rows.map((r) => r.version)).toEqual(numbers);
      expect(await db.client.auditEntry.count({ where: { action: "version.create" } })).toBe(20);
      expect(elapsed).toBeLessThan(20_000);
    });

    it("concurrent uploads of the same bytes: one version, the others 409 naming it", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      const clients = await t.clients(3);
      const input = t.versionInput("fraud-detector", "same");
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => createVersion(clients[i % 3]!, operator, input)),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results.filter((r) => r.status === "rejected")) {
        expect(r.reason).toMatchObject({ status: 409, details: { existingVersion: 1 } });
      }
      expect(await db.client.auditEntry.count({ where: { action: "version.create" } })).toBe(1);
    });
  });

  describe("reading versions", () => {
    it("lists newest first with the aliases pointing at each, and resolves numbers, aliases and latest", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      await t.seedVersions(operator, "fraud-detector", 3);
      await setAlias(db.client, operator, {
        modelName: "fraud-detector",
        alias: "production",
        version: 2,
      });
      await setAlias(db.client, operator, {
        modelName: "fraud-detector",
        alias: "challenger",
        version: 2,
      });
      await setAlias(db.client, operator, {
        modelName: "fraud-detector",
        alias: "staging",
        version: 3,
      });
      await archiveVersion(db.client, operator, { modelName: "fraud-detector", version: 1 });

      const list = await listVersions(db.client, "fraud-detector");
      expect(list.map((v) => [v.version, v.aliases, v.status])).toEqual([
        [3, ["staging"], "ready"],
        [2, ["challenger", "production"], "ready"],
        [1, [], "archived"],
      ]);
      expect(list[0]).not.toHaveProperty("signature");
      expect(
        (await listVersions(db.client, "fraud-detector", { status: "archived" })).map(
          (v) => v.version,
        ),
      ).toEqual([1]);

      expect((await getVersion(db.client, "fraud-detector", 2)).aliases).toEqual([
        "challenger",
        "production",
      ]);
      expect((await resolveVersion(db.client, "fraud-detector", "production")).version).toBe(2);
      expect((await resolveVersion(db.client, "fraud-detector", "3")).version).toBe(3);
      expect((await resolveVersion(db.client, "fraud-detector", "latest")).version).toBe(3);
      await expect(resolveVersion(db.client, "fraud-detector", "nope")).rejects.toMatchObject({
        status: 404,
      });

      for (const bad of [0, 4, 1.5, -1, 2 ** 40]) {
        await expect(getVersion(db.client, "fraud-detector", bad)).rejects.toMatchObject({
          status: 404,
        });
      }
      await expect(getVersion(db.client, "missing", 1)).rejects.toMatchObject({ status: 404 });
      await expect(listVersions(db.client, "missing")).rejects.toMatchObject({ status: 404 });
      expect(parseVersionNumber("12")).toBe(12);
      for (const text of ["0", "01x", "-1", "99999999999", "latest"]) {
        expect(() => parseVersionNumber(text)).toThrow(/was not found/);
      }
    });
  });

  describe("archiveVersion / unarchiveVersion", () => {
    it("archives and unarchives with one audit entry each; refused while aliased or already in that state", async () => {
      const operator = await t.seedActor("operator");
      await t.seedModel(operator);
      await t.seedVersions(operator, "fraud-detector", 2);
      await setAlias(db.client, operator, {
        modelName: "fraud-detector",
        alias: "production",
        version: 1,
      });
      await setAlias(db.client, operator, {
        modelName: "fraud-detector",
        alias: "staging",
        version: 1,
      });

      const error = await t.refused(409, () =>
        archiveVersion(db.client, operator, { modelName: "fraud-detector", version: 1 }),
      );
      expect(error.message).toContain("production, staging point at");
      expect(error.details).toEqual({ aliases: ["production", "staging"] });

      const archived = await t.oneAudit("version.archive", () =>
        archiveVersion(db.client, operator, { modelName: "fraud-detector", version: 2 }),
      );
      expect(archived.status).toBe("archived");
      expect(archived.archivedAt).not.toBeNull();
      await t.refused(409, () =>
        archiveVersion(db.client, operator, { modelName: "fraud-detector", version: 2 }),
      );
      // An archived version cannot be promoted.
      await t.refused(409, () =>
        setAlias(db.client, operator, {
          modelName: "fraud-detector",
          alias: "staging",
          version: 2,
        }),
      );

      const back = await t.oneAudit("version.unarchive", () =>
        unarchiveVersion(db.client, operator, { modelName: "fraud-detector", version: 2 }),
      );
      expect(back).toMatchObject({ status: "ready", archivedAt: null });
      await t.refused(409, () =>
        unarchiveVersion(db.client, operator, { modelName: "fraud-detector", version: 2 }),
      );
      await t.refused(404, () =>
        archiveVersion(db.client, operator, { modelName: "fraud-detector", version: 9 }),
      );
    });
  });
});
