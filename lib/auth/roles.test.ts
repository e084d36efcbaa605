import { describe, expect, it } from "vitest";
import { ROLE_SCOPES, ROLES, roleHasScope, roleRank, SCOPES, type Role, type Scope } from "./roles";

describe("role scopes", () => {
  // The table a reviewer checks: who may do what.
  const expectations: [Scope, Record<Role, boolean>][] = [
    ["models:read", { viewer: true, operator: true, admin: true }],
    ["predict", { viewer: true, operator: true, admin: true }],
    ["models:write", { viewer: false, operator: true, admin: true }],
    ["models:promote", { viewer: false, operator: true, admin: true }],
    ["jobs:run", { viewer: false, operator: true, admin: true }],
    ["alerts:write", { viewer: false, operator: true, admin: true }],
    ["users:read", { viewer: false, operator: false, admin: true }],
    ["users:write", { viewer: false, operator: false, admin: true }],
    ["tokens:write", { viewer: false, operator: false, admin: true }],
    ["audit:read", { viewer: false, operator: false, admin: true }],
    ["settings:write", { viewer: false, operator: false, admin: true }],
  ];
  it.each(expectations)("%s", (scope, byRole) => {
    for (const role of ROLES)
      expect(roleHasScope(role, scope), `${role} ${scope}`).toBe(byRole[role]);
  });

  it("is monotonic: each role has every scope of the roles below it", () => {
    expect([...ROLE_SCOPES.viewer].every((s) => ROLE_SCOPES.operator.has(s))).toBe(true);
    expect([...ROLE_SCOPES.operator].every((s) => ROLE_SCOPES.admin.has(s))).toBe(true);
    expect(ROLE_SCOPES.admin.size).toBe(SCOPES.length);
  });

  it("refuses unknown roles", () => {
    expect(roleHasScope("root", "models:read")).toBe(false);
    expect(roleHasScope("", "predict")).toBe(false);
  });

  it("ranks roles", () => {
    expect(roleRank("viewer")).toBeLessThan(roleRank("operator"));
    expect(roleRank("operator")).toBeLessThan(roleRank("admin"));
  });
});
