import * as contracts from "@/lib/api/contracts/alerts";
import { apiRoute } from "@/lib/api/route";
import { createAlertRule, listAlertRules } from "@/lib/alerts";
import { actorOf } from "@/lib/auth/principal";

export const GET = apiRoute(contracts.listAlertRules, async ({ db, query }) => ({
  rules: await listAlertRules(db, query),
}));

export const POST = apiRoute(
  contracts.createAlertRule,
  async ({ db, principal, body, ipAddress }) => ({
    rule: await createAlertRule(db, actorOf(principal), body, ipAddress),
  }),
);
