import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../db/generated/client";

const AUTH_SECRET_KEY = "auth_secret";

/**
 * The secret that signs session cookies. Every web replica must share it, so it lives in
 * the database (created once, first writer wins) unless MODELDECK_SECRET provides one.
 */
export async function ensureAuthSecret(db: PrismaClient, fromEnv?: string): Promise<string> {
  if (fromEnv) {
    if (fromEnv.length < 32) throw new Error("MODELDECK_SECRET must be at least 32 characters.");
    return fromEnv;
  }
  const candidate = randomBytes(32).toString("base64url");
  await db.instanceSetting.createMany({
    data: [{ key: AUTH_SECRET_KEY, value: candidate }],
    skipDuplicates: true,
  });
  const row = await db.instanceSetting.findUniqueOrThrow({ where: { key: AUTH_SECRET_KEY } });
  return row.value;
}
