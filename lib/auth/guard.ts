import { roleHasScope, type Scope } from "./roles";
import type { SignedInUser } from "./session";

/** Page-level permission check: the same scope table the API uses. */
export function userCan(user: SignedInUser, scope: Scope): boolean {
  return roleHasScope(user.role, scope);
}
