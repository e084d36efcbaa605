import { randomUUID } from "node:crypto";
import { ApiError, notFound } from "../api/errors";
import { recordAudit, SYSTEM_ACTOR, type Actor } from "../audit";
import type { Prisma, PrismaClient } from "../db/generated/client";

/**
 * Sign-in limits that follow the account, not only the client address, so guessing one
 * account does not lock out everyone behind the same address (an office NAT):
 *
 * - an account (the email as typed) from one address: locked after `perAccountAndAddress`
 *   failures within the window;
 * - an account from every address: locked after `perAccount` failures (a higher threshold,
 *   against guessing spread over many addresses);
 * - one address over every account: locked after `perAddress` failures (password spraying).
 *
 * A lock lasts one window. Only wrong passwords count (a correct one from a locked address is
 * refused without being checked, so it neither counts nor helps). Unknown emails are counted
 * exactly like real ones, and a lock answers the same whether the account exists or not.
 * State lives in `sign_in_throttle`, shared by every web replica.
 */
export type SignInLimitRule = { failures: number; windowSeconds: number };
export type SignInLimits = {
  perAccountAndAddress: SignInLimitRule;
  perAccount: SignInLimitRule;
  perAddress: SignInLimitRule;
};

/** The `address` of a row that counts an account from every address, and the `email` of one that counts every account from one address. */
export const EVERY = "*";

/** Same wording for every lock: it must not reveal whether the account exists. */
export const SIGN_IN_LOCKED_MESSAGE =
  "Too many failed sign-in attempts. Sign-in is paused for this account or address; try again later or ask an administrator to unlock it.";

export type SignInLockScope = "account_and_address" | "account" | "address";

export type SignInLockView = {
  id: string;
  scope: SignInLockScope;
  /** The email as typed (lower-cased); null for an address lock. */
  email: string | null;
  /** The client address; null for an account lock from every address. */
  address: string | null;
  failures: number;
  lockedUntil: string;
  updatedAt: string;
};

/** Lower-cased, trimmed and bounded: the key a failure is counted under. */
export function accountKey(email: string): string {
  return email.trim().toLowerCase().slice(0, 320);
}

function scopeOf(row: { email: string; address: string }): SignInLockScope {
  if (row.email === EVERY) return "address";
  if (row.address === EVERY) return "account";
  return "account_and_address";
}

function keysFor(email: string, address: string, limits: SignInLimits) {
  return [
    { email, address, rule: limits.perAccountAndAddress },
    { email, address: EVERY, rule: limits.perAccount },
    { email: EVERY, address, rule: limits.perAddress },
  ];
}

/** Seconds until sign-in may be tried again for this account from this address; 0 when open. */
export async function signInLockedFor(
  db: PrismaClient,
  email: string,
  address: string,
  now = new Date(),
): Promise<number> {
  const rows = await db.signInThrottle.findMany({
    where: {
      lockedUntil: { gt: now },
      OR: [
        { email, address },
        { email, address: EVERY },
        { email: EVERY, address },
      ],
    },
    select: { lockedUntil: true },
  });
  let until = 0;
  for (const row of rows) until = Math.max(until, row.lockedUntil!.getTime());
  return until ? Math.max(1, Math.ceil((until - now.getTime()) / 1000)) : 0;
}

type CounterRow = { id: string; failures: number; locked_until: Date | null };

/**
 * Counts one wrong password for the account and address, and locks whatever crossed its
 * threshold (with an audit entry, in the same transaction).
 */
export async function recordSignInFailure(
  db: PrismaClient,
  limits: SignInLimits,
  email: string,
  address: string,
  now = new Date(),
): Promise<void> {
  await db.$transaction(async (tx) => {
    for (const key of keysFor(email, address, limits)) {
      const windowFloor = new Date(now.getTime() - key.rule.windowSeconds * 1000);
      // One statement, so concurrent failures on several web replicas all count.
      const [row] = await tx.$queryRaw<CounterRow[]>`
        INSERT INTO sign_in_throttle (id, email, address, failures, window_start, updated_at)
        VALUES (${randomUUID()}, ${key.email}, ${key.address}, 1, ${now}, ${now})
        ON CONFLICT (email, address) DO UPDATE SET
          failures = CASE WHEN sign_in_throttle.window_start <= ${windowFloor}
                          THEN 1 ELSE sign_in_throttle.failures + 1 END,
          window_start = CASE WHEN sign_in_throttle.window_start <= ${windowFloor}
                              THEN ${now} ELSE sign_in_throttle.window_start END,
          updated_at = ${now}
        RETURNING id, failures, locked_until`;
      if (!row || row.failures < key.rule.failures) continue;
      if (row.locked_until && row.locked_until > now) continue;
      const lockedUntil = new Date(now.getTime() + key.rule.windowSeconds * 1000);
      await tx.signInThrottle.update({ where: { id: row.id }, data: { lockedUntil } });
      await recordAudit(tx, {
        actor: SYSTEM_ACTOR,
        action: "sign_in.lock",
        resourceType: "sign_in_lock",
        resourceId: row.id,
        after: {
          scope: scopeOf(key),
          email: key.email === EVERY ? null : key.email,
          address: key.address === EVERY ? null : key.address,
          failures: row.failures,
          lockedUntil,
        },
        ipAddress: address,
      });
    }
  });
}

/**
 * A correct password clears the count for this account from this address. The counts for the
 * account everywhere and for the address stay: one valid account must not reset them.
 */
export async function recordSignInSuccess(
  db: PrismaClient,
  email: string,
  address: string,
  now = new Date(),
): Promise<void> {
  await db.signInThrottle.deleteMany({
    where: { email, address, OR: [{ lockedUntil: null }, { lockedUntil: { lte: now } }] },
  });
}

function toView(row: {
  id: string;
  email: string;
  address: string;
  failures: number;
  lockedUntil: Date | null;
  updatedAt: Date;
}): SignInLockView {
  return {
    id: row.id,
    scope: scopeOf(row),
    email: row.email === EVERY ? null : row.email,
    address: row.address === EVERY ? null : row.address,
    failures: row.failures,
    lockedUntil: (row.lockedUntil ?? row.updatedAt).toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Locks in force now, latest first. */
export async function listSignInLocks(
  db: PrismaClient,
  now = new Date(),
): Promise<SignInLockView[]> {
  const rows = await db.signInThrottle.findMany({
    where: { lockedUntil: { gt: now } },
    orderBy: { updatedAt: "desc" },
    take: 500,
  });
  return rows.map(toView);
}

/** Lifts a lock and forgets its failures, audited. */
export async function unlockSignIn(
  db: PrismaClient,
  actor: Actor,
  id: string,
  ipAddress?: string | null,
  now = new Date(),
): Promise<SignInLockView> {
  return db.$transaction(async (tx: Prisma.TransactionClient) => {
    const row = await tx.signInThrottle.findUnique({ where: { id } });
    if (!row || !row.lockedUntil || row.lockedUntil <= now) throw notFound(`Sign-in lock ${id}`);
    await tx.signInThrottle.delete({ where: { id } });
    const view = toView(row);
    await recordAudit(tx, {
      actor,
      action: "sign_in.unlock",
      resourceType: "sign_in_lock",
      resourceId: id,
      before: view,
      ipAddress,
    });
    return view;
  });
}

/** Drops counters whose window and lock are over (called now and then, not per request). */
export async function pruneSignInThrottle(
  db: PrismaClient,
  limits: SignInLimits,
  now = new Date(),
): Promise<number> {
  const longest = Math.max(
    limits.perAccountAndAddress.windowSeconds,
    limits.perAccount.windowSeconds,
    limits.perAddress.windowSeconds,
  );
  const floor = new Date(now.getTime() - longest * 1000);
  const { count } = await db.signInThrottle.deleteMany({
    where: {
      windowStart: { lt: floor },
      OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }],
    },
  });
  return count;
}

/** The 429 a locked sign-in gets, in the API's error shape. */
export function signInLockedError(retryAfterSeconds: number): ApiError {
  return new ApiError("rate_limited", SIGN_IN_LOCKED_MESSAGE, { retryAfterSeconds });
}
