import { apiRoute } from "@/lib/api/route";
import { changeMyPassword } from "@/lib/api/contracts/identity";
import { ApiError } from "@/lib/api/errors";
import { changeOwnPassword } from "@/lib/auth/users";

export const POST = apiRoute(changeMyPassword, async ({ db, principal, body, ipAddress }) => {
  if (principal.kind !== "user") {
    throw new ApiError("forbidden", "API tokens have no password; sign in to change yours.");
  }
  await changeOwnPassword(
    db,
    { type: "user", id: principal.id, label: principal.email },
    { ...body, keepSessionToken: principal.sessionToken },
    ipAddress,
  );
  return { changed: true as const };
});
