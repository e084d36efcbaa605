import { z } from "zod";
import type { Prisma } from "../db/generated/client";

/**
 * Job changes and new queued runs are announced on one Postgres NOTIFY channel, issued inside
 * the change's transaction (delivered on commit, dropped on rollback). Schedulers re-sync
 * their cron tasks on job events and poll the queue at once on `run.queued`; both also
 * happen periodically, because notifications are lost while a listener is disconnected.
 */
export const JOB_EVENTS_CHANNEL = "modeldeck_job_events";

export const JOB_EVENT_TYPES = [
  "job.created",
  "job.updated",
  "job.deleted",
  "run.queued",
  "run.finished",
] as const;

export const jobEventSchema = z.object({
  type: z.enum(JOB_EVENT_TYPES),
  jobId: z.string(),
  runId: z.string().optional(),
});
export type JobEvent = z.infer<typeof jobEventSchema>;

export function parseJobEvent(payload: string | undefined): JobEvent | null {
  if (!payload) return null;
  try {
    const parsed = jobEventSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

type Tx = Pick<Prisma.TransactionClient, "$executeRaw">;

export async function notifyJobEvent(tx: Tx, event: JobEvent): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${JOB_EVENTS_CHANNEL}, ${JSON.stringify(event)})`;
}
