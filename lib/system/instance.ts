import { randomBytes } from "node:crypto";
import { openSecret, sealSecret } from "../crypto/keys";
import { isSealed } from "../crypto/secret-box";
import { CREDENTIAL_PURPOSE } from "../crypto/stored-credentials";
import type { PrismaClient } from "../db/generated/client";

export const AUTH_SECRET_KEY = "auth_secret";

/**
 * The secret that signs session cookies. Every web replica must share it, so it lives in
 * the database (created once, first writer wins) unless MODELDECK_SECRET provides one. It is
 * stored sealed with the encryption key (lib/crypto), like every credential read back.
 */
export async function ensureAuthSecret(db: PrismaClient, fromEnv?: string): Promise<string> {
  if (fromEnv) {
    if (fromEnv.length < 32) throw new Error("MODELDECK_SECRET must be at least 32 characters.");
    return fromEnv;
  }
  const candidate = randomBytes(32).toString("base64url");
  await db.instanceSetting.createMany({
    data: [{ key: AUTH_SECRET_KEY, value: sealSecret(candidate, CREDENTIAL_PURPOSE.authSecret) }],
    skipDuplicates: true,
  });
  const row = await db.instanceSetting.findUniqueOrThrow({ where: { key: AUTH_SECRET_KEY } });
  // A value in clear was written before secrets were sealed; provisioning seals it.
  return isSealed(row.value) ? openSecret(row.value, CREDENTIAL_PURPOSE.authSecret) : row.value;
}
