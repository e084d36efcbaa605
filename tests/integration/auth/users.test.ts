import { randomUUID } from "node:crypto";
import { verifyPassword } from "better-auth/crypto";
import { afterAll, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { SYSTEM_ACTOR, type Actor } from "../../../lib/audit";
import type { Role } from "../../../lib/auth/roles";
import { hashSessionToken } from "../../../lib/auth/session-tokens";
import {
  changeOwnPassword,
  createUser,
  ensureInitialAdmin,
  listUsers,
  updateUser,
  type UpdateUserInput,
} from "../../../lib/auth/users";
import type { PrismaClient } from "../../../lib/db/generated/client";
import { adminQuery, createTestPrisma, truncateAll, useTestDatabase } from "../helpers/db";

describe("lib/auth/users", () => {
  const db = useTestDatabase();

  /** A second client with its own connection pool, for "two processes at once". */
  let other: PrismaClient | undefined;
  const otherClient = () => (other ??= createTestPrisma(db.url));
  afterAll(async () => {
    await other?.$disconnect();
  });

  /** A user row written directly (no scrypt), for tests that are not about createUser. */
  async function seedUser(
    email: string,
    role: Role,
    opts: { banned?: boolean; createdAt?: Date } = {},
  ): Promise<{ id: string; email: string; actor: Actor }> {
    const id = randomUUID();
    await db.client.user.create({
      data: {
        id,
        email,
        name: email.split("@")[0]!,
        role,
        banned: opts.banned ?? false,
        ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
      },
    });
    return { id, email, actor: { type: "user", id, label: email } };
  }

  /** A session as better-auth stores it: the row keeps the token's hash, the cookie the token. */
  async function seedSession(userId: string, updatedAt?: Date) {
    const cookieToken = randomUUID();
    const row = await db.client.session.create({
      data: {
        id: randomUUID(),
        userId,
        token: hashSessionToken(cookieToken),
        expiresAt: new Date(Date.now() + 3600_000),
        ...(updatedAt ? { updatedAt } : {}),
      },
    });
    return { ...row, cookieToken };
  }

  const auditRows = () => db.client.auditEntry.findMany({ orderBy: { id: "asc" } });

  /** Every JSON value and text column of the audit log, as one string to search. */
  async function auditText(): Promise<string> {
    const rows = await adminQuery<{ t: string }>(
      db.url,
      `SELECT coalesce(string_agg(row_to_json(a)::text, '\n'), '') AS t FROM audit_entry a`,
    );
    return rows[0]!.t;
  }

  async function rejection(promise: Promise<unknown>): Promise<ApiError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }

  const admin: Actor = { type: "user", id: "actor-admin", label: "root@example.com" };

  describe("createUser", () => {
    it("writes the user, a credential account with a better-auth scrypt hash, and an audit entry", async () => {
      const { user, password, generated } = await createUser(
        db.client,
        admin,
        { email: "  Ada.Lovelace@Example.COM ", name: " Ada ", role: "operator" },
        "10.0.0.7",
      );
      expect(generated).toBe(true);
      expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
      expect(user).toMatchObject({
        email: "ada.lovelace@example.com",
        name: "Ada",
        role: "operator",
        disabled: false,
        lastSeenAt: null,
      });

      const row = await db.client.user.findUniqueOrThrow({
        where: { id: user.id },
        include: { accounts: true },
      });
      expect(row.email).toBe("ada.lovelace@example.com");
      expect(row.role).toBe("operator");
      expect(row.emailVerified).toBe(true);
      expect(row.accounts).toHaveLength(1);
      const account = row.accounts[0]!;
      expect(account.providerId).toBe("credential");
      expect(account.accountId).toBe(user.id);
      expect(account.password).toMatch(/^[0-9a-f]+:[0-9a-f]+$/); // salt:key, better-auth's format
      expect(account.password).not.toContain(password);
      expect(await verifyPassword({ hash: account.password!, password })).toBe(true);
      expect(await verifyPassword({ hash: account.password!, password: password + "x" })).toBe(
        false,
      );

      const entries = await auditRows();
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        actorType: "user",
        actorId: "actor-admin",
        actorLabel: "root@example.com",
        action: "user.create",
        resourceType: "user",
        resourceId: user.id,
        before: null,
        after: { email: "ada.lovelace@example.com", name: "Ada", role: "operator" },
        ipAddress: "10.0.0.7",
      });
      const text = await auditText();
      expect(text).not.toMatch(/password/i);
      expect(text).not.toContain(password);
      expect(text).not.toContain(account.password!);
    });

    it("uses a given password and reports it as not generated", async () => {
      const { user, password, generated } = await createUser(db.client, SYSTEM_ACTOR, {
        email: "bob@example.com",
        name: "Bob",
        role: "viewer",
        password: "correct horse battery",
      });
      expect(generated).toBe(false);
      expect(password).toBe("correct horse battery");
      const account = await db.client.account.findFirstOrThrow({ where: { userId: user.id } });
      expect(
        await verifyPassword({ hash: account.password!, password: "correct horse battery" }),
      ).toBe(true);
      const [entry] = await auditRows();
      expect(entry).toMatchObject({ actorType: "system", actorId: null, actorLabel: "system" });
    });

    it("refuses a duplicate email (whatever its case) with 409 and leaves nothing behind", async () => {
      const first = await createUser(db.client, admin, {
        email: "dup@example.com",
        name: "First",
        role: "viewer",
      });
      const error = await rejection(
        createUser(db.client, admin, { email: "DUP@Example.com", name: "Second", role: "admin" }),
      );
      expect(error.status).toBe(409);
      expect(error.code).toBe("conflict");

      expect(await db.client.user.count()).toBe(1);
      expect(await db.client.account.count()).toBe(1);
      const user = await db.client.user.findUniqueOrThrow({ where: { email: "dup@example.com" } });
      expect(user).toMatchObject({ id: first.user.id, name: "First", role: "viewer" });
      const entries = await auditRows();
      expect(entries.map((e) => e.action)).toEqual(["user.create"]);
    });

    it("refuses a short password with 400 before writing anything", async () => {
      const error = await rejection(
        createUser(db.client, admin, {
          email: "short@example.com",
          name: "Short",
          role: "viewer",
          password: "123456789",
        }),
      );
      expect(error.status).toBe(400);
      expect(await db.client.user.count()).toBe(0);
      expect(await db.client.auditEntry.count()).toBe(0);
    });
  });

  describe("updateUser", () => {
    it("changes a role and audits it with before and after", async () => {
      const root = await seedUser("root@example.com", "admin");
      const target = await seedUser("carol@example.com", "viewer");
      const view = await updateUser(db.client, root.actor, target.id, { role: "operator" }, "::1");
      expect(view.role).toBe("operator");
      expect((await db.client.user.findUniqueOrThrow({ where: { id: target.id } })).role).toBe(
        "operator",
      );
      const entries = await auditRows();
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        action: "user.role.change",
        actorId: root.id,
        actorLabel: "root@example.com",
        resourceType: "user",
        resourceId: target.id,
        before: { email: "carol@example.com", role: "viewer", disabled: false },
        after: { email: "carol@example.com", role: "operator", disabled: false },
        ipAddress: "::1",
      });
    });

    it("disables a user and deletes their sessions (only theirs); enabling brings the account back", async () => {
      const root = await seedUser("root@example.com", "admin");
      const target = await seedUser("dave@example.com", "operator");
      await seedSession(target.id);
      await seedSession(target.id);
      const keep = await seedSession(root.id);

      const disabled = await updateUser(db.client, root.actor, target.id, { disabled: true });
      expect(disabled.disabled).toBe(true);
      const row = await db.client.user.findUniqueOrThrow({ where: { id: target.id } });
      expect(row.banned).toBe(true);
      expect(row.banReason).toBe("Disabled by root@example.com");
      expect(await db.client.session.count({ where: { userId: target.id } })).toBe(0);
      expect((await db.client.session.findMany()).map((s) => s.id)).toEqual([keep.id]);

      const enabled = await updateUser(db.client, root.actor, target.id, { disabled: false });
      expect(enabled.disabled).toBe(false);
      const after = await db.client.user.findUniqueOrThrow({ where: { id: target.id } });
      expect(after.banned).toBe(false);
      expect(after.banReason).toBeNull();

      const entries = await auditRows();
      expect(entries.map((e) => e.action)).toEqual(["user.disable", "user.enable"]);
      expect(entries[0]).toMatchObject({
        before: { disabled: false },
        after: { disabled: true },
        resourceId: target.id,
      });
      expect(entries[1]).toMatchObject({ before: { disabled: true }, after: { disabled: false } });
    });

    it("disables, ends sessions and audits in one transaction: a failed audit write undoes all of it", async () => {
      const root = await seedUser("root@example.com", "admin");
      const target = await seedUser("erin@example.com", "viewer");
      await seedSession(target.id);
      // Make the audit insert for this action fail, after the update and the session delete ran.
      await adminQuery(
        db.url,
        `CREATE FUNCTION test_reject_disable_audit() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.action = 'user.disable' THEN RAISE EXCEPTION 'audit write refused by test'; END IF;
           RETURN NEW;
         END $$`,
      );
      await adminQuery(
        db.url,
        `CREATE TRIGGER test_reject_disable_audit BEFORE INSERT ON audit_entry
         FOR EACH ROW EXECUTE FUNCTION test_reject_disable_audit()`,
      );
      try {
        await expect(
          updateUser(db.client, root.actor, target.id, { disabled: true }),
        ).rejects.toThrow(/audit write refused by test/);
      } finally {
        await adminQuery(db.url, `DROP TRIGGER test_reject_disable_audit ON audit_entry`);
        await adminQuery(db.url, `DROP FUNCTION test_reject_disable_audit()`);
      }
      const row = await db.client.user.findUniqueOrThrow({ where: { id: target.id } });
      expect(row.banned).toBe(false);
      expect(await db.client.session.count({ where: { userId: target.id } })).toBe(1);
      expect(await db.client.auditEntry.count()).toBe(0);
    });

    it("refuses to demote or disable the last enabled admin (409) and changes nothing", async () => {
      const root = await seedUser("root@example.com", "admin");
      // A disabled admin does not count as "another admin".
      await seedUser("old-admin@example.com", "admin", { banned: true });
      await seedSession(root.id);
      const before = await db.client.user.findUniqueOrThrow({ where: { id: root.id } });

      for (const input of [
        { role: "operator" },
        { role: "viewer" },
        { disabled: true },
      ] satisfies UpdateUserInput[]) {
        const error = await rejection(updateUser(db.client, SYSTEM_ACTOR, root.id, input));
        expect(error.status).toBe(409);
        expect(error.message).toMatch(/last enabled admin/);
      }
      const after = await db.client.user.findUniqueOrThrow({ where: { id: root.id } });
      expect(after).toEqual(before);
      expect(await db.client.session.count({ where: { userId: root.id } })).toBe(1);
      expect(await db.client.auditEntry.count()).toBe(0);
    });

    it("lets an admin be demoted once another enabled admin exists", async () => {
      const root = await seedUser("root@example.com", "admin");
      const second = await seedUser("second@example.com", "admin");
      await updateUser(db.client, root.actor, second.id, { role: "viewer" });
      expect((await db.client.user.findUniqueOrThrow({ where: { id: second.id } })).role).toBe(
        "viewer",
      );
      expect(await db.client.user.count({ where: { role: "admin" } })).toBe(1);
    });

    it("does not let a user disable their own account", async () => {
      const root = await seedUser("root@example.com", "admin");
      await seedUser("second@example.com", "admin");
      await seedSession(root.id);
      const error = await rejection(updateUser(db.client, root.actor, root.id, { disabled: true }));
      expect(error.status).toBe(409);
      expect(error.message).toMatch(/your own account/);
      const row = await db.client.user.findUniqueOrThrow({ where: { id: root.id } });
      expect(row.banned).toBe(false);
      expect(await db.client.session.count()).toBe(1);
      expect(await db.client.auditEntry.count()).toBe(0);
    });

    it("answers 404 for an unknown user", async () => {
      const error = await rejection(
        updateUser(db.client, SYSTEM_ACTOR, randomUUID(), { role: "viewer" }),
      );
      expect(error.status).toBe(404);
      expect(await db.client.auditEntry.count()).toBe(0);
    });

    it("two admins demoting (or disabling) each other at once leave exactly one admin", async () => {
      const clients = [db.client, otherClient()] as const;
      const rounds: [UpdateUserInput, UpdateUserInput][] = [
        [{ role: "viewer" }, { role: "operator" }],
        [{ disabled: true }, { disabled: true }],
        [{ role: "viewer" }, { disabled: true }],
      ];
      for (let round = 0; round < 6; round++) {
        await truncateAll(db.url);
        const a = await seedUser("a@example.com", "admin");
        const b = await seedUser("b@example.com", "admin");
        const [inputA, inputB] = rounds[round % rounds.length]!;
        const results = await Promise.allSettled([
          updateUser(clients[0], a.actor, b.id, inputA),
          updateUser(clients[1], b.actor, a.id, inputB),
        ]);
        const fulfilled = results.filter((r) => r.status === "fulfilled");
        const rejected = results.filter((r) => r.status === "rejected");
        expect(fulfilled).toHaveLength(1);
        expect(rejected).toHaveLength(1);
        expect(rejected[0]!.reason).toMatchObject({ status: 409 });
        expect(await db.client.user.count({ where: { role: "admin", banned: false } })).toBe(1);
        expect(await db.client.auditEntry.count()).toBe(1);
      }
    });
  });

  describe("ensureInitialAdmin", () => {
    it("creates one admin on an empty table and returns its password only that once", async () => {
      const first = await ensureInitialAdmin(db.client, { email: "Admin@ModelDeck.local" });
      expect(first.created).toBe(true);
      if (!first.created) return;
      expect(first.email).toBe("admin@modeldeck.local");
      expect(first.generated).toBe(true);
      expect(first.password).toMatch(/^[A-Za-z0-9]{20}$/);

      const second = await ensureInitialAdmin(db.client, { email: "admin@modeldeck.local" });
      expect(second).toEqual({ created: false });

      const users = await db.client.user.findMany({ include: { accounts: true } });
      expect(users).toHaveLength(1);
      expect(users[0]).toMatchObject({
        email: "admin@modeldeck.local",
        role: "admin",
        banned: false,
      });
      const hash = users[0]!.accounts[0]!.password!;
      expect(await verifyPassword({ hash, password: first.password })).toBe(true);
      const entries = await auditRows();
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ action: "user.create", actorType: "system" });
    });

    it("uses a given password", async () => {
      const result = await ensureInitialAdmin(db.client, {
        email: "boss@example.com",
        password: "a-chosen-password",
      });
      expect(result).toMatchObject({
        created: true,
        generated: false,
        password: "a-chosen-password",
      });
      const account = await db.client.account.findFirstOrThrow();
      expect(await verifyPassword({ hash: account.password!, password: "a-chosen-password" })).toBe(
        true,
      );
    });

    it("does nothing when any user exists", async () => {
      await seedUser("someone@example.com", "viewer");
      expect(await ensureInitialAdmin(db.client, { email: "admin@modeldeck.local" })).toEqual({
        created: false,
      });
      expect(await db.client.user.count()).toBe(1);
      expect(await db.client.user.count({ where: { role: "admin" } })).toBe(0);
    });

    it("two replicas starting at once create exactly one admin", async () => {
      for (let round = 0; round < 3; round++) {
        await truncateAll(db.url);
        const results = await Promise.all([
          ensureInitialAdmin(db.client, { email: "admin@modeldeck.local" }),
          ensureInitialAdmin(otherClient(), { email: "admin@modeldeck.local" }),
          ensureInitialAdmin(otherClient(), { email: "admin@modeldeck.local" }),
        ]);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(results.filter((r) => !r.created)).toHaveLength(2);
        expect(await db.client.user.count()).toBe(1);
        expect(await db.client.account.count()).toBe(1);
        expect(await db.client.auditEntry.count()).toBe(1);
      }
    });
  });

  describe("listUsers", () => {
    it("lists every user oldest first, with disabled state and last session activity", async () => {
      const t0 = new Date("2026-01-01T00:00:00Z");
      const a = await seedUser("a@example.com", "admin", { createdAt: t0 });
      const c = await seedUser("c@example.com", "viewer", {
        banned: true,
        createdAt: new Date(t0.getTime() + 2000),
      });
      const b = await seedUser("b@example.com", "operator", {
        createdAt: new Date(t0.getTime() + 1000),
      });
      await seedSession(b.id, new Date("2026-02-01T10:00:00Z"));
      await seedSession(b.id, new Date("2026-02-03T10:00:00Z"));
      await seedSession(b.id, new Date("2026-02-02T10:00:00Z"));

      const users = await listUsers(db.client);
      expect(users.map((u) => u.id)).toEqual([a.id, b.id, c.id]);
      expect(users[0]).toMatchObject({
        email: "a@example.com",
        role: "admin",
        disabled: false,
        createdAt: t0.toISOString(),
        lastSeenAt: null,
      });
      expect(users[1]).toMatchObject({ role: "operator", lastSeenAt: "2026-02-03T10:00:00.000Z" });
      expect(users[2]).toMatchObject({ role: "viewer", disabled: true });
    });

    it("shows an unknown stored role as viewer, never as more", async () => {
      await db.client.user.create({
        data: { id: randomUUID(), email: "odd@example.com", name: "Odd", role: "superuser" },
      });
      const [user] = await listUsers(db.client);
      expect(user!.role).toBe("viewer");
    });
  });

  describe("changeOwnPassword", () => {
    it("needs the current password, ends other sessions, and audits without secrets", async () => {
      const { user } = await createUser(db.client, SYSTEM_ACTOR, {
        email: "pw@example.com",
        name: "Pw",
        role: "viewer",
        password: "first-password-1",
      });
      const actor = { type: "user" as const, id: user.id, label: user.email };
      const keep = await seedSession(user.id);
      await seedSession(user.id);
      await seedSession(user.id);
      const hashBefore = (await db.client.account.findFirstOrThrow({ where: { userId: user.id } }))
        .password;

      const wrong = await changeOwnPassword(db.client, actor, {
        currentPassword: "not-it-at-all",
        newPassword: "second-password-2",
      }).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(ApiError);
      expect((wrong as ApiError).status).toBe(400);
      expect((wrong as ApiError).message).toContain("currentPassword");
      expect(
        (await db.client.account.findFirstOrThrow({ where: { userId: user.id } })).password,
      ).toBe(hashBefore);
      expect(await db.client.session.count({ where: { userId: user.id } })).toBe(3);

      await changeOwnPassword(db.client, actor, {
        currentPassword: "first-password-1",
        newPassword: "second-password-2",
        keepSessionToken: keep.cookieToken,
      });
      const hash = (await db.client.account.findFirstOrThrow({ where: { userId: user.id } }))
        .password!;
      expect(await verifyPassword({ hash, password: "second-password-2" })).toBe(true);
      expect(await verifyPassword({ hash, password: "first-password-1" })).toBe(false);
      const sessions = await db.client.session.findMany({ where: { userId: user.id } });
      expect(sessions.map((x) => x.token)).toEqual([keep.token]);

      const entries = await db.client.auditEntry.findMany({
        where: { action: "user.password.change" },
      });
      expect(entries).toHaveLength(1);
      expect(entries[0]!.actorId).toBe(user.id);
      const text = JSON.stringify({ ...entries[0], id: String(entries[0]!.id) });
      expect(text).not.toContain("second-password-2");
      expect(text).not.toContain(hash);
    });

    it("refuses a short new password before touching anything", async () => {
      const { user } = await createUser(db.client, SYSTEM_ACTOR, {
        email: "short@example.com",
        name: "Short",
        role: "viewer",
        password: "first-password-1",
      });
      await expect(
        changeOwnPassword(
          db.client,
          { type: "user", id: user.id, label: user.email },
          { currentPassword: "first-password-1", newPassword: "short" },
        ),
      ).rejects.toMatchObject({ status: 400 });
      expect(await db.client.auditEntry.count({ where: { action: "user.password.change" } })).toBe(
        0,
      );
    });
  });
});
