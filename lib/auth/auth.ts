import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { APIError } from "better-auth/api";
import { nextCookies } from "better-auth/next-js";
import { getConfig, trustedOrigins, type AppConfig } from "../config";
import { getPrisma } from "../db/client";
import type { PrismaClient } from "../db/generated/client";
import { hashingSessionTokens } from "./session-tokens";
import { SIGN_IN_PATH, signInLimitsPlugin } from "./sign-in-limits-plugin";
import { MIN_PASSWORD_LENGTH } from "./users";

/** Header our web server sets from the socket (or a trusted proxy); clients cannot forge it. */
export const CLIENT_IP_HEADER = "x-internal-client-ip";

/** Header our web server sets to the requested path (overwriting anything a client sent). */
export const REQUEST_PATH_HEADER = "x-internal-request-path";

export { SIGN_IN_PATH } from "./sign-in-limits-plugin";

/**
 * Sign-in, sessions and sign-out come from better-auth. Sign-up and self-service profile
 * changes are switched off: accounts are created by admins through lib/auth/users.ts, which
 * audits them.
 */
export function createAuth(prisma: PrismaClient, config: AppConfig, secret: string) {
  return betterAuth({
    appName: "ModelDeck",
    baseURL: config.publicUrl,
    basePath: "/api/auth",
    secret,
    trustedOrigins: trustedOrigins(config),
    // Session tokens are stored hashed (lib/auth/session-tokens.ts).
    database: hashingSessionTokens(prismaAdapter(prisma, { provider: "postgresql" })),
    emailAndPassword: {
      enabled: true,
      disableSignUp: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
    },
    user: {
      additionalFields: {
        role: { type: "string", input: false, defaultValue: "viewer", required: false },
        banned: { type: "boolean", input: false, defaultValue: false, required: false },
      },
    },
    session: {
      expiresIn: 60 * 60 * 24 * 7,
      updateAge: 60 * 60 * 24,
    },
    rateLimit: {
      enabled: true,
      // Shared by every web replica.
      storage: "database",
      window: 60,
      max: 300,
      // Per address, right or wrong: a flood ceiling. Wrong passwords are limited per account
      // and address by signInLimitsPlugin (lib/auth/sign-in-limits.ts).
      customRules: {
        [SIGN_IN_PATH]: {
          window: config.signInRateLimit.windowSeconds,
          max: config.signInRateLimit.max,
        },
      },
    },
    // Changes to accounts go through /api/v1 so they are audited (see lib/auth/users.ts).
    disabledPaths: [
      "/sign-up/email",
      "/change-password",
      "/set-password",
      "/update-user",
      "/delete-user",
      "/change-email",
      "/forget-password",
      "/request-password-reset",
      "/reset-password",
      "/send-verification-email",
      "/verify-email",
      // Listed sessions carry only the stored hash of their token, which these would
      // need to hand back (sessions end by sign-out, disable or password change).
      "/list-sessions",
      "/revoke-session",
      "/revoke-other-sessions",
    ],
    advanced: {
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      useSecureCookies: config.publicUrl.startsWith("https://") || config.tls !== null,
      database: { generateId: "uuid" },
    },
    telemetry: { enabled: false },
    databaseHooks: {
      session: {
        create: {
          // A disabled account must not get a session, whatever path created it.
          async before(session) {
            const user = await prisma.user.findUnique({
              where: { id: session.userId },
              select: { banned: true },
            });
            if (!user || user.banned) {
              throw new APIError("FORBIDDEN", {
                message: "This account is disabled. Ask an administrator to enable it.",
                code: "ACCOUNT_DISABLED",
              });
            }
          },
        },
      },
    },
    plugins: [signInLimitsPlugin(prisma, config.signInLimits), nextCookies()],
  });
}

export type Auth = ReturnType<typeof createAuth>;

const globalForAuth = globalThis as unknown as { modeldeckAuth?: Auth };

export function getAuth(): Auth {
  if (!globalForAuth.modeldeckAuth) {
    const secret = process.env.BETTER_AUTH_SECRET;
    if (!secret) {
      throw new Error(
        "BETTER_AUTH_SECRET is not set. Start ModelDeck with `npm start`, which provisions it.",
      );
    }
    globalForAuth.modeldeckAuth = createAuth(getPrisma(), getConfig(), secret);
  }
  return globalForAuth.modeldeckAuth;
}
