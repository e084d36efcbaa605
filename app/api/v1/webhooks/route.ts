import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/notifications";
import { actorOf } from "@/lib/auth/principal";
import { createWebhook, listWebhooks } from "@/lib/notifications";

export const GET = apiRoute(contracts.listWebhooks, async ({ db }) => ({
  webhooks: await listWebhooks(db),
}));

export const POST = apiRoute(contracts.createWebhook, async ({ db, principal, body, ipAddress }) =>
  createWebhook(db, actorOf(principal), body, ipAddress),
);
