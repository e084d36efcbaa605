import { beforeEach, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createAuth } from "../../../lib/auth/auth";
import {
  listSignInLocks,
  SIGN_IN_LOCKED_MESSAGE,
  unlockSignIn,
} from "../../../lib/auth/sign-in-limits";
import { createUser } from "../../../lib/auth/users";
import { loadConfig } from "../../../lib/config";
import { useTestDatabase } from "../helpers/db";

/**
 * Real better-auth (its router, hooks and database rate limiter) on the run's PostgreSQL,
 * driven through its HTTP handler with the client address our web server would set.
 */
describe("sign-in limits per account and per address", () => {
  const db = useTestDatabase();
  const config = loadConfig({
    MODELDECK_SIGNIN_ACCOUNT_LIMIT: "3/600",
    MODELDECK_SIGNIN_ACCOUNT_GLOBAL_LIMIT: "5/600",
    MODELDECK_SIGNIN_ADDRESS_LIMIT: "8/600",
  });
  const secret = "test-secret-test-secret-test-secret-0123";
  let auth: ReturnType<typeof createAuth>;
  const password = { alice: "alice-password-1", bob: "bob-password-22" };

  beforeEach(async () => {
    auth = createAuth(db.client, config, secret);
    await createUser(db.client, SYSTEM_ACTOR, {
      email: "alice@example.com",
      name: "Alice",
      role: "operator",
      password: password.alice,
    });
    await createUser(db.client, SYSTEM_ACTOR, {
      email: "bob@example.com",
      name: "Bob",
      role: "viewer",
      password: password.bob,
    });
  });

  function signIn(email: string, pw: string, address: string) {
    return auth.handler(
      new Request(`${config.publicUrl}/api/auth/sign-in/email`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: config.publicUrl,
          "x-internal-client-ip": address,
        },
        body: JSON.stringify({ email, password: pw }),
      }),
    );
  }

  async function fail(email: string, address: string, times: number) {
    const statuses: number[] = [];
    for (let i = 0; i < times; i++)
      statuses.push((await signIn(email, `wrong-${i}`, address)).status);
    return statuses;
  }

  it("locks the guessed account from that address; another user there still signs in", async () => {
    const nat = "203.0.113.7";
    expect(await fail("alice@example.com", nat, 3)).toEqual([401, 401, 401]);

    const locked = await signIn("alice@example.com", password.alice, nat);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(500);
    const body = (await locked.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "rate_limited", message: SIGN_IN_LOCKED_MESSAGE });

    // Bob, behind the same NAT, with his right password.
    expect((await signIn("bob@example.com", password.bob, nat)).status).toBe(200);
    // Alice herself from another address, until the account-wide threshold.
    expect((await signIn("alice@example.com", password.alice, "198.51.100.4")).status).toBe(200);

    const locks = await listSignInLocks(db.client);
    expect(locks).toEqual([
      expect.objectContaining({
        scope: "account_and_address",
        email: "alice@example.com",
        address: nat,
        failures: 3,
      }),
    ]);
    const audit = await db.client.auditEntry.findMany({ where: { action: "sign_in.lock" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: "system", ipAddress: nat });
  });

  it("locks the account everywhere past the higher threshold spread over addresses", async () => {
    await fail("alice@example.com", "198.51.100.1", 2);
    await fail("alice@example.com", "198.51.100.2", 2);
    expect((await signIn("alice@example.com", password.alice, "198.51.100.9")).status).toBe(200);
    // The right password above cleared only 198.51.100.9's count, not the account's.
    await fail("alice@example.com", "198.51.100.3", 1);
    expect((await signIn("alice@example.com", password.alice, "198.51.100.9")).status).toBe(429);
    expect((await signIn("bob@example.com", password.bob, "198.51.100.1")).status).toBe(200);
    expect((await listSignInLocks(db.client)).map((l) => l.scope)).toEqual(["account"]);
  });

  it("answers a lock on an unknown email exactly like one on a real account", async () => {
    await fail("nobody@example.com", "203.0.113.8", 3);
    await fail("alice@example.com", "203.0.113.8", 3);
    const ghost = await signIn("nobody@example.com", "whatever-pw", "203.0.113.8");
    const real = await signIn("alice@example.com", "whatever-pw", "203.0.113.8");
    expect([ghost.status, real.status]).toEqual([429, 429]);
    // Same body but for the seconds left (the ghost's lock started a few scrypt checks earlier).
    const shape = async (r: Response) => {
      const { error } = (await r.json()) as { error: { code: string; message: string } };
      return { code: error.code, message: error.message };
    };
    expect(await shape(ghost)).toEqual(await shape(real));
  });

  it("locks an address that sprays many accounts, and nobody else", async () => {
    const sprayer = "192.0.2.50";
    for (let i = 0; i < 8; i++) await fail(`user${i}@example.com`, sprayer, 1);
    expect((await signIn("bob@example.com", password.bob, sprayer)).status).toBe(429);
    expect((await signIn("bob@example.com", password.bob, "192.0.2.51")).status).toBe(200);
  });

  it("unlocks, audited, and the account signs in again from that address", async () => {
    const address = "203.0.113.9";
    await fail("alice@example.com", address, 3);
    const [lock] = await listSignInLocks(db.client);
    const admin = { type: "user" as const, id: "admin-1", label: "admin@example.com" };
    const lifted = await unlockSignIn(db.client, admin, lock!.id, "127.0.0.1");
    expect(lifted).toMatchObject({ email: "alice@example.com", address });
    expect(await listSignInLocks(db.client)).toEqual([]);
    expect((await signIn("alice@example.com", password.alice, address)).status).toBe(200);

    const entry = await db.client.auditEntry.findFirst({ where: { action: "sign_in.unlock" } });
    expect(entry).toMatchObject({
      actorType: "user",
      actorId: "admin-1",
      resourceType: "sign_in_lock",
      resourceId: lock!.id,
      ipAddress: "127.0.0.1",
    });
    await expect(unlockSignIn(db.client, admin, lock!.id)).rejects.toMatchObject({
      code: "not_found",
    });
  });
});
