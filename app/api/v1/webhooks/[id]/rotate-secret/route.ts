import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/notifications";
import { actorOf } from "@/lib/auth/principal";
import { rotateWebhookSecret } from "@/lib/notifications";

export const POST = apiRoute(
  contracts.rotateWebhookSecret,
  async ({ db, principal, params, ipAddress }) =>
    rotateWebhookSecret(db, actorOf(principal), params.id, ipAddress),
);
