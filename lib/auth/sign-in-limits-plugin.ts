import type { BetterAuthPlugin } from "better-auth";
import { createAuthMiddleware, getIP, isAPIError } from "better-auth/api";
import { errorBody } from "../api/errors";
import type { PrismaClient } from "../db/generated/client";
import { createLogger } from "../log";
import {
  accountKey,
  pruneSignInThrottle,
  recordSignInFailure,
  recordSignInSuccess,
  signInLockedError,
  signInLockedFor,
  type SignInLimits,
} from "./sign-in-limits";

export const SIGN_IN_PATH = "/sign-in/email";

const log = createLogger("sign-in-limits");
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

function emailOf(body: unknown): string | null {
  const email = (body as { email?: unknown } | undefined)?.email;
  return typeof email === "string" && email.trim() ? accountKey(email) : null;
}

/**
 * Wires lib/auth/sign-in-limits.ts into better-auth's email sign-in: before the password is
 * checked, a locked account or address gets 429; afterwards, a wrong password is counted and a
 * right one clears this address's count for the account.
 */
export function signInLimitsPlugin(db: PrismaClient, limits: SignInLimits): BetterAuthPlugin {
  let lastPrune = 0;
  return {
    id: "modeldeck-sign-in-limits",
    hooks: {
      before: [
        {
          matcher: (ctx) => ctx.path === SIGN_IN_PATH,
          handler: createAuthMiddleware(async (ctx) => {
            const email = emailOf(ctx.body);
            if (!email) return; // better-auth answers the malformed request itself
            const address =
              getIP(ctx.request ?? ctx.headers ?? new Headers(), ctx.context.options) ?? "unknown";
            const retryAfter = await signInLockedFor(db, email, address);
            if (!retryAfter) return;
            return new Response(JSON.stringify(errorBody(signInLockedError(retryAfter))), {
              status: 429,
              headers: {
                "content-type": "application/json",
                "retry-after": String(retryAfter),
                "cache-control": "no-store",
              },
            });
          }),
        },
      ],
      after: [
        {
          matcher: (ctx) => ctx.path === SIGN_IN_PATH,
          handler: createAuthMiddleware(async (ctx) => {
            const email = emailOf(ctx.body);
            if (!email) return;
            const address =
              getIP(ctx.request ?? ctx.headers ?? new Headers(), ctx.context.options) ?? "unknown";
            const returned = ctx.context.returned;
            if (isAPIError(returned)) {
              if (returned.statusCode !== 401) return;
              await recordSignInFailure(db, limits, email, address);
              if (Date.now() - lastPrune > PRUNE_INTERVAL_MS) {
                lastPrune = Date.now();
                void pruneSignInThrottle(db, limits).catch((error: unknown) =>
                  log.warn({ err: error }, "pruning sign-in counters failed"),
                );
              }
              return;
            }
            if (returned !== undefined) await recordSignInSuccess(db, email, address);
          }),
        },
      ],
    },
  };
}
