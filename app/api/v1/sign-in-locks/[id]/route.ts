import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/identity";
import { actorOf } from "@/lib/auth/principal";
import { unlockSignIn } from "@/lib/auth/sign-in-limits";

export const DELETE = apiRoute(
  contracts.unlockSignIn,
  async ({ db, principal, params, ipAddress }) => ({
    lock: await unlockSignIn(db, actorOf(principal), params.id, ipAddress),
  }),
);
