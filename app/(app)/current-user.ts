import { headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { userCan } from "@/lib/auth/guard";
import type { Scope } from "@/lib/auth/roles";
import { REQUEST_PATH_HEADER } from "@/lib/auth/auth";
import { getSignedInUser, type SignedInUser } from "@/lib/auth/session";

/** The page a request is for, as a same-site path (never an open redirect). */
function requestedPath(h: Headers): string {
  const raw = h.get(REQUEST_PATH_HEADER);
  if (!raw || !raw.startsWith("/") || raw.startsWith("//")) return "/";
  const url = new URL(raw, "http://local");
  url.searchParams.delete("_rsc");
  return url.pathname + url.search;
}

/** The signed-in user for a page; sends anonymous visitors to the sign-in page. */
export async function requireUser(path?: string): Promise<SignedInUser> {
  const h = await headers();
  const user = await getSignedInUser(h);
  if (!user) redirect(`/sign-in?next=${encodeURIComponent(path ?? requestedPath(h))}`);
  return user;
}

/** Like requireUser, and answers 403 (Next's forbidden page) without the scope. */
export async function requireScope(scope: Scope, path: string): Promise<SignedInUser> {
  const user = await requireUser(path);
  if (!userCan(user, scope)) forbidden();
  return user;
}
