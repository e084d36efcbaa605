import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/notifications";
import { actorOf } from "@/lib/auth/principal";
import { deleteWebhook, getWebhook, updateWebhook } from "@/lib/notifications";

export const GET = apiRoute(contracts.getWebhook, async ({ db, params }) => ({
  webhook: await getWebhook(db, params.id),
}));

export const PATCH = apiRoute(
  contracts.updateWebhook,
  async ({ db, principal, params, body, ipAddress }) => ({
    webhook: await updateWebhook(db, actorOf(principal), params.id, body, ipAddress),
  }),
);

export const DELETE = apiRoute(
  contracts.deleteWebhook,
  async ({ db, principal, params, ipAddress }) => {
    await deleteWebhook(db, actorOf(principal), params.id, ipAddress);
    return { deleted: true as const };
  },
);
