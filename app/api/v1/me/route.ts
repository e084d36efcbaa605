import { apiRoute } from "@/lib/api/route";
import { getMe } from "@/lib/api/contracts/identity";
import { ROLE_SCOPES } from "@/lib/auth/roles";

export const GET = apiRoute(getMe, async ({ principal }) => ({
  kind: principal.kind,
  id: principal.id,
  name: principal.name,
  ...(principal.kind === "user" ? { email: principal.email } : {}),
  role: principal.role,
  scopes: [...ROLE_SCOPES[principal.role]],
}));
