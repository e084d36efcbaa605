import { afterAll, describe, expect, it } from "vitest";
import { openSecret } from "../../../lib/crypto/keys";
import { CREDENTIAL_PURPOSE } from "../../../lib/crypto/stored-credentials";
import type { PrismaClient } from "../../../lib/db/generated/client";
import { ensureAuthSecret } from "../../../lib/system/instance";
import { createTestPrisma, useTestDatabase } from "../helpers/db";

describe("ensureAuthSecret", () => {
  const db = useTestDatabase();
  const others: PrismaClient[] = [];
  afterAll(async () => {
    await Promise.all(others.map((c) => c.$disconnect()));
  });
  const newClient = () => {
    const client = createTestPrisma(db.url);
    others.push(client);
    return client;
  };

  const storedSecrets = () => db.client.instanceSetting.findMany({ where: { key: "auth_secret" } });

  it("generates a secret once, stores it, and returns the same one to every later caller", async () => {
    const first = await ensureAuthSecret(db.client);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits, base64url
    const stored = await storedSecrets();
    expect(stored).toHaveLength(1);
    // Sealed with the encryption key, never in clear.
    expect(stored[0]!.value).toMatch(/^v1:/);
    expect(stored[0]!.value).not.toContain(first);
    expect(openSecret(stored[0]!.value, CREDENTIAL_PURPOSE.authSecret)).toBe(first);

    expect(await ensureAuthSecret(db.client)).toBe(first);
    expect(await ensureAuthSecret(newClient())).toBe(first); // another replica
    expect(await ensureAuthSecret(db.client, "")).toBe(first); // empty env = unset
    expect(await storedSecrets()).toEqual(stored); // not rewritten
  });

  it("replicas starting at once all agree on one secret", async () => {
    const clients = [db.client, newClient(), newClient()];
    await Promise.all(clients.map((c) => c.$queryRaw`SELECT 1`));
    const secrets = await Promise.all(
      clients.flatMap((c) => [ensureAuthSecret(c), ensureAuthSecret(c)]),
    );
    expect(new Set(secrets).size).toBe(1);
    const stored = (await storedSecrets()).map((r) =>
      openSecret(r.value, CREDENTIAL_PURPOSE.authSecret),
    );
    expect(stored).toEqual([secrets[0]]);
  });

  it("uses MODELDECK_SECRET when given, without touching the database", async () => {
    const fromEnv = "s".repeat(32);
    expect(await ensureAuthSecret(db.client, fromEnv)).toBe(fromEnv);
    expect(await db.client.instanceSetting.count()).toBe(0);

    // A stored secret does not override the configured one either.
    const generated = await ensureAuthSecret(db.client);
    expect(generated).not.toBe(fromEnv);
    expect(await ensureAuthSecret(db.client, fromEnv)).toBe(fromEnv);
  });

  it("rejects a MODELDECK_SECRET shorter than 32 characters", async () => {
    await expect(ensureAuthSecret(db.client, "s".repeat(31))).rejects.toThrow(
      /MODELDECK_SECRET must be at least 32 characters/,
    );
    expect(await db.client.instanceSetting.count()).toBe(0);
  });
});
