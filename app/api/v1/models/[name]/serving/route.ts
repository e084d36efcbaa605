import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/serving";
import { actorOf } from "@/lib/auth/principal";
import { getServingStatus } from "@/lib/serving/status";
import { updateServingSettings } from "@/lib/serving/settings";

export const GET = apiRoute(contracts.getServing, async ({ db, params }) =>
  getServingStatus(db, params.name),
);

export const PUT = apiRoute(
  contracts.updateServing,
  async ({ db, principal, params, body, ipAddress }) =>
    updateServingSettings(db, actorOf(principal), params.name, body, ipAddress),
);
