import { apiRoute } from "@/lib/api/route";
import { changeMyPassword } from "@/lib/api/contracts/identity";
import { ApiError } from "@/lib/api/errors";
import { getAuth } from "@/lib/auth/auth";
import { changeOwnPassword } from "@/lib/auth/users";

export const POST = apiRoute(
  changeMyPassword,
  async ({ db, principal, body, ipAddress, request }) => {
    if (principal.kind !== "user") {
      throw new ApiError("forbidden", "API tokens have no password; sign in to change yours.");
    }
    const session = await getAuth().api.getSession({ headers: request.headers });
    await changeOwnPassword(
      db,
      { type: "user", id: principal.id, label: principal.email },
      { ...body, keepSessionToken: session?.session.token },
      ipAddress,
    );
    return { changed: true as const };
  },
);
