import * as contracts from "@/lib/api/contracts/alerts";
import { apiRoute } from "@/lib/api/route";
import { expireSilence } from "@/lib/alerts";
import { actorOf } from "@/lib/auth/principal";

export const POST = apiRoute(
  contracts.expireSilence,
  async ({ db, principal, params, ipAddress }) => ({
    silence: await expireSilence(db, actorOf(principal), params.id, ipAddress),
  }),
);
