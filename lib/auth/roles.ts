/**
 * Roles as a table of scopes, checked in one place (`roleHasScope`). Routes ask for a scope,
 * never for a role, so widening a role is a one-line change here.
 */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = [
  "models:read",
  "models:write",
  "models:promote",
  "models:delete",
  "jobs:read",
  "jobs:run",
  "monitoring:read",
  "alerts:read",
  "alerts:write",
  "predict",
  "users:read",
  "users:write",
  "tokens:read",
  "tokens:write",
  "audit:read",
  "settings:write",
  /** webhooks: their URLs and signing secrets are sensitive, so reading them is admin-only too */
  "webhooks:manage",
] as const;
export type Scope = (typeof SCOPES)[number];

const viewerScopes: Scope[] = [
  "models:read",
  "jobs:read",
  "monitoring:read",
  "alerts:read",
  "predict",
];
const operatorScopes: Scope[] = [
  ...viewerScopes,
  "models:write",
  "models:promote",
  "jobs:run",
  "alerts:write",
];

export const ROLE_SCOPES: Record<Role, ReadonlySet<Scope>> = {
  viewer: new Set(viewerScopes),
  operator: new Set(operatorScopes),
  admin: new Set(SCOPES),
};

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  viewer: "Reads models, jobs, monitoring and alerts.",
  operator: "Viewer, plus uploads, promotes, runs jobs and manages alert rules.",
  admin: "Operator, plus users, API tokens, audit log and settings.",
};

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

export function roleHasScope(role: string, scope: Scope): boolean {
  return isRole(role) && ROLE_SCOPES[role].has(scope);
}

/** A role may only hand out roles at or below its own (no privilege escalation by token). */
export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}
