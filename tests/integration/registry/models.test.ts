import { describe, expect, it } from "vitest";
import {
  createModel,
  createVersion,
  deleteModel,
  findUnreferencedStorageKeys,
  getModel,
  listModels,
  removeAlias,
  setAlias,
  updateModel,
} from "../../../lib/registry";
import { useRegistryDb } from "./fixtures";

describe("lib/registry models", () => {
  const t = useRegistryDb();
  const { db } = t;

  describe("createModel", () => {
    it("creates a model with a model.create audit entry and normalised tags", async () => {
      const admin = await t.seedActor("admin");
      const model = await t.oneAudit("model.create", () =>
        createModel(
          db.client,
          admin,
          {
            name: "fraud-detector",
            task: "classification",
            description: "  Flags card fraud.  ",
            tags: ["Tabular", " finance ", "tabular"],
          },
          "10.0.0.1",
        ),
      );
      expect(model).toMatchObject({
        name: "fraud-detector",
        task: "classification",
        description: "Flags card fraud.",
        tags: ["tabular", "finance"],
        approvalRequired: false,
        createdBy: { type: "user", id: admin.id, label: admin.label },
        versionCount: 0,
        latestVersion: null,
        aliases: [],
        productionVersion: null,
        pendingPromotionCount: 0,
      });
      const [entry] = await t.auditRows();
      expect(entry).toMatchObject({
        actorId: admin.id,
        resourceType: "model",
        resourceId: model.id,
        ipAddress: "10.0.0.1",
        after: { name: "fraud-detector", task: "classification" },
      });
    });

    it("refuses names that are not URL-safe slugs (400) and duplicates (409), writing nothing", async () => {
      const admin = await t.seedActor("admin");
      for (const name of ["", "Fraud", "-lead", ".hidden", "a/b", "a b", "x".repeat(64), "é"]) {
        const error = await t.refused(400, () =>
          createModel(db.client, admin, { name, task: "other" }),
        );
        expect(error.code).toBe("validation_failed");
        expect(error.details).toMatchObject({ fields: [{ field: "name" }] });
      }
      for (const name of ["a", "0", "iris_v2.onnx-like", "x".repeat(63)]) {
        await createModel(db.client, admin, { name, task: "other" });
      }
      await t.refused(400, () =>
        createModel(db.client, admin, { name: "bad-task", task: "ranking" as "other" }),
      );
      await t.refused(400, () =>
        createModel(db.client, admin, { name: "bad-tags", task: "other", tags: ["a,b"] }),
      );
      const dup = await t.refused(409, () =>
        createModel(db.client, admin, { name: "a", task: "regression" }),
      );
      expect(dup.message).toContain("a");
      expect(await db.client.model.count()).toBe(4);
    });
  });

  describe("updateModel", () => {
    it("changes only what differs and audits before/after; a no-op writes nothing", async () => {
      const admin = await t.seedActor("admin");
      await t.seedModel(admin);
      const updated = await t.oneAudit("model.update", () =>
        updateModel(db.client, admin, "fraud-detector", {
          description: "v2 of the story",
          task: "classification",
          tags: ["risk"],
        }),
      );
      expect(updated).toMatchObject({ description: "v2 of the story", tags: ["risk"] });
      const entry = (await t.auditRows()).at(-1)!;
      expect(entry.before).toEqual({ name: "fraud-detector", description: "", tags: [] });
      expect(entry.after).toEqual({
        name: "fraud-detector",
        description: "v2 of the story",
        tags: ["risk"],
      });

      const before = await t.auditCount();
      const same = await updateModel(db.client, admin, "fraud-detector", { tags: ["risk"] });
      expect(same.tags).toEqual(["risk"]);
      expect(await t.auditCount()).toBe(before);
    });

    it("lets only an admin switch the approval requirement", async () => {
      const admin = await t.seedActor("admin");
      const operator = await t.seedActor("operator");
      await t.seedModel(admin);
      await t.refused(403, () =>
        updateModel(db.client, operator, "fraud-detector", { approvalRequired: true }),
      );
      // An operator may still send the current value (a form that posts every field).
      await updateModel(db.client, operator, "fraud-detector", {
        approvalRequired: false,
        description: "edited by an operator",
      });
      const on = await t.oneAudit("model.update", () =>
        updateModel(db.client, admin, "fraud-detector", { approvalRequired: true }),
      );
      expect(on.approvalRequired).toBe(true);
      await t.refused(403, () =>
        updateModel(db.client, operator, "fraud-detector", { approvalRequired: false }),
      );
    });

    it("answers 404 for an unknown model", async () => {
      const admin = await t.seedActor("admin");
      await t.refused(404, () => updateModel(db.client, admin, "nope", { description: "x" }));
      await t.refused(404, () => updateModel(db.client, admin, "Not A Slug", {}));
      await expect(getModel(db.client, "nope")).rejects.toMatchObject({ status: 404 });
    });
  });

  describe("listModels", () => {
    it("searches name/description/tag, filters by task, tag and production, and pages", async () => {
      const admin = await t.seedActor("admin");
      await createModel(db.client, admin, {
        name: "fraud-detector",
        task: "classification",
        description: "Card fraud",
        tags: ["finance", "tabular"],
      });
      await createModel(db.client, admin, {
        name: "house-prices",
        task: "regression",
        description: "Predicts 100% of prices",
        tags: ["tabular"],
      });
      await createModel(db.client, admin, {
        name: "vad",
        task: "other",
        description: "Voice activity",
        tags: ["audio"],
      });
      await t.seedVersions(admin, "house-prices", 2);
      await setAlias(db.client, admin, {
        modelName: "house-prices",
        alias: "production",
        version: 2,
      });
      await setAlias(db.client, admin, { modelName: "house-prices", alias: "staging", version: 1 });

      const names = async (filter: Parameters<typeof listModels>[1]) =>
        (await listModels(db.client, filter)).models.map((m) => m.name);

      expect(await names({})).toEqual(["fraud-detector", "house-prices", "vad"]);
      expect(await names({ search: "FRAUD" })).toEqual(["fraud-detector"]);
      expect(await names({ search: "voice" })).toEqual(["vad"]);
      expect(await names({ search: "audio" })).toEqual(["vad"]); // exact tag
      expect(await names({ search: "100%" })).toEqual(["house-prices"]);
      expect(await names({ search: "%" })).toEqual(["house-prices"]); // % is literal
      expect(await names({ search: "_" })).toEqual([]); // _ is literal
      expect(await names({ task: "regression" })).toEqual(["house-prices"]);
      expect(await names({ tag: "tabular" })).toEqual(["fraud-detector", "house-prices"]);
      expect(await names({ tag: "Tabular", task: "classification" })).toEqual(["fraud-detector"]);
      expect(await names({ hasProduction: true })).toEqual(["house-prices"]);
      expect(await names({ hasProduction: false })).toEqual(["fraud-detector", "vad"]);

      const page2 = await listModels(db.client, { page: 2, pageSize: 2 });
      expect(page2).toMatchObject({ total: 3, page: 2, pageSize: 2 });
      expect(page2.models.map((m) => m.name)).toEqual(["vad"]);

      const house = (await listModels(db.client, { search: "house" })).models[0]!;
      expect(house).toMatchObject({
        versionCount: 2,
        latestVersion: 2,
        productionVersion: 2,
        aliases: [
          { name: "production", version: 2, protected: true },
          { name: "staging", version: 1, protected: true },
        ],
      });
      expect(await getModel(db.client, "house-prices")).toEqual(house);
    });
  });

  describe("deleteModel", () => {
    it("is refused while an alias points at a version, then deletes everything but the audit log", async () => {
      const admin = await t.seedActor("admin");
      await t.seedModel(admin, "fraud-detector");
      const [v1, v2] = await t.seedVersions(admin, "fraud-detector", 2);
      await setAlias(db.client, admin, {
        modelName: "fraud-detector",
        alias: "staging",
        version: 1,
      });
      await setAlias(db.client, admin, {
        modelName: "fraud-detector",
        alias: "challenger",
        version: 2,
      });

      const error = await t.refused(409, () => deleteModel(db.client, admin, "fraud-detector"));
      expect(error.message).toContain("challenger → v2, staging → v1");
      expect(await db.client.modelVersion.count()).toBe(2);

      // A second model shares v2's bytes (content-addressed store: same storage key).
      await t.seedModel(admin, "fraud-copy");
      await createVersion(db.client, admin, {
        ...t.versionInput("fraud-copy", "fraud-detector-1"),
      });

      await removeAlias(db.client, admin, { modelName: "fraud-detector", alias: "staging" });
      await removeAlias(db.client, admin, { modelName: "fraud-detector", alias: "challenger" });
      const deleted = await t.oneAudit("model.delete", () =>
        deleteModel(db.client, admin, "fraud-detector", "10.0.0.9"),
      );
      expect(deleted).toMatchObject({ name: "fraud-detector", deletedVersions: 2 });
      // v2's key is still used by fraud-copy, so only v1's may be collected.
      expect(deleted.unreferencedStorageKeys).toEqual([v1!.storageKey]);
      expect(v2!.storageKey).not.toBe(v1!.storageKey);

      expect(await db.client.model.findMany({ select: { name: true } })).toEqual([
        { name: "fraud-copy" },
      ]);
      expect(await db.client.modelVersion.count()).toBe(1);
      expect(await db.client.aliasHistory.count()).toBe(0);
      expect(
        await findUnreferencedStorageKeys(db.client, [v1!.storageKey, v2!.storageKey]),
      ).toEqual([v1!.storageKey]);
      const entry = (await t.auditRows()).at(-1)!;
      expect(entry).toMatchObject({
        resourceType: "model",
        resourceId: deleted.id,
        before: { name: "fraud-detector", versions: 2 },
      });
      await t.refused(404, () => deleteModel(db.client, admin, "fraud-detector"));
    });

    it("deletes a model with pending promotion requests", async () => {
      const admin = await t.seedActor("admin");
      const operator = await t.seedActor("operator");
      await t.seedModel(admin, "gated", { approvalRequired: true });
      await t.seedVersions(admin, "gated", 1);
      const result = await setAlias(db.client, operator, {
        modelName: "gated",
        alias: "production",
        version: 1,
      });
      expect(result.outcome).toBe("requested");
      await deleteModel(db.client, admin, "gated");
      expect(await db.client.promotionRequest.count()).toBe(0);
    });
  });
});
