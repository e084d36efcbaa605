import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/identity";
import { actorOf } from "@/lib/auth/principal";
import { revokeApiToken } from "@/lib/auth/tokens";

export const DELETE = apiRoute(
  contracts.revokeToken,
  async ({ db, principal, params, ipAddress }) => ({
    token: await revokeApiToken(db, actorOf(principal), params.id, ipAddress),
  }),
);
