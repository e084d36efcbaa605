import { createHash, randomBytes } from "node:crypto";
import { isUniqueViolation } from "../db/errors";
import type { PrismaClient } from "../db/generated/client";
import { ApiError, conflict, forbidden, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import { notifyAuthEvent, type AuthEvent } from "./events";
import { isRole, roleRank, type Role } from "./roles";

/**
 * API tokens for machines (CI pipelines, inference clients).
 *
 * Why not better-auth's API-key plugin: our tokens carry their own role (not the creating
 * user's), must be written in the same transaction as their audit entry, and are verified
 * by the serving process on its hot path with a cache. The parts that are security-
 * sensitive come from node:crypto: 256 random bits per secret, stored only as SHA-256.
 * A fast hash is the right tool for high-entropy secrets (no dictionary to slow down).
 */
export const TOKEN_PREFIX = "mdk_";
const DISPLAY_PREFIX_LENGTH = TOKEN_PREFIX.length + 8;
/** lastUsedAt is refreshed at most this often per token, so a busy client is not a write storm. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashTokenSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function looksLikeToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX) && value.length > DISPLAY_PREFIX_LENGTH;
}

export type ApiTokenView = {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  createdAt: string;
  createdBy: { id: string; email: string } | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  status: "active" | "expired" | "revoked";
};

type TokenRow = {
  id: string;
  name: string;
  prefix: string;
  role: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdBy?: { id: string; email: string } | null;
};

export function tokenStatus(row: Pick<TokenRow, "expiresAt" | "revokedAt">, now = new Date()) {
  if (row.revokedAt) return "revoked" as const;
  if (row.expiresAt && row.expiresAt <= now) return "expired" as const;
  return "active" as const;
}

function toView(row: TokenRow): ApiTokenView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: isRole(row.role) ? row.role : "viewer",
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    status: tokenStatus(row),
  };
}

export type CreateTokenInput = {
  name: string;
  role: Role;
  expiresAt?: Date | null;
  /** For the bootstrap token only: register a secret chosen by the operator. */
  secret?: string;
};

/** Creates a token and returns its secret; the secret is never retrievable again. */
export async function createApiToken(
  db: PrismaClient,
  actor: Actor & { role?: Role },
  input: CreateTokenInput,
  ipAddress?: string | null,
): Promise<{ token: ApiTokenView; secret: string }> {
  if (actor.role && roleRank(input.role) > roleRank(actor.role)) {
    throw forbidden(`A ${actor.role} cannot create a token with the ${input.role} role.`);
  }
  if (input.expiresAt && input.expiresAt <= new Date()) {
    throw new ApiError("validation_failed", "Invalid request: expiresAt must be in the future.", {
      fields: [{ field: "expiresAt", message: "must be in the future" }],
    });
  }
  const secret = input.secret ?? generateTokenSecret();
  const secretHash = hashTokenSecret(secret);
  const alreadyRegistered = () => conflict("A token with this secret is already registered.");
  const created = db.$transaction(async (tx) => {
    const existing = await tx.apiToken.findUnique({ where: { secretHash } });
    if (existing) throw alreadyRegistered();
    const row = await tx.apiToken.create({
      data: {
        name: input.name,
        prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH),
        secretHash,
        role: input.role,
        expiresAt: input.expiresAt ?? null,
        createdById: actor.type === "user" ? actor.id : null,
      },
      include: { createdBy: { select: { id: true, email: true } } },
    });
    const token = toView(row);
    await recordAudit(tx, {
      actor,
      action: "token.create",
      resourceType: "api_token",
      resourceId: row.id,
      after: {
        name: token.name,
        role: token.role,
        prefix: token.prefix,
        expiresAt: token.expiresAt,
      },
      ipAddress,
    });
    // Token caches may hold a recent "unknown" answer for this secret: let them forget it.
    await notifyAuthEvent(tx, { kind: "token", tokenId: row.id, change: "created" });
    return { token, secret };
  });
  // Two writers with the same chosen secret at once (replicas registering the bootstrap token):
  // the unique index decides, and the loser gets the same 409 as a caller that came later.
  return created.catch((error: unknown) => {
    throw isUniqueViolation(error) ? alreadyRegistered() : error;
  });
}

export async function revokeApiToken(
  db: PrismaClient,
  actor: Actor,
  id: string,
  ipAddress?: string | null,
): Promise<ApiTokenView> {
  return db.$transaction(async (tx) => {
    // Row lock: two concurrent revokes must not both write an audit entry.
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM api_token WHERE id = ${id}::uuid FOR UPDATE`;
    if (locked.length === 0) throw notFound(`API token ${id}`);
    const before = await tx.apiToken.findUniqueOrThrow({ where: { id } });
    if (before.revokedAt) throw conflict("This token is already revoked.");
    const row = await tx.apiToken.update({
      where: { id },
      data: { revokedAt: new Date() },
      include: { createdBy: { select: { id: true, email: true } } },
    });
    await recordAudit(tx, {
      actor,
      action: "token.revoke",
      resourceType: "api_token",
      resourceId: id,
      before: { name: before.name, status: tokenStatus(before) },
      after: { name: row.name, status: "revoked" },
      ipAddress,
    });
    await notifyAuthEvent(tx, { kind: "token", tokenId: id, change: "revoked" });
    return toView(row);
  });
}

export async function listApiTokens(db: PrismaClient): Promise<ApiTokenView[]> {
  const rows = await db.apiToken.findMany({
    orderBy: [{ revokedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }],
    include: { createdBy: { select: { id: true, email: true } } },
  });
  return rows.map(toView);
}

export type VerifiedToken = { id: string; name: string; role: Role };

/** A verified token with what a cache needs to judge it later without the database. */
export type ActiveToken = VerifiedToken & {
  /** Epoch ms from which the token is refused; null when it never expires. */
  expiresAt: number | null;
  /** The user whose changes (disable, role) reach this token; null for system tokens. */
  createdById: string | null;
};

/**
 * The one rule for whether a presented secret is good: a known token, neither revoked nor
 * expired, whose creator (if a person) is enabled. A token acts with its own role, capped at
 * its creator's current role, so demoting a person also demotes the tokens they made.
 */
async function findActiveToken(
  db: PrismaClient,
  secret: string,
): Promise<{ token: ActiveToken; lastUsedAt: Date | null } | null> {
  if (!looksLikeToken(secret)) return null;
  const row = await db.apiToken.findUnique({
    where: { secretHash: hashTokenSecret(secret) },
    include: { createdBy: { select: { role: true, banned: true } } },
  });
  if (!row || tokenStatus(row) !== "active" || !isRole(row.role)) return null;
  let role: Role = row.role;
  if (row.createdBy) {
    if (row.createdBy.banned || !isRole(row.createdBy.role)) return null;
    if (roleRank(row.createdBy.role) < roleRank(role)) role = row.createdBy.role;
  }
  const token = {
    id: row.id,
    name: row.name,
    role,
    expiresAt: row.expiresAt?.getTime() ?? null,
    createdById: row.createdById,
  };
  return { token, lastUsedAt: row.lastUsedAt };
}

/** Records that a token was used, at most once per LAST_USED_RESOLUTION_MS. */
async function touchLastUsed(db: PrismaClient, id: string, now = Date.now()): Promise<void> {
  await db.apiToken.updateMany({
    where: {
      id,
      OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now - LAST_USED_RESOLUTION_MS) } }],
    },
    data: { lastUsedAt: new Date(now) },
  });
}

/**
 * Resolves a presented secret to an active token, or null (unknown, expired, revoked or
 * belonging to a disabled person are indistinguishable to the caller on purpose).
 */
export async function verifyApiToken(
  db: PrismaClient,
  secret: string,
): Promise<VerifiedToken | null> {
  const found = await findActiveToken(db, secret);
  if (!found) return null;
  const { token, lastUsedAt } = found;
  const now = Date.now();
  if (!lastUsedAt || now - lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await touchLastUsed(db, token.id, now);
  }
  return { id: token.id, name: token.name, role: token.role };
}

/**
 * Registers MODELDECK_BOOTSTRAP_TOKEN as an admin token (once: a restart with the same value
 * is a no-op; a revoked bootstrap token stays revoked).
 */
export async function registerBootstrapToken(db: PrismaClient, secret: string, actor: Actor) {
  if (!looksLikeToken(secret) || secret.length < TOKEN_PREFIX.length + 32) {
    throw new Error(
      `MODELDECK_BOOTSTRAP_TOKEN must start with "${TOKEN_PREFIX}" and carry at least 32 characters after it.`,
    );
  }
  const secretHash = hashTokenSecret(secret);
  const existing = await db.apiToken.findUnique({ where: { secretHash } });
  if (existing) return { created: false as const, token: toView(existing) };
  try {
    const { token } = await createApiToken(db, actor, { name: "bootstrap", role: "admin", secret });
    return { created: true as const, token };
  } catch (error) {
    // Another replica registered it between our lookup and our insert: a no-op for us too.
    const raced = await db.apiToken.findUnique({ where: { secretHash } });
    if (raced) return { created: false as const, token: toView(raced) };
    throw error;
  }
}

export type CachedTokenVerifierOptions = {
  /** Known tokens held at most; past it the least recently added is forgotten. */
  maxEntries?: number;
  /** How long an "unknown token" answer is reused (a client retrying a bad token). */
  refusedTtlMs?: number;
  /** "Unknown token" answers held at most. */
  maxRefused?: number;
  /**
   * How long a request waits for the lookup of a token not seen yet before it fails with
   * TokenCheckTimeoutError (serving answers 503 auth_unavailable, retry-after 1). The lookup
   * itself goes on, and its answer is kept for the next request.
   */
  lookupTimeoutMs?: number;
  onError?: (error: unknown) => void;
};

/** The database did not answer a token lookup in time (it is away or stalled). */
export class TokenCheckTimeoutError extends Error {
  constructor(ms: number) {
    super(`The token lookup did not complete within ${ms} ms.`);
    this.name = "TokenCheckTimeoutError";
  }
}

export type CachedTokenVerifier = {
  /**
   * The token behind a secret, or null. A known token is answered synchronously from
   * memory (no database, no promise) until it expires or an invalidation drops it.
   */
  verify(secret: string): ActiveToken | null | Promise<ActiveToken | null>;
  /** Drops what an auth event changed (lib/auth/events.ts). */
  invalidate(event: AuthEvent): void;
  /**
   * After the notification connection (re)connects: events sent meanwhile are lost, so every
   * cached token is looked up again in the background. Requests keep being answered from the
   * cache meanwhile; a token found no longer valid is dropped.
   */
  resync(): Promise<void>;
  readonly size: number;
};

/**
 * A verifier for hot paths (the serving process). A known token's answer is kept until its
 * `expiresAt` (checked on every request, so it is refused from that instant) or until an
 * auth event (revoke, creator disabled or demoted) drops it; there is no TTL re-check, so a
 * known client's requests never wait for the database, not even during an outage. An
 * unknown secret costs one lookup; that "no" is reused briefly (bounded), and forgotten when
 * a token is created.
 */
export function createCachedTokenVerifier(
  db: PrismaClient,
  opts: CachedTokenVerifierOptions = {},
): CachedTokenVerifier {
  const maxEntries = opts.maxEntries ?? 10_000;
  const refusedTtlMs = opts.refusedTtlMs ?? 1_000;
  const maxRefused = opts.maxRefused ?? 10_000;
  const lookupTimeoutMs = opts.lookupTimeoutMs ?? 2_000;
  type Entry = { token: ActiveToken; notAfter: number; touchAfter: number };
  // Keyed by the secret itself, not its hash: hashing every request showed up in profiles,
  // and this map lives only in the memory of the process that was sent the secret anyway.
  const known = new Map<string, Entry>();
  const refused = new Map<string, number>();
  // Concurrent misses for one token (64 clients starting at once) share one lookup.
  const pending = new Map<string, Promise<ActiveToken | null>>();
  // Bumped by every invalidation: a lookup that read the database before an invalidation
  // arrived may carry what it invalidated, so its answer is used once but not kept.
  let generation = 0;
  let resyncing: Promise<void> | null = null;
  let resyncAgain = false;

  const remember = (secret: string, token: ActiveToken, now: number) => {
    if (!known.has(secret) && known.size >= maxEntries) {
      known.delete(known.keys().next().value!);
    }
    known.set(secret, {
      token,
      notAfter: token.expiresAt ?? Number.POSITIVE_INFINITY,
      touchAfter: now + LAST_USED_RESOLUTION_MS,
    });
  };

  const lookUp = async (secret: string): Promise<ActiveToken | null> => {
    const startedAt = generation;
    const found = await findActiveToken(db, secret);
    const now = Date.now();
    if (
      found &&
      (!found.lastUsedAt || now - found.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS)
    ) {
      touch(found.token.id, now);
    }
    if (generation !== startedAt) return found?.token ?? null;
    if (found) {
      refused.delete(secret);
      remember(secret, found.token, now);
    } else {
      if (refused.size >= maxRefused) refused.clear();
      refused.set(secret, now + refusedTtlMs);
    }
    return found?.token ?? null;
  };

  // lastUsedAt is kept off the request path: written in the background, its failure ignored.
  const touch = (id: string, now: number) => {
    touchLastUsed(db, id, now).catch((error: unknown) => opts.onError?.(error));
  };

  const verify = (secret: string): ActiveToken | null | Promise<ActiveToken | null> => {
    const hit = known.get(secret);
    if (hit !== undefined) {
      const now = Date.now();
      if (now < hit.notAfter) {
        if (now >= hit.touchAfter) {
          hit.touchAfter = now + LAST_USED_RESOLUTION_MS;
          touch(hit.token.id, now);
        }
        return hit.token;
      }
      known.delete(secret);
      return null;
    }
    const refusedUntil = refused.get(secret);
    if (refusedUntil !== undefined) {
      if (refusedUntil > Date.now()) return null;
      refused.delete(secret);
    }
    let lookup = pending.get(secret);
    if (!lookup) {
      lookup = lookUp(secret).finally(() => pending.delete(secret));
      pending.set(secret, lookup);
    }
    // A stalled database must not hold a request for as long as it stalls: the client gets a
    // clear 503 and retries; the lookup finishes in the background and is remembered.
    return new Promise<ActiveToken | null>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new TokenCheckTimeoutError(lookupTimeoutMs)),
        lookupTimeoutMs,
      );
      lookup.then(
        (token) => {
          clearTimeout(timer);
          resolve(token);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  };

  const invalidate = (event: AuthEvent) => {
    generation++;
    // A new token or an enabled person may turn a recent "no" into a "yes".
    if (event.change === "created" || event.change === "enabled") {
      refused.clear();
    }
    if (event.kind === "token") {
      for (const [secret, entry] of known)
        if (entry.token.id === event.tokenId) known.delete(secret);
    } else {
      for (const [secret, entry] of known) {
        if (entry.token.createdById === event.userId) known.delete(secret);
      }
    }
  };

  const resyncOnce = async () => {
    generation++;
    refused.clear();
    for (const [secret, entry] of [...known]) {
      let found: Awaited<ReturnType<typeof findActiveToken>>;
      try {
        found = await findActiveToken(db, secret);
      } catch (error) {
        opts.onError?.(error);
        return; // the database went away again: the next reconnect resyncs
      }
      // Dropped meanwhile (an event for it arrived, or it expired): nothing to correct.
      if (known.get(secret) !== entry) continue;
      if (!found) {
        known.delete(secret);
        continue;
      }
      entry.token = found.token;
      entry.notAfter = found.token.expiresAt ?? Number.POSITIVE_INFINITY;
    }
  };

  const resync = (): Promise<void> => {
    if (resyncing) {
      resyncAgain = true;
      return resyncing;
    }
    resyncing = (async () => {
      do {
        resyncAgain = false;
        await resyncOnce();
      } while (resyncAgain);
    })().finally(() => (resyncing = null));
    return resyncing;
  };

  return {
    verify,
    invalidate,
    resync,
    get size() {
      return known.size;
    },
  };
}
