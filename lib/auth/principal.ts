import type { PrismaClient } from "../db/generated/client";
import { ApiError } from "../api/errors";
import type { Actor } from "../audit";
import { getConfig, trustedOrigins } from "../config";
import type { Auth } from "./auth";
import { isRole, roleHasScope, type Role, type Scope } from "./roles";
import { verifyApiToken } from "./tokens";

/** Who is making a request: a signed-in person (cookie session) or an API token. */
export type Principal =
  | {
      kind: "user";
      id: string;
      name: string;
      email: string;
      role: Role;
      /** The session this request came with (kept when the person changes their password). */
      sessionToken: string;
    }
  | { kind: "token"; id: string; name: string; role: Role };

export function actorOf(principal: Principal): Actor & { role: Role } {
  return principal.kind === "user"
    ? { type: "user", id: principal.id, label: principal.email, role: principal.role }
    : { type: "token", id: principal.id, label: `token:${principal.name}`, role: principal.role };
}

function bearerOf(headers: Headers): string | null | undefined {
  const value = headers.get("authorization");
  if (!value) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match ? match[1]! : null;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A cookie travels with cross-site requests; a bearer token does not. So only
 * cookie-authenticated mutations need proof they come from our own pages: a same-origin
 * Origin header (every modern browser sends it on POST/PUT/PATCH/DELETE) or Sec-Fetch-Site.
 */
export function assertSameOrigin(method: string, headers: Headers): void {
  if (SAFE_METHODS.has(method.toUpperCase())) return;
  const fetchSite = headers.get("sec-fetch-site");
  if (fetchSite === "same-origin") return;
  const origin = headers.get("origin");
  if (origin && trustedOrigins(getConfig()).includes(origin)) return;
  throw new ApiError(
    "csrf_rejected",
    "Cross-site request refused: cookie-authenticated changes must come from ModelDeck's own pages (or use an API token).",
  );
}

/**
 * Authenticates a request. A present but invalid bearer token is a 401 even if a cookie is
 * also present: a client that sends a token means to be judged by it.
 */
export async function authenticate(
  db: PrismaClient,
  auth: Auth,
  request: { method: string; headers: Headers },
): Promise<Principal> {
  const bearer = bearerOf(request.headers);
  if (bearer !== undefined) {
    const token = bearer ? await verifyApiToken(db, bearer) : null;
    if (!token) {
      throw new ApiError("unauthenticated", "The API token is invalid, expired or revoked.");
    }
    return { kind: "token", id: token.id, name: token.name, role: token.role };
  }
  const session = await auth.api.getSession({ headers: request.headers });
  if (!session) {
    throw new ApiError(
      "unauthenticated",
      "Sign in, or send an API token as `Authorization: Bearer <token>`.",
    );
  }
  const user = session.user as typeof session.user & { role?: string; banned?: boolean };
  if (user.banned || !isRole(user.role)) {
    throw new ApiError("unauthenticated", "This account is disabled.");
  }
  assertSameOrigin(request.method, request.headers);
  return {
    kind: "user",
    id: user.id,
    name: user.name,
    email: user.email,
    role: user.role,
    sessionToken: session.session.token,
  };
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!roleHasScope(principal.role, scope)) {
    throw new ApiError(
      "forbidden",
      `This needs the ${scope} permission, which the ${principal.role} role does not have.`,
      { requiredScope: scope, role: principal.role },
    );
  }
}
