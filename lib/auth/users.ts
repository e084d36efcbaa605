import { randomBytes, randomUUID } from "node:crypto";
import { hashPassword, verifyPassword } from "better-auth/crypto";
import { isUniqueViolation } from "../db/errors";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { ApiError, conflict, notFound } from "../api/errors";
import { recordAudit, SYSTEM_ACTOR, type Actor } from "../audit";
import { notifyAuthEvent } from "./events";
import { isRole, type Role } from "./roles";
import { hashSessionToken } from "./session-tokens";

/**
 * People who sign in. Passwords are hashed with better-auth's own scrypt (the same function
 * it verifies with at sign-in); the rows are written here rather than through better-auth's
 * admin endpoints so each change shares one transaction with its audit entry.
 */
export const MIN_PASSWORD_LENGTH = 10;

export type UserView = {
  id: string;
  name: string;
  email: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
  lastSeenAt: string | null;
};

type UserRow = {
  id: string;
  name: string;
  email: string;
  role: string;
  banned: boolean;
  createdAt: Date;
  sessions?: { updatedAt: Date }[];
};

function toView(row: UserRow): UserView {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: isRole(row.role) ? row.role : "viewer",
    disabled: row.banned,
    createdAt: row.createdAt.toISOString(),
    lastSeenAt: row.sessions?.[0]?.updatedAt.toISOString() ?? null,
  };
}

const withLastSession = {
  sessions: { select: { updatedAt: true }, orderBy: { updatedAt: "desc" as const }, take: 1 },
};

/** A readable one-time password: 20 characters from an unambiguous alphabet (~115 bits). */
export function generatePassword(): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = randomBytes(40);
  let out = "";
  for (const b of bytes) {
    // Rejection sampling keeps the distribution uniform (256 is not a multiple of 55).
    if (b < alphabet.length * Math.floor(256 / alphabet.length))
      out += alphabet[b % alphabet.length];
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : generatePassword();
}

export async function listUsers(db: PrismaClient): Promise<UserView[]> {
  const rows = await db.user.findMany({ orderBy: { createdAt: "asc" }, include: withLastSession });
  return rows.map(toView);
}

export async function getUser(db: PrismaClient, id: string): Promise<UserView> {
  const row = await db.user.findUnique({ where: { id }, include: withLastSession });
  if (!row) throw notFound(`User ${id}`);
  return toView(row);
}

export type CreateUserInput = { email: string; name: string; role: Role; password?: string };

export async function createUser(
  db: PrismaClient,
  actor: Actor,
  input: CreateUserInput,
  ipAddress?: string | null,
): Promise<{ user: UserView; password: string; generated: boolean }> {
  const email = input.email.trim().toLowerCase();
  const password = input.password ?? generatePassword();
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new ApiError(
      "validation_failed",
      `Invalid request: password must be at least ${MIN_PASSWORD_LENGTH} characters.`,
      {
        fields: [
          { field: "password", message: `must be at least ${MIN_PASSWORD_LENGTH} characters` },
        ],
      },
    );
  }
  const hash = await hashPassword(password);
  const id = randomUUID();
  try {
    const user = await db.$transaction(async (tx) => {
      const row = await tx.user.create({
        data: {
          id,
          email,
          name: input.name.trim(),
          role: input.role,
          emailVerified: true,
          accounts: {
            create: { id: randomUUID(), providerId: "credential", accountId: id, password: hash },
          },
        },
      });
      const view = toView(row);
      await recordAudit(tx, {
        actor,
        action: "user.create",
        resourceType: "user",
        resourceId: id,
        after: { email: view.email, name: view.name, role: view.role },
        ipAddress,
      });
      return view;
    });
    return { user, password, generated: input.password === undefined };
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A user with the email ${email} already exists.`);
    throw error;
  }
}

export type UpdateUserInput = { name?: string; role?: Role; disabled?: boolean };

/**
 * Changes a user's name, role or disabled state. Refuses to leave the instance without an
 * enabled admin, and ends a disabled user's sessions in the same transaction.
 */
export async function updateUser(
  db: PrismaClient,
  actor: Actor,
  id: string,
  input: UpdateUserInput,
  ipAddress?: string | null,
): Promise<UserView> {
  return db.$transaction(
    async (tx) => {
      // Serialise admin-count checks: two admins demoting each other at once must not both win.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('modeldeck.user-admin-guard'))`;
      const before = await tx.user.findUnique({ where: { id } });
      if (!before) throw notFound(`User ${id}`);
      const losesAdmin =
        before.role === "admin" &&
        !before.banned &&
        ((input.role !== undefined && input.role !== "admin") || input.disabled === true);
      if (losesAdmin) {
        const otherAdmins = await tx.user.count({
          where: { role: "admin", banned: false, id: { not: id } },
        });
        if (otherAdmins === 0) {
          throw conflict("This is the last enabled admin; promote another admin first.");
        }
      }
      if (actor.type === "user" && actor.id === id && input.disabled === true) {
        throw conflict("You cannot disable your own account.");
      }
      const data: Prisma.UserUpdateInput = {};
      if (input.name !== undefined) data.name = input.name.trim();
      if (input.role !== undefined) data.role = input.role;
      if (input.disabled !== undefined) {
        data.banned = input.disabled;
        data.banReason = input.disabled ? `Disabled by ${actor.label}` : null;
      }
      const row = await tx.user.update({ where: { id }, data, include: withLastSession });
      if (input.disabled === true) await tx.session.deleteMany({ where: { userId: id } });
      const after = toView(row);
      const prev = toView(before);
      const action =
        input.disabled !== undefined && input.disabled !== prev.disabled
          ? input.disabled
            ? "user.disable"
            : "user.enable"
          : input.role !== undefined && input.role !== prev.role
            ? "user.role.change"
            : "user.update";
      await recordAudit(tx, {
        actor,
        action,
        resourceType: "user",
        resourceId: id,
        before: { email: prev.email, name: prev.name, role: prev.role, disabled: prev.disabled },
        after: { email: after.email, name: after.name, role: after.role, disabled: after.disabled },
        ipAddress,
      });
      // The tokens this person created follow them (lib/auth/tokens.ts): token caches drop them.
      if (after.disabled !== prev.disabled) {
        const change = after.disabled ? "disabled" : "enabled";
        await notifyAuthEvent(tx, { kind: "user", userId: id, change });
      }
      if (after.role !== prev.role) {
        await notifyAuthEvent(tx, { kind: "user", userId: id, change: "role" });
      }
      return after;
    },
    { isolationLevel: "ReadCommitted" },
  );
}

/**
 * First start with an empty user table: create the admin account. Returns the password only
 * when this call created the account, so it is printed exactly once.
 */
export async function ensureInitialAdmin(
  db: PrismaClient,
  opts: { email: string; password?: string },
): Promise<
  { created: false } | { created: true; email: string; password: string; generated: boolean }
> {
  return withAdvisoryLock(db, "modeldeck.initial-admin", async () => {
    if ((await db.user.count()) > 0) return { created: false as const };
    const { user, password, generated } = await createUser(db, SYSTEM_ACTOR, {
      email: opts.email,
      name: "Administrator",
      role: "admin",
      password: opts.password,
    });
    return { created: true as const, email: user.email, password, generated };
  });
}

/** Runs `fn` while holding a session-level advisory lock (several replicas may start at once). */
async function withAdvisoryLock<T>(
  db: PrismaClient,
  key: string,
  fn: () => Promise<T>,
): Promise<T> {
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
      return fn();
    },
    { timeout: 60_000 },
  );
}

/**
 * A signed-in person changes their own password (the first admin replaces the one printed at
 * start). The current password must be right; every other session of theirs is ended.
 */
export async function changeOwnPassword(
  db: PrismaClient,
  actor: Actor & { type: "user" },
  input: { currentPassword: string; newPassword: string; keepSessionToken?: string | null },
  ipAddress?: string | null,
): Promise<void> {
  if (input.newPassword.length < MIN_PASSWORD_LENGTH) {
    throw new ApiError(
      "validation_failed",
      `Invalid request: newPassword must be at least ${MIN_PASSWORD_LENGTH} characters.`,
      {
        fields: [
          { field: "newPassword", message: `must be at least ${MIN_PASSWORD_LENGTH} characters` },
        ],
      },
    );
  }
  const account = await db.account.findFirst({
    where: { userId: actor.id, providerId: "credential" },
  });
  if (
    !account?.password ||
    !(await verifyPassword({ hash: account.password, password: input.currentPassword }))
  ) {
    throw new ApiError(
      "validation_failed",
      "Invalid request: currentPassword is not your current password.",
      {
        fields: [{ field: "currentPassword", message: "is not your current password" }],
      },
    );
  }
  const hash = await hashPassword(input.newPassword);
  await db.$transaction(async (tx) => {
    await tx.account.update({ where: { id: account.id }, data: { password: hash } });
    await tx.session.deleteMany({
      where: {
        userId: actor.id,
        ...(input.keepSessionToken
          ? { token: { not: hashSessionToken(input.keepSessionToken) } }
          : {}),
      },
    });
    // The audit entry records that it happened, never the password or its hash.
    await recordAudit(tx, {
      actor,
      action: "user.password.change",
      resourceType: "user",
      resourceId: actor.id,
      after: { otherSessionsEnded: true },
      ipAddress,
    });
  });
}
