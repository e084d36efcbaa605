import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/jobs";
import { actorOf } from "@/lib/auth/principal";
import { runJobNow } from "@/lib/jobs";

export const POST = apiRoute(contracts.runJob, async ({ db, principal, params, ipAddress }) => ({
  run: await runJobNow(db, actorOf(principal), params.id, ipAddress),
}));
