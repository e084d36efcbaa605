import { headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { userCan } from "@/lib/auth/guard";
import type { Scope } from "@/lib/auth/roles";
import { getSignedInUser, type SignedInUser } from "@/lib/auth/session";

/** The signed-in user for a page; sends anonymous visitors to the sign-in page. */
export async function requireUser(path = "/"): Promise<SignedInUser> {
  const user = await getSignedInUser(await headers());
  if (!user) redirect(`/sign-in?next=${encodeURIComponent(path)}`);
  return user;
}

/** Like requireUser, and answers 403 (Next's forbidden page) without the scope. */
export async function requireScope(scope: Scope, path: string): Promise<SignedInUser> {
  const user = await requireUser(path);
  if (!userCan(user, scope)) forbidden();
  return user;
}
