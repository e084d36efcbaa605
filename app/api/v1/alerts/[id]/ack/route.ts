import * as contracts from "@/lib/api/contracts/alerts";
import { apiRoute } from "@/lib/api/route";
import { acknowledgeAlert } from "@/lib/alerts";
import { actorOf } from "@/lib/auth/principal";

export const POST = apiRoute(
  contracts.acknowledgeAlert,
  async ({ db, principal, params, body, ipAddress }) => ({
    alert: await acknowledgeAlert(db, actorOf(principal), params.id, body, ipAddress),
  }),
);
