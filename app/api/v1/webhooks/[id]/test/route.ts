import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/notifications";
import { actorOf } from "@/lib/auth/principal";
import { sendTestEvent } from "@/lib/notifications";

export const POST = apiRoute(
  contracts.testWebhook,
  async ({ db, principal, params, ipAddress }) => ({
    delivery: await sendTestEvent(db, actorOf(principal), params.id, ipAddress),
  }),
);
