import * as contracts from "@/lib/api/contracts/alerts";
import { apiRoute } from "@/lib/api/route";
import { deleteAlertRule, getAlertRule, updateAlertRule } from "@/lib/alerts";
import { actorOf } from "@/lib/auth/principal";

export const GET = apiRoute(contracts.getAlertRule, async ({ db, params }) => ({
  rule: await getAlertRule(db, params.id),
}));

export const PATCH = apiRoute(
  contracts.updateAlertRule,
  async ({ db, principal, params, body, ipAddress }) => ({
    rule: await updateAlertRule(db, actorOf(principal), params.id, body, ipAddress),
  }),
);

export const DELETE = apiRoute(
  contracts.deleteAlertRule,
  async ({ db, principal, params, ipAddress }) =>
    deleteAlertRule(db, actorOf(principal), params.id, ipAddress),
);
