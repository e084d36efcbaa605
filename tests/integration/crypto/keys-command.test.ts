import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { adminQuery, createEmptyDatabase } from "../helpers/db";
import { killLeftovers, startRole } from "../roles/harness";

/**
 * `modeldeck migrate` and `modeldeck keys rotate` as real processes with the generated key
 * file: the key appears once with a notice, clear values are sealed, rotation re-seals.
 */
const dataDir = mkdtempSync(path.join(os.tmpdir(), "modeldeck-keys-command-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
afterEach(killLeftovers);

describe("modeldeck keys rotate", () => {
  it("refuses to run without DATABASE_URL, saying why", async () => {
    const proc = startRole("keys rotate", { DATABASE_URL: undefined });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/DATABASE_URL is not set/);
    const bad = startRole("keys rotate", { MODELDECK_ENCRYPTION_KEY: "not-a-key" });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/MODELDECK_ENCRYPTION_KEY: expected a 32-byte key/);
  });

  it("migrate generates the key file with a notice and seals clear values; rotate re-seals them", async () => {
    const db = await createEmptyDatabase("keys_command");
    try {
      const env = {
        DATABASE_URL: db.url,
        MODELDECK_DATA_DIR: dataDir,
        MODELDECK_ENCRYPTION_KEY: undefined,
        MODELDECK_ENCRYPTION_KEY_PREVIOUS: undefined,
        MODELDECK_SECRET: undefined,
      };
      const migrate = startRole("migrate", env);
      expect(await migrate.exited, migrate.output()).toBe(0);
      expect(migrate.output()).toMatch(/generated an encryption key .* back it up/);
      const keyFile = path.join(dataDir, "encryption.key");
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);

      // A webhook as an earlier version stored it.
      await adminQuery(
        db.url,
        `INSERT INTO webhook (id, name, url, secret, events, "createdByType", "createdByLabel", "updatedAt")
         VALUES (gen_random_uuid(), 'old', 'https://hooks.example.com/x', 'whsec_clear-value-from-before', '{alias.moved}', 'system', 'system', now())`,
      );
      const secretColumn = async () =>
        (await adminQuery<{ secret: string }>(db.url, "SELECT secret FROM webhook"))[0]!.secret;

      const again = startRole("migrate", env);
      expect(await again.exited, again.output()).toBe(0);
      expect(again.output()).not.toMatch(/generated an encryption key/);
      const sealed = await secretColumn();
      expect(sealed).toMatch(/^v1:/);

      const firstKey = readFileSync(keyFile, "utf8");
      const rotate = startRole("keys rotate", env);
      expect(await rotate.exited, rotate.output()).toBe(0);
      // The webhook secret and the generated session secret.
      expect(rotate.output()).toMatch(/0 sealed from clear, 2 re-sealed/);
      expect(readFileSync(path.join(dataDir, "encryption.previous.key"), "utf8")).toBe(firstKey);
      expect(readFileSync(keyFile, "utf8")).not.toBe(firstKey);
      const resealed = await secretColumn();
      expect(resealed).toMatch(/^v1:/);
      expect(resealed.split(":")[1]).not.toBe(sealed.split(":")[1]);
      expect(existsSync(`${keyFile}.next`)).toBe(false);
    } finally {
      await db.drop();
    }
  });
});
