import { ROLES } from "../../auth/roles";
import { defineContract, registry, z } from "../contract";

/** Users, API tokens, the audit log and "who am I": the identity part of /api/v1. */

const Role = z.enum(ROLES).openapi("Role", { description: "viewer | operator | admin" });
const Id = z.string().min(1).max(100);
const Uuid = z.uuid();

const User = registry.register(
  "User",
  z.object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    role: Role,
    disabled: z.boolean(),
    createdAt: z.string().openapi({ format: "date-time" }),
    lastSeenAt: z.string().nullable().openapi({ format: "date-time" }),
  }),
);

const ApiToken = registry.register(
  "ApiToken",
  z.object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ example: "mdk_Xk2f9aQp" }),
    role: Role,
    createdAt: z.string(),
    createdBy: z.object({ id: z.string(), email: z.string() }).nullable(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    status: z.enum(["active", "expired", "revoked"]),
  }),
);

const AuditEntry = registry.register(
  "AuditEntry",
  z.object({
    id: z.string(),
    at: z.string(),
    actorType: z.string(),
    actorId: z.string().nullable(),
    actorLabel: z.string(),
    action: z.string(),
    resourceType: z.string(),
    resourceId: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    ipAddress: z.string().nullable(),
  }),
);

export const getMe = defineContract({
  method: "get",
  path: "/api/v1/me",
  operationId: "getMe",
  summary: "The authenticated principal",
  tags: ["Identity"],
  scope: "authenticated",
  response: z.object({
    kind: z.enum(["user", "token"]),
    id: z.string(),
    name: z.string(),
    email: z.string().optional(),
    role: Role,
    scopes: z.array(z.string()),
  }),
});

export const changeMyPassword = defineContract({
  method: "post",
  path: "/api/v1/me/password",
  operationId: "changeMyPassword",
  summary: "Change your own password",
  description: "For signed-in people (not API tokens). Ends your other sessions.",
  tags: ["Identity"],
  scope: "authenticated",
  body: z
    .object({
      currentPassword: z.string().min(1).max(128),
      newPassword: z.string().min(10).max(128),
    })
    .strict(),
  response: z.object({ changed: z.literal(true) }),
});

export const listUsers = defineContract({
  method: "get",
  path: "/api/v1/users",
  operationId: "listUsers",
  summary: "List users",
  tags: ["Users"],
  scope: "users:read",
  response: z.object({ users: z.array(User) }),
});

export const createUser = defineContract({
  method: "post",
  path: "/api/v1/users",
  operationId: "createUser",
  summary: "Create a user",
  description:
    "Creates a user who signs in with email and password. Without `password`, a random one is generated and returned once.",
  tags: ["Users"],
  scope: "users:write",
  successStatus: 201,
  extraErrors: { 409: "A user with this email already exists." },
  body: z
    .object({
      email: z.email().max(254),
      name: z.string().trim().min(1).max(100),
      role: Role,
      password: z.string().min(10).max(128).optional(),
    })
    .strict(),
  response: z.object({
    user: User,
    password: z.string().optional().openapi({ description: "Present only when generated." }),
  }),
});

export const updateUser = defineContract({
  method: "patch",
  path: "/api/v1/users/{id}",
  operationId: "updateUser",
  summary: "Change a user's name, role, or disabled state",
  description:
    "Disabling a user ends their sessions. The last enabled admin cannot be demoted or disabled.",
  tags: ["Users"],
  scope: "users:write",
  extraErrors: { 404: "No such user.", 409: "Would leave no enabled admin, or disables yourself." },
  params: z.object({ id: Id }),
  body: z
    .object({
      name: z.string().trim().min(1).max(100).optional(),
      role: Role.optional(),
      disabled: z.boolean().optional(),
    })
    .strict()
    .refine((b) => Object.keys(b).length > 0, {
      message: "send at least one of name, role, disabled",
    }),
  response: z.object({ user: User }),
});

const SignInLock = registry.register(
  "SignInLock",
  z.object({
    id: Uuid,
    scope: z.enum(["account_and_address", "account", "address"]).openapi({
      description:
        "account_and_address: one account from one address; account: one account from every address; address: every account from one address.",
    }),
    email: z.string().nullable().openapi({
      description: "As typed at sign-in (it may match no user); null for an address lock.",
    }),
    address: z.string().nullable().openapi({ description: "Null for an account lock." }),
    failures: z.number().int(),
    lockedUntil: z.string().openapi({ format: "date-time" }),
    updatedAt: z.string().openapi({ format: "date-time" }),
  }),
);

export const listSignInLocks = defineContract({
  method: "get",
  path: "/api/v1/sign-in-locks",
  operationId: "listSignInLocks",
  summary: "List sign-in locks in force",
  description:
    "Accounts and addresses locked after too many wrong passwords. A lock ends by itself after its window.",
  tags: ["Users"],
  scope: "users:read",
  response: z.object({ locks: z.array(SignInLock) }),
});

export const unlockSignIn = defineContract({
  method: "delete",
  path: "/api/v1/sign-in-locks/{id}",
  operationId: "unlockSignIn",
  summary: "Lift a sign-in lock",
  description: "Lifts the lock and forgets its failed attempts. Audited as `sign_in.unlock`.",
  tags: ["Users"],
  scope: "users:write",
  extraErrors: { 404: "No such lock in force." },
  params: z.object({ id: Uuid }),
  response: z.object({ lock: SignInLock }),
});

export const listTokens = defineContract({
  method: "get",
  path: "/api/v1/tokens",
  operationId: "listTokens",
  summary: "List API tokens",
  tags: ["API tokens"],
  scope: "tokens:read",
  response: z.object({ tokens: z.array(ApiToken) }),
});

export const createToken = defineContract({
  method: "post",
  path: "/api/v1/tokens",
  operationId: "createToken",
  summary: "Create an API token",
  description:
    "Returns the secret once, in `secret`; only its SHA-256 is stored. A token's role cannot exceed its creator's.",
  tags: ["API tokens"],
  scope: "tokens:write",
  successStatus: 201,
  body: z
    .object({
      name: z.string().trim().min(1).max(100),
      role: Role,
      expiresAt: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: "ISO 8601 time; omit for a token that does not expire." }),
    })
    .strict(),
  response: z.object({ token: ApiToken, secret: z.string() }),
});

export const revokeToken = defineContract({
  method: "delete",
  path: "/api/v1/tokens/{id}",
  operationId: "revokeToken",
  summary: "Revoke an API token",
  description:
    "Takes effect at once on this API and within about a second on every serving instance (pushed through a Postgres notification). The row is kept (revoked) for the audit trail.",
  tags: ["API tokens"],
  scope: "tokens:write",
  extraErrors: { 404: "No such token.", 409: "Already revoked." },
  params: z.object({ id: Uuid }),
  response: z.object({ token: ApiToken }),
});

const isoTime = z.iso.datetime({ offset: true });

export const listAudit = defineContract({
  method: "get",
  path: "/api/v1/audit",
  operationId: "listAuditEntries",
  summary: "Search the audit log",
  description: "Newest first. `action` ending in `.` matches a prefix (`user.`).",
  tags: ["Audit"],
  scope: "audit:read",
  query: z
    .object({
      actor: z.string().max(200).optional(),
      action: z.string().max(100).optional(),
      resourceType: z.string().max(100).optional(),
      resourceId: z.string().max(200).optional(),
      from: isoTime.optional(),
      to: isoTime.optional(),
      page: z.coerce.number().int().min(1).max(100000).default(1),
      pageSize: z.coerce.number().int().min(1).max(200).default(50),
    })
    .strict(),
  response: z.object({
    entries: z.array(AuditEntry),
    total: z.number().int(),
    page: z.number().int(),
    pageSize: z.number().int(),
  }),
});
