import { createHash, randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { SYSTEM_ACTOR, type Actor } from "../../../lib/audit";
import { AUTH_EVENTS_CHANNEL, parseAuthEvent, type AuthEvent } from "../../../lib/auth/events";
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
import { createUser, updateUser } from "../../../lib/auth/users";
import { listenToChannel } from "../../../lib/db/listener";
import { createLogger } from "../../../lib/log";
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

    /** Hears the auth channel as a serving instance does; `next(n)` waits for n events. */
    async function listenToAuthEvents() {
      const events: AuthEvent[] = [];
      let connected!: () => void;
      const ready = new Promise<void>((r) => (connected = r));
      const listener = listenToChannel({
        connectionString: db.url,
        channel: AUTH_EVENTS_CHANNEL,
        log: createLogger("test", "silent"),
        onNotification: (payload) => events.push(parseAuthEvent(payload)!),
        onConnected: connected,
      });
      await ready;
      return {
        events,
        /** `waitMs` short where no event is expected (it is the time allowed for one to come). */
        async next(count: number, waitMs = 5_000): Promise<AuthEvent[]> {
          const until = Date.now() + waitMs;
          while (events.length < count && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 10));
          }
          return events.splice(0, count);
        },
        stop: () => listener.stop(),
      };
    }

    it("answers a known token synchronously, and drops it when its revocation is notified", async () => {
      const auth = await listenToAuthEvents();
      const { token, secret } = await createApiToken(db.client, SYSTEM_ACTOR, {
        name: "serving",
        role: "viewer",
      });
      expect(await auth.next(1)).toEqual([{ kind: "token", tokenId: token.id, change: "created" }]);
      const cache = createCachedTokenVerifier(db.client);
      expect(await cache.verify(secret)).toMatchObject({ id: token.id, role: "viewer" });
      // From memory: a value, not a promise (the predict path goes on without a microtask).
      expect(cache.verify(secret)).toMatchObject({ id: token.id });

      await revokeApiToken(db.client, SYSTEM_ACTOR, token.id);
      const [revoked] = await auth.next(1);
      expect(revoked).toEqual({ kind: "token", tokenId: token.id, change: "revoked" });
      expect(cache.verify(secret)).toMatchObject({ id: token.id }); // not told yet: still cached
      cache.invalidate(revoked!);
      expect(await cache.verify(secret)).toBeNull();
      await auth.stop();
    });

    it("refuses a cached token from the instant it expires, without asking the database", async () => {
      const { token, secret } = await createApiToken(db.client, SYSTEM_ACTOR, {
        name: "short",
        role: "viewer",
        expiresAt: new Date(Date.now() + 60_000),
      });
      const cache = createCachedTokenVerifier(db.client);
      expect(await cache.verify(secret)).toMatchObject({ name: "short" });
      vi.useFakeTimers({ toFake: ["Date"], now: Date.parse(token.expiresAt!) - 10 });
      expect(cache.verify(secret)).toMatchObject({ name: "short" });
      vi.advanceTimersByTime(10);
      expect(cache.verify(secret)).toBeNull(); // synchronous: no lookup was needed
    });

    it("reuses an unknown-token answer briefly, and forgets it when a token is created", async () => {
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
      const cache = createCachedTokenVerifier(db.client, { refusedTtlMs: 1_000 });
      const secret = generateTokenSecret();
      expect(await cache.verify(secret)).toBeNull();
      expect(cache.verify(secret)).toBeNull(); // synchronous: the "no" is cached
      const { token } = await createApiToken(db.client, SYSTEM_ACTOR, {
        name: "late",
        role: "viewer",
        secret,
      });
      expect(cache.verify(secret)).toBeNull();
      vi.advanceTimersByTime(1_001);
      expect(await cache.verify(secret)).toMatchObject({ name: "late" }); // looked up again
      const other = generateTokenSecret();
      expect(await cache.verify(other)).toBeNull();
      await createApiToken(db.client, SYSTEM_ACTOR, { name: "new", role: "viewer", secret: other });
      cache.invalidate({ kind: "token", tokenId: token.id, change: "created" });
      expect(await cache.verify(other)).toMatchObject({ name: "new" });
    });

    it("a disabled or demoted creator reaches their tokens, and the change is notified", async () => {
      const auth = await listenToAuthEvents();
      const { user } = await createUser(db.client, SYSTEM_ACTOR, {
        email: "maker@example.com",
        name: "Maker",
        role: "operator",
      });
      const actor = { type: "user" as const, id: user.id, label: user.email, role: user.role };
      const { secret } = await createApiToken(db.client, actor, { name: "ci", role: "operator" });
      await auth.next(1);
      const cache = createCachedTokenVerifier(db.client);
      expect(await cache.verify(secret)).toMatchObject({ role: "operator", createdById: user.id });

      await updateUser(db.client, SYSTEM_ACTOR, user.id, { role: "viewer" });
      const [demoted] = await auth.next(1);
      expect(demoted).toEqual({ kind: "user", userId: user.id, change: "role" });
      cache.invalidate(demoted!);
      expect(await cache.verify(secret)).toMatchObject({ role: "viewer" });
      expect(await verifyApiToken(db.client, secret)).toMatchObject({ role: "viewer" });

      await updateUser(db.client, SYSTEM_ACTOR, user.id, { disabled: true });
      const [disabled] = await auth.next(1);
      expect(disabled).toEqual({ kind: "user", userId: user.id, change: "disabled" });
      cache.invalidate(disabled!);
      expect(await cache.verify(secret)).toBeNull();
      expect(await verifyApiToken(db.client, secret)).toBeNull();

      await updateUser(db.client, SYSTEM_ACTOR, user.id, { disabled: false });
      const [enabled] = await auth.next(1);
      cache.invalidate(enabled!);
      expect(await cache.verify(secret)).toMatchObject({ role: "viewer" });
      // A change of name alone is not an auth event.
      await updateUser(db.client, SYSTEM_ACTOR, user.id, { name: "Renamed" });
      expect(await auth.next(1, 500)).toEqual([]);
      await auth.stop();
    });

    it("no event for a change that rolled back", async () => {
      const auth = await listenToAuthEvents();
      const { user } = await createUser(db.client, SYSTEM_ACTOR, {
        email: "last@example.com",
        name: "Last admin",
        role: "admin",
      });
      // The last enabled admin cannot be disabled: the transaction fails, nothing is sent.
      await expect(
        updateUser(db.client, SYSTEM_ACTOR, user.id, { disabled: true }),
      ).rejects.toThrow();
      expect(await auth.next(1, 500)).toEqual([]);
      await auth.stop();
    });

    it("resync drops tokens revoked while the notifications were not heard", async () => {
      const kept = await createApiToken(db.client, SYSTEM_ACTOR, { name: "kept", role: "viewer" });
      const gone = await createApiToken(db.client, SYSTEM_ACTOR, { name: "gone", role: "viewer" });
      const cache = createCachedTokenVerifier(db.client);
      await cache.verify(kept.secret);
      await cache.verify(gone.secret);
      await revokeApiToken(db.client, SYSTEM_ACTOR, gone.token.id);
      expect(cache.verify(gone.secret)).toMatchObject({ name: "gone" }); // missed the event
      await cache.resync();
      expect(cache.verify(gone.secret)).toBeInstanceOf(Promise); // dropped: looked up again
      expect(await cache.verify(gone.secret)).toBeNull();
      expect(cache.verify(kept.secret)).toMatchObject({ name: "kept" });
      expect(cache.size).toBe(1);
    });

    it("stays within its bound, forgetting the oldest entry first", async () => {
      const cache = createCachedTokenVerifier(db.client, { maxEntries: 2 });
      const made = [];
      for (const name of ["a", "b", "c"]) {
        made.push(await createApiToken(db.client, SYSTEM_ACTOR, { name, role: "viewer" }));
      }
      for (const { secret } of made) await cache.verify(secret);
      expect(cache.size).toBe(2);
      expect(cache.verify(made[2]!.secret)).toMatchObject({ name: "c" });
      const forgotten = cache.verify(made[0]!.secret);
      expect(forgotten).toBeInstanceOf(Promise);
      expect(await forgotten).toMatchObject({ name: "a" });
    });
  });
});
