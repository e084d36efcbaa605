import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/jobs";
import { actorOf } from "@/lib/auth/principal";
import { deleteJob, getJob, setJobEnabled, updateJob } from "@/lib/jobs";

export const GET = apiRoute(contracts.getJob, async ({ db, params }) => ({
  job: await getJob(db, params.id),
}));

export const PATCH = apiRoute(
  contracts.updateJob,
  async ({ db, principal, params, body, ipAddress }) => {
    const actor = actorOf(principal);
    const { enabled, ...fields } = body;
    let job =
      Object.keys(fields).length > 0
        ? await updateJob(db, actor, params.id, fields, ipAddress)
        : await getJob(db, params.id);
    if (enabled !== undefined) job = await setJobEnabled(db, actor, job.id, enabled, ipAddress);
    return { job };
  },
);

export const DELETE = apiRoute(
  contracts.deleteJob,
  async ({ db, principal, params, ipAddress }) => ({
    deleted: await deleteJob(db, actorOf(principal), params.id, ipAddress),
  }),
);
