import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/monitoring";
import { feedbackStats } from "@/lib/monitoring/pending-feedback";

export const GET = apiRoute(contracts.getFeedbackStats, async ({ db, params, query }) =>
  feedbackStats(db, params.name, query),
);
