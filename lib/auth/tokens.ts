import { createHash, randomBytes } from "node:crypto";
import { isUniqueViolation } from "../db/errors";
import type { PrismaClient } from "../db/generated/client";
import { ApiError, conflict, forbidden, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
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

/**
 * Resolves a presented secret to an active token, or null (unknown, expired or revoked are
 * indistinguishable to the caller on purpose).
 */
export async function verifyApiToken(
  db: PrismaClient,
  secret: string,
): Promise<VerifiedToken | null> {
  if (!looksLikeToken(secret)) return null;
  const row = await db.apiToken.findUnique({ where: { secretHash: hashTokenSecret(secret) } });
  if (!row || tokenStatus(row) !== "active" || !isRole(row.role)) return null;
  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiToken.updateMany({
      where: {
        id: row.id,
        OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now - LAST_USED_RESOLUTION_MS) } }],
      },
      data: { lastUsedAt: new Date(now) },
    });
  }
  return { id: row.id, name: row.name, role: row.role };
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

/**
 * A verifier for hot paths (the serving process): remembers answers briefly so a client
 * sending thousands of requests costs one database lookup per `ttlMs`. A revoked token is
 * refused at the latest `ttlMs` after revocation.
 */
export function createCachedTokenVerifier(db: PrismaClient, ttlMs = 5_000, maxEntries = 10_000) {
  const cache = new Map<string, { value: VerifiedToken | null; until: number }>();
  // Concurrent misses for one token (64 clients starting at once) share one lookup.
  const pending = new Map<string, Promise<VerifiedToken | null>>();
  const lookUp = async (secret: string): Promise<VerifiedToken | null> => {
    const hit = cache.get(secret);
    let value: VerifiedToken | null;
    try {
      value = await verifyApiToken(db, secret);
    } catch (error) {
      // The database is unreachable: a token it vouched for recently stays good meanwhile, so
      // the data plane keeps answering known clients through a database outage.
      if (hit) return hit.value;
      throw error;
    }
    if (cache.size >= maxEntries) cache.clear();
    cache.set(secret, { value, until: Date.now() + ttlMs });
    return value;
  };
  // Keyed by the secret itself, not its hash: hashing every request showed up in profiles,
  // and this map lives only in the memory of the process that was sent the secret anyway.
  // A cached answer is returned as is, not as a promise: the serving path then goes on
  // without waiting a microtask turn per request.
  return function verify(secret: string): VerifiedToken | null | Promise<VerifiedToken | null> {
    const hit = cache.get(secret);
    if (hit && hit.until > Date.now()) return hit.value;
    let lookup = pending.get(secret);
    if (!lookup) {
      lookup = lookUp(secret).finally(() => pending.delete(secret));
      pending.set(secret, lookup);
    }
    return lookup;
  };
}
