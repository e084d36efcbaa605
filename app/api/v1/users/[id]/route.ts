import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/identity";
import { actorOf } from "@/lib/auth/principal";
import { updateUser } from "@/lib/auth/users";

export const PATCH = apiRoute(
  contracts.updateUser,
  async ({ db, principal, params, body, ipAddress }) => ({
    user: await updateUser(db, actorOf(principal), params.id, body, ipAddress),
  }),
);
