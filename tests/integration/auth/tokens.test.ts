import { createHash, randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { SYSTEM_ACTOR, type Actor } from "../../../lib/audit";
import type { Role } from "../../../lib/auth/roles";
import {
  createApiToken,
  createCachedTokenVerifier,
  generateTokenSecret,
  registerBootstrapToken,
  revokeApiToken,
  TOKEN_PREFIX,
  verifyApiToken,
} from "../../../lib/auth/tokens";
import type { PrismaClient } from "../../../lib/db/generated/client";
import { adminQuery, createTestPrisma, truncateAll, useTestDatabase } from "../helpers/db";

describe("lib/auth/tokens", () => {
  const db = useTestDatabase();

  const extraClients: PrismaClient[] = [];
  afterAll(async () => {
    await Promise.all(extraClients.map((c) => c.$disconnect()));
  });
  function newClient(): PrismaClient {
    const client = createTestPrisma(db.url);
    extraClients.push(client);
    return client;
  }

  async function seedActor(role: Role): Promise<Actor & { role: Role }> {
    const id = randomUUID();
    const email = `${role}-${id.slice(0, 6)}@example.com`;
    await db.client.user.create({ data: { id, email, name: role, role } });
    return { type: "user", id, label: email, role };
  }

  async function rejection(promise: Promise<unknown>): Promise<ApiError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }

  /** Every column of every api_token and audit_entry row, as text. */
  async function storedText(): Promise<string> {
    const rows = await adminQuery<{ t: string }>(
      db.url,
      `SELECT coalesce((SELECT string_agg(row_to_json(t)::text, '\n') FROM api_token t), '')
           || '\n' ||
              coalesce((SELECT string_agg(row_to_json(a)::text, '\n') FROM audit_entry a), '') AS t`,
    );
    return rows[0]!.t;
  }

  const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
  const BOOTSTRAP = TOKEN_PREFIX + "b".repeat(40);

  describe("createApiToken", () => {
    it("returns the secret once and stores only its SHA-256, with a token.create audit entry", async () => {
      const actor = await seedActor("admin");
      const expiresAt = new Date(Date.now() + 86_400_000);
      const { token, secret } = await createApiToken(
        db.client,
        actor,
        { name: "ci", role: "operator", expiresAt },
        "10.1.2.3",
      );
      expect(secret).toMatch(/^mdk_[A-Za-z0-9_-]{43}$/);
      expect(token).toMatchObject({
        name: "ci",
        role: "operator",
        prefix: secret.slice(0, 12),
        status: "active",
        expiresAt: expiresAt.toISOString(),
        createdBy: { id: actor.id, email: actor.label },
        lastUsedAt: null,
        revokedAt: null,
      });

      const row = await db.client.apiToken.findUniqueOrThrow({ where: { id: token.id } });
      expect(row.secretHash).toBe(sha256(secret));
      expect(row.createdById).toBe(actor.id);

      const text = await storedText();
      expect(text).toContain(sha256(secret)); // sanity: the dump does include the row
      expect(text).not.toContain(secret);
      // Only the 8-character display prefix may be stored; nothing after it.
      expect(text).not.toContain(secret.slice(12, 24));
      expect(text).not.toContain(secret.slice(-12));

      const entries = await db.client.auditEntry.findMany();
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        action: "token.create",
        actorType: "user",
        actorId: actor.id,
        resourceType: "api_token",
        resourceId: token.id,
        ipAddress: "10.1.2.3",
        after: { name: "ci", role: "operator", prefix: token.prefix },
      });
    });

    it("does not let a creator hand out a role above their own (403, nothing written)", async () => {
      const operator = await seedActor("operator");
      const error = await rejection(
        createApiToken(db.client, operator, { name: "escalate", role: "admin" }),
      );
      expect(error.status).toBe(403);
      const viewer = await seedActor("viewer");
      expect(
        (await rejection(createApiToken(db.client, viewer, { name: "x", role: "operator" })))
          .status,
      ).toBe(403);
      expect(await db.client.apiToken.count()).toBe(0);
      expect(await db.client.auditEntry.count()).toBe(0);

      // Up to their own role is fine.
      await createApiToken(db.client, operator, { name: "same", role: "operator" });
      await createApiToken(db.client, viewer, { name: "lower", role: "viewer" });
      expect(await db.client.apiToken.count()).toBe(2);
    });

    it("refuses an expiry in the past (400, nothing written)", async () => {
      const actor = await seedActor("admin");
      const error = await rejection(
        createApiToken(db.client, actor, {
          name: "stale",
          role: "viewer",
          expiresAt: new Date(Date.now() - 1000),
        }),
      );
      expect(error.status).toBe(400);
      expect(error.code).toBe("validation_failed");
      expect(await db.client.apiToken.count()).toBe(0);
      expect(await db.client.auditEntry.count()).toBe(0);
    });
    it("answers 409 for a chosen secret that is already registered, even when two race for it", async () => {
      const secret = generateTokenSecret();
      await createApiToken(db.client, SYSTEM_ACTOR, { name: "first", role: "viewer", secret });
      const error = await rejection(
        createApiToken(db.client, SYSTEM_ACTOR, { name: "again", role: "viewer", secret }),
      );
      expect(error.status).toBe(409);

      const clients = [db.client, newClient()];
      await Promise.all(clients.map((c) => c.$queryRaw`SELECT 1`));
      for (let round = 0; round < 5; round++) {
        const raced = generateTokenSecret();
        const results = await Promise.allSettled(
          clients.map((c) =>
            createApiToken(c, SYSTEM_ACTOR, { name: "race", role: "viewer", secret: raced }),
          ),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const rejected = results.filter((r) => r.status === "rejected");
        expect(rejected).toHaveLength(1);
        expect(rejected[0]!.reason).toBeInstanceOf(ApiError);
        expect(rejected[0]!.reason).toMatchObject({ status: 409 });
      }
      expect(await db.client.apiToken.count()).toBe(6);
      expect(await db.client.auditEntry.count()).toBe(6);
    });
  });

  describe("verifyApiToken", () => {
    it("resolves a valid secret to its token and refuses wrong, malformed, expired and revoked ones", async () => {
      const actor = await seedActor("admin");
      const { token, secret } = await createApiToken(db.client, actor, {
        name: "reader",
        role: "viewer",
      });
      expect(await verifyApiToken(db.client, secret)).toEqual({
        id: token.id,
        name: "reader",
        role: "viewer",
      });
      expect(await verifyApiToken(db.client, generateTokenSecret())).toBeNull();
      expect(await verifyApiToken(db.client, secret + "x")).toBeNull();
      expect(await verifyApiToken(db.client, secret.slice(TOKEN_PREFIX.length))).toBeNull();
      expect(await verifyApiToken(db.client, "")).toBeNull();

      // Expired: an expiry that has passed since creation.
      const expiring = await createApiToken(db.client, actor, {
        name: "expiring",
        role: "viewer",
        expiresAt: new Date(Date.now() + 60_000),
      });
      expect(await verifyApiToken(db.client, expiring.secret)).not.toBeNull();
      await db.client.apiToken.update({
        where: { id: expiring.token.id },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      expect(await verifyApiToken(db.client, expiring.secret)).toBeNull();

      await revokeApiToken(db.client, actor, token.id);
      expect(await verifyApiToken(db.client, secret)).toBeNull();
    });

    it("records lastUsedAt, but writes it at most once a minute", async () => {
      const { token, secret } = await createApiToken(db.client, SYSTEM_ACTOR, {
        name: "busy",
        role: "viewer",
      });
      const lastUsed = async () =>
        (await db.client.apiToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt;
      expect(await lastUsed()).toBeNull();

      const t0 = Date.now();
      await verifyApiToken(db.client, secret);
      const first = await lastUsed();
      expect(first).not.toBeNull();
      expect(first!.getTime()).toBeGreaterThanOrEqual(t0);

      for (let i = 0; i < 3; i++) await verifyApiToken(db.client, secret);
      expect(await lastUsed()).toEqual(first);

      // 30 s ago: still within the minute, left alone.
      const recent = new Date(Date.now() - 30_000);
      await db.client.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: recent } });
      await verifyApiToken(db.client, secret);
      expect(await lastUsed()).toEqual(recent);

      // 61 s ago: refreshed.
      const old = new Date(Date.now() - 61_000);
      await db.client.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: old } });
      const t1 = Date.now();
      await verifyApiToken(db.client, secret);
      expect((await lastUsed())!.getTime()).toBeGreaterThanOrEqual(t1);
    });
  });

  describe("revokeApiToken", () => {
    it("revokes with a token.revoke audit entry; a second revoke is a 409 with no new entry", async () => {
      const actor = await seedActor("admin");
      const { token } = await createApiToken(db.client, actor, { name: "old", role: "viewer" });
      const revoked = await revokeApiToken(db.client, actor, token.id, "10.9.9.9");
      expect(revoked.status).toBe("revoked");
      const row = await db.client.apiToken.findUniqueOrThrow({ where: { id: token.id } });
      expect(row.revokedAt).not.toBeNull();

      const error = await rejection(revokeApiToken(db.client, actor, token.id));
      expect(error.status).toBe(409);
      expect(
        (await db.client.apiToken.findUniqueOrThrow({ where: { id: token.id } })).revokedAt,
      ).toEqual(row.revokedAt);

      const entries = await db.client.auditEntry.findMany({ where: { action: "token.revoke" } });
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        actorId: actor.id,
        resourceType: "api_token",
        resourceId: token.id,
        before: { name: "old", status: "active" },
        after: { name: "old", status: "revoked" },
        ipAddress: "10.9.9.9",
      });
    });

    it("answers 404 for an unknown token", async () => {
      const error = await rejection(revokeApiToken(db.client, SYSTEM_ACTOR, randomUUID()));
      expect(error.status).toBe(404);
      expect(await db.client.auditEntry.count()).toBe(0);
    });

    it("20 concurrent revokes of one token: exactly one succeeds and one audit entry is written", async () => {
      const clients = [db.client, newClient(), newClient(), newClient()];
      // Open five connections per client first, so the revokes really run side by side.
      await Promise.all(
        clients.flatMap((c) =>
          Array.from({ length: 5 }, () => c.$executeRaw`SELECT pg_sleep(0.05)`),
        ),
      );
      for (let round = 0; round < 3; round++) {
        const { token } = await createApiToken(db.client, SYSTEM_ACTOR, {
          name: `t${round}`,
          role: "viewer",
        });
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            revokeApiToken(clients[i % clients.length]!, SYSTEM_ACTOR, token.id),
          ),
        );
        const fulfilled = results.filter((r) => r.status === "fulfilled");
        const rejected = results.filter((r) => r.status === "rejected");
        expect(fulfilled).toHaveLength(1);
        expect(rejected).toHaveLength(19);
        for (const r of rejected) expect(r.reason).toMatchObject({ status: 409 });
        expect(
          await db.client.auditEntry.count({
            where: { action: "token.revoke", resourceId: token.id },
          }),
        ).toBe(1);
      }
    });
  });

  describe("registerBootstrapToken", () => {
    it("registers the value as an admin token once; a restart with the same value is a no-op", async () => {
      const first = await registerBootstrapToken(db.client, BOOTSTRAP, SYSTEM_ACTOR);
      expect(first.created).toBe(true);
      expect(first.token).toMatchObject({ name: "bootstrap", role: "admin", status: "active" });
      expect(await verifyApiToken(db.client, BOOTSTRAP)).toEqual({
        id: first.token.id,
        name: "bootstrap",
        role: "admin",
      });

      const again = await registerBootstrapToken(db.client, BOOTSTRAP, SYSTEM_ACTOR);
      expect(again.created).toBe(false);
      expect(again.token.id).toBe(first.token.id);
      expect(await db.client.apiToken.count()).toBe(1);
      expect(await db.client.auditEntry.count({ where: { action: "token.create" } })).toBe(1);
      const row = await db.client.apiToken.findFirstOrThrow();
      expect(row.secretHash).toBe(sha256(BOOTSTRAP));
      expect(await storedText()).not.toContain(BOOTSTRAP);
    });

    it("keeps a revoked bootstrap token revoked across restarts", async () => {
      const { token } = await registerBootstrapToken(db.client, BOOTSTRAP, SYSTEM_ACTOR);
      await revokeApiToken(db.client, SYSTEM_ACTOR, token.id);

      const restarted = createTestPrisma(db.url); // a fresh process, as after a restart
      try {
        const again = await registerBootstrapToken(restarted, BOOTSTRAP, SYSTEM_ACTOR);
        expect(again.created).toBe(false);
        expect(again.token.status).toBe("revoked");
        expect(await verifyApiToken(restarted, BOOTSTRAP)).toBeNull();
      } finally {
        await restarted.$disconnect();
      }
      expect(await db.client.apiToken.count()).toBe(1);
    });

    it("rejects a value without the prefix or with fewer than 32 characters after it", async () => {
      for (const value of [TOKEN_PREFIX + "x".repeat(31), "x".repeat(60), "", TOKEN_PREFIX]) {
        await expect(registerBootstrapToken(db.client, value, SYSTEM_ACTOR)).rejects.toThrow(
          /MODELDECK_BOOTSTRAP_TOKEN/,
        );
      }
      expect(await db.client.apiToken.count()).toBe(0);
      const ok = await registerBootstrapToken(
        db.client,
        TOKEN_PREFIX + "x".repeat(32),
        SYSTEM_ACTOR,
      );
      expect(ok.created).toBe(true);
    });

    it("two replicas starting at once with the same value register it once", async () => {
      const clients = [db.client, newClient(), newClient()];
      // Connected already, so the calls really overlap.
      await Promise.all(clients.map((c) => c.$queryRaw`SELECT 1`));
      for (let round = 0; round < 5; round++) {
        await truncateAll(db.url);
        const results = await Promise.all(
          clients.map((c) => registerBootstrapToken(c, BOOTSTRAP, SYSTEM_ACTOR)),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.token.id)).size).toBe(1);
        expect(await db.client.apiToken.count()).toBe(1);
        expect(await db.client.auditEntry.count()).toBe(1);
      }
    });
  });

  describe("createCachedTokenVerifier", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("answers from its cache within the TTL and refuses a revoked token once it has passed", async () => {
      const { token, secret } = await createApiToken(db.client, SYSTEM_ACTOR, {
        name: "serving",
        role: "viewer",
      });
      // Only Date is faked: the cache's clock moves when we say so, database I/O is real.
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
      const verify = createCachedTokenVerifier(db.client, 1_000);
      const principal = { id: token.id, name: "serving", role: "viewer" };

      expect(await verify(secret)).toEqual(principal);
      await revokeApiToken(db.client, SYSTEM_ACTOR, token.id);
      expect(await verifyApiToken(db.client, secret)).toBeNull(); // the database says no...

      vi.advanceTimersByTime(900);
      expect(await verify(secret)).toEqual(principal); // ...the cache still says yes

      vi.advanceTimersByTime(200);
      expect(await verify(secret)).toBeNull(); // TTL passed: refused
    });

    it("caches unknown secrets too, and looks again after the TTL", async () => {
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
      const verify = createCachedTokenVerifier(db.client, 1_000);
      const secret = generateTokenSecret();
      expect(await verify(secret)).toBeNull();
      await createApiToken(db.client, SYSTEM_ACTOR, { name: "late", role: "viewer", secret });
      expect(await verify(secret)).toBeNull();
      vi.advanceTimersByTime(1_001);
      expect(await verify(secret)).toMatchObject({ name: "late", role: "viewer" });
    });
  });
});
