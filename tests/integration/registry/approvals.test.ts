import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createApiToken } from "../../../lib/auth/tokens";
import {
  approvePromotion,
  cancelPromotion,
  getAliasHistory,
  getModel,
  getPromotionRequest,
  listPromotionRequests,
  rejectPromotion,
  rollbackAlias,
  setAlias,
  type AliasActor,
  type PromotionRequestView,
} from "../../../lib/registry";
import { useRegistryDb } from "./fixtures";

const M = "gated";

describe("lib/registry approvals", () => {
  const t = useRegistryDb();
  const { db } = t;

  /** A model with approval on, versions 1..n, production on v1 (set before approval was on). */
  async function gatedModel(admin: AliasActor, n = 2) {
    await t.seedModel(admin, M);
    await t.seedVersions(admin, M, n);
    await setAlias(db.client, admin, { modelName: M, alias: "production", version: 1 });
    await db.client.model.update({ where: { name: M }, data: { approvalRequired: true } });
  }

  async function request(actor: AliasActor, version = 2, reason = "better recall") {
    const result = await t.oneAudit("promotion.request", () =>
      setAlias(db.client, actor, { modelName: M, alias: "production", version, reason }),
    );
    expect(result.outcome).toBe("requested");
    return (result as { request: PromotionRequestView }).request;
  }

  const productionVersion = async () => (await getModel(db.client, M)).productionVersion;

  it("moving production opens a pending request instead; staging still moves directly", async () => {
    const admin = await t.seedActor("admin");
    const operator = await t.seedActor("operator");
    await gatedModel(admin);
    const historyBefore = await db.client.aliasHistory.count();

    const req = await request(operator);
    expect(req).toMatchObject({
      model: M,
      alias: "production",
      version: { version: 2, status: "ready" },
      status: "pending",
      reason: "better recall",
      requestedBy: { type: "user", id: operator.id, label: operator.label },
      decidedBy: null,
      decidedAt: null,
    });
    expect(await productionVersion()).toBe(1);
    expect(await db.client.aliasHistory.count()).toBe(historyBefore);
    expect((await getModel(db.client, M)).pendingPromotionCount).toBe(1);

    // The same request again is a 409 naming the pending one; the current target is a no-op.
    const dup = await t.refused(409, () =>
      setAlias(db.client, operator, { modelName: M, alias: "production", version: 2 }),
    );
    expect(dup.details).toEqual({ requestId: req.id });
    const noop = await setAlias(db.client, operator, {
      modelName: M,
      alias: "production",
      version: 1,
    });
    expect(noop.outcome).toBe("unchanged");

    const staging = await setAlias(db.client, operator, {
      modelName: M,
      alias: "staging",
      version: 2,
    });
    expect(staging.outcome).toBe("moved");
  });

  it("the requester cannot approve their own request (403), nor can a non-admin; another admin can", async () => {
    const requester = await t.seedActor("admin", "requester");
    const operator = await t.seedActor("operator");
    const approver = await t.seedActor("admin", "approver");
    await gatedModel(requester);
    const req = await request(requester);

    const own = await t.refused(403, () =>
      approvePromotion(db.client, requester, { requestId: req.id }),
    );
    expect(own.message).toContain("You requested this promotion");
    const notAdmin = await t.refused(403, () =>
      approvePromotion(db.client, operator, { requestId: req.id }),
    );
    expect(notAdmin.message).toContain("Only an admin");
    expect(await productionVersion()).toBe(1);
    expect((await getPromotionRequest(db.client, req.id)).status).toBe("pending");

    const approved = await t.oneAudit("promotion.approve", () =>
      approvePromotion(db.client, approver, { requestId: req.id, note: "ship it" }, "10.3.3.3"),
    );
    expect(approved.request).toMatchObject({
      status: "approved",
      note: "ship it",
      decidedBy: { type: "user", id: approver.id, label: approver.label },
    });
    expect(approved.request.decidedAt).not.toBeNull();
    expect(approved.alias).toMatchObject({ name: "production", version: 2 });
    expect(approved.history).toMatchObject({
      kind: "approval",
      fromVersion: { version: 1 },
      toVersion: { version: 2 },
      actor: { id: approver.id },
      reason: "better recall",
      promotionRequestId: req.id,
    });
    expect(await productionVersion()).toBe(2);
    const [latest] = await getAliasHistory(db.client, M, "production");
    expect(latest).toEqual(approved.history);
    const entry = (await t.auditRows()).at(-1)!;
    expect(entry).toMatchObject({
      actorId: approver.id,
      resourceType: "promotion_request",
      resourceId: req.id,
      ipAddress: "10.3.3.3",
      before: { status: "pending", version: 1 },
      after: { status: "approved", version: 2, requestedBy: requester.label, note: "ship it" },
    });

    // Decided once: approving, rejecting or cancelling again is a 409.
    await t.refused(409, () => approvePromotion(db.client, approver, { requestId: req.id }));
    await t.refused(409, () => rejectPromotion(db.client, approver, { requestId: req.id }));
    await t.refused(409, () => cancelPromotion(db.client, requester, { requestId: req.id }));
  });

  it("an API token counts as the user who created it", async () => {
    const alice = await t.seedActor("admin", "alice");
    const bob = await t.seedActor("admin", "bob");
    await gatedModel(alice, 3);
    const { token } = await createApiToken(db.client, alice, { name: "alice-ci", role: "admin" });
    const aliceToken: AliasActor = {
      type: "token",
      id: token.id,
      label: "token:alice-ci",
      role: "admin",
    };

    // Requested signed in, approved with her own token: refused.
    const req = await request(alice);
    await t.refused(403, () => approvePromotion(db.client, aliceToken, { requestId: req.id }));
    await t.refused(403, () => rejectPromotion(db.client, aliceToken, { requestId: req.id }));
    // ...but her token may cancel her request.
    await t.oneAudit("promotion.cancel", () =>
      cancelPromotion(db.client, aliceToken, { requestId: req.id }),
    );

    // Requested with the token, approved signed in as Alice: refused; Bob may.
    const viaToken = await request(aliceToken, 3);
    await t.refused(403, () => approvePromotion(db.client, alice, { requestId: viaToken.id }));
    await approvePromotion(db.client, bob, { requestId: viaToken.id });
    expect(await productionVersion()).toBe(3);
  });

  it("a rejected request changes nothing but its status", async () => {
    const admin = await t.seedActor("admin");
    const operator = await t.seedActor("operator");
    await gatedModel(admin);
    const req = await request(operator);
    const snapshot = async () => ({
      aliases: await db.client.modelAlias.findMany({ orderBy: { name: "asc" } }),
      history: await db.client.aliasHistory.findMany({ orderBy: { id: "asc" } }),
      versions: await db.client.modelVersion.findMany({ orderBy: { version: "asc" } }),
      model: await db.client.model.findUnique({ where: { name: M } }),
    });
    const before = await snapshot();

    await t.refused(403, () => rejectPromotion(db.client, operator, { requestId: req.id }));
    const rejected = await t.oneAudit("promotion.reject", () =>
      rejectPromotion(db.client, admin, { requestId: req.id, note: "needs evaluation" }),
    );
    expect(rejected).toMatchObject({
      status: "rejected",
      note: "needs evaluation",
      decidedBy: { id: admin.id },
    });
    expect(await snapshot()).toEqual(before);
    await t.refused(409, () => approvePromotion(db.client, admin, { requestId: req.id }));
    expect(await snapshot()).toEqual(before);
  });

  it("only the requester can cancel; approving a request whose target was archived is a 409", async () => {
    const admin = await t.seedActor("admin");
    const operator = await t.seedActor("operator");
    const other = await t.seedActor("operator", "other");
    await gatedModel(admin, 3);

    const req = await request(operator);
    await t.refused(403, () => cancelPromotion(db.client, other, { requestId: req.id }));
    await t.refused(403, () => cancelPromotion(db.client, admin, { requestId: req.id }));
    const cancelled = await t.oneAudit("promotion.cancel", () =>
      cancelPromotion(db.client, operator, { requestId: req.id, note: "wrong version" }),
    );
    expect(cancelled).toMatchObject({ status: "cancelled", decidedBy: { id: operator.id } });

    const req3 = await request(operator, 3);
    await db.client.modelVersion.updateMany({
      where: { version: 3 },
      data: { status: "archived" },
    });
    const error = await t.refused(409, () =>
      approvePromotion(db.client, admin, { requestId: req3.id }),
    );
    expect(error.message).toContain("archived");
    expect((await getPromotionRequest(db.client, req3.id)).status).toBe("pending");
    expect(await productionVersion()).toBe(1);

    for (const id of [randomUUID(), "not-a-uuid"]) {
      await t.refused(404, () => approvePromotion(db.client, admin, { requestId: id }));
      await t.refused(404, () => cancelPromotion(db.client, operator, { requestId: id }));
      await expect(getPromotionRequest(db.client, id)).rejects.toMatchObject({ status: 404 });
    }
  });

  it("four admins deciding one request at once: exactly one decision wins", async () => {
    const requester = await t.seedActor("operator");
    const admins = await Promise.all([1, 2, 3, 4].map((i) => t.seedActor("admin", `admin${i}`)));
    await gatedModel(admins[0]!);
    const clients = await t.clients(4);
    const v1 = await db.client.modelVersion.findFirstOrThrow({ where: { version: 1 } });
    for (let round = 0; round < 3; round++) {
      // Start each round from production = v1 (a rejection in the last round left it there).
      await db.client.modelAlias.updateMany({
        where: { name: "production" },
        data: { versionId: v1.id },
      });
      const req = await request(requester);
      const results = await Promise.allSettled(
        admins.map((a, i) =>
          i % 2 === 0
            ? approvePromotion(clients[i]!, a, { requestId: req.id })
            : rejectPromotion(clients[i]!, a, { requestId: req.id }),
        ),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results.filter((r) => r.status === "rejected")) {
        expect(r.reason).toMatchObject({ status: 409 });
      }
      const decided = await getPromotionRequest(db.client, req.id);
      expect(["approved", "rejected"]).toContain(decided.status);
      expect(await productionVersion()).toBe(decided.status === "approved" ? 2 : 1);
      const decisions = await db.client.auditEntry.count({
        where: { resourceId: req.id, action: { in: ["promotion.approve", "promotion.reject"] } },
      });
      expect(decisions).toBe(1);
    }
  });

  it("rollback is not subject to approval", async () => {
    const admin = await t.seedActor("admin");
    const operator = await t.seedActor("operator");
    await gatedModel(admin);
    const req = await request(operator);
    await approvePromotion(db.client, admin, { requestId: req.id });
    expect(await productionVersion()).toBe(2);
    const back = await rollbackAlias(db.client, operator, {
      modelName: M,
      alias: "production",
      previous: true,
      reason: "incident",
    });
    expect(back.outcome).toBe("moved");
    expect(await productionVersion()).toBe(1);
  });

  it("approval is compare-and-set: refused when production moved since the request, unless the approver names where it is now", async () => {
    const admin = await t.seedActor("admin");
    const operator = await t.seedActor("operator");
    await gatedModel(admin, 3);
    const stale = await request(operator, 2);
    // Production moves after the request was made (an incident rollback-like move: approval
    // off for a moment, as a second admin might do).
    await db.client.model.update({ where: { name: M }, data: { approvalRequired: false } });
    await setAlias(db.client, admin, { modelName: M, alias: "production", version: 3 });
    await db.client.model.update({ where: { name: M }, data: { approvalRequired: true } });

    const blind = await t.refused(409, () =>
      approvePromotion(db.client, admin, { requestId: stale.id }),
    );
    expect(blind.details).toMatchObject({
      reason: "alias_moved",
      expectedVersion: 1,
      currentVersion: 3,
    });
    const wrong = await t.refused(409, () =>
      approvePromotion(db.client, admin, { requestId: stale.id, expectedVersion: 1 }),
    );
    expect(wrong.details).toMatchObject({ reason: "alias_moved", currentVersion: 3 });
    expect(await productionVersion()).toBe(3);
    expect((await getPromotionRequest(db.client, stale.id)).status).toBe("pending");

    // Having seen v3, the approver goes ahead deliberately.
    const approved = await approvePromotion(db.client, admin, {
      requestId: stale.id,
      expectedVersion: 3,
    });
    expect(approved.history).toMatchObject({
      fromVersion: { version: 3 },
      toVersion: { version: 2 },
    });
    expect(await productionVersion()).toBe(2);
  });

  it("lists requests newest first by status and model", async () => {
    const admin = await t.seedActor("admin");
    const operator = await t.seedActor("operator");
    await gatedModel(admin, 4);
    const r2 = await request(operator, 2);
    const r3 = await request(operator, 3);
    const r4 = await request(operator, 4);
    // Distinct creation times, a minute apart (the calls above may share a millisecond).
    for (const [i, r] of [r2, r3, r4].entries()) {
      await db.client.promotionRequest.update({
        where: { id: r.id },
        data: { createdAt: new Date(Date.UTC(2026, 0, 1, 12, i)) },
      });
    }
    await rejectPromotion(db.client, admin, { requestId: r3.id });

    const pending = await listPromotionRequests(db.client, { status: "pending" });
    expect(pending.requests.map((r) => r.id)).toEqual([r4.id, r2.id]);
    expect(pending.total).toBe(2);
    const all = await listPromotionRequests(db.client, { modelName: M });
    expect(all.requests.map((r) => r.status)).toEqual(["pending", "rejected", "pending"]);
    expect((await listPromotionRequests(db.client, { modelName: "other" })).total).toBe(0);
    expect((await listPromotionRequests(db.client, { modelName: "Not A Slug" })).total).toBe(0);
    const page = await listPromotionRequests(db.client, { page: 2, pageSize: 2 });
    expect(page.requests.map((r) => r.id)).toEqual([r2.id]);
  });
});
