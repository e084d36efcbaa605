import { getAuth } from "./auth";
import { isRole, type Role } from "./roles";

export type SignedInUser = { id: string; name: string; email: string; role: Role };

/** The signed-in person for a page request, or null (no session, disabled, or unknown role). */
export async function getSignedInUser(headers: Headers): Promise<SignedInUser | null> {
  const session = await getAuth().api.getSession({ headers });
  if (!session) return null;
  const user = session.user as typeof session.user & { role?: string; banned?: boolean };
  if (user.banned || !isRole(user.role)) return null;
  return { id: user.id, name: user.name, email: user.email, role: user.role };
}
