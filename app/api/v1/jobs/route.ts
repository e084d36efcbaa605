import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/jobs";
import { actorOf } from "@/lib/auth/principal";
import { createJob, listJobs } from "@/lib/jobs";

export const GET = apiRoute(contracts.listJobs, async ({ db, query }) => listJobs(db, query));

export const POST = apiRoute(contracts.createJob, async ({ db, principal, body, ipAddress }) => ({
  job: await createJob(db, actorOf(principal), body, ipAddress),
}));
