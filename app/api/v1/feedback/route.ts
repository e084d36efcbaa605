import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/monitoring";
import { actorOf } from "@/lib/auth/principal";
import { submitFeedback } from "@/lib/monitoring/feedback";

export const POST = apiRoute(contracts.submitFeedback, async ({ db, principal, body }) =>
  submitFeedback(db, actorOf(principal), body.items),
);
