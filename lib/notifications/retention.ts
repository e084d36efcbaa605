import type { PrismaClient } from "../db/generated/client";
import type { SystemTask } from "../jobs/system-tasks";
import type { Logger } from "../log";

/**
 * Finished deliveries (succeeded or failed) older than the retention are deleted with their
 * attempt log; pending ones are never touched. Deleted in small batches so no statement holds
 * locks for long on a large log.
 */
const BATCH = 1000;

export async function deleteOldDeliveries(
  db: PrismaClient,
  olderThan: Date,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  for (;;) {
    if (signal?.aborted) break;
    const deleted = await db.$executeRaw`
      DELETE FROM webhook_delivery WHERE id IN (
        SELECT id FROM webhook_delivery
         WHERE status IN ('succeeded', 'failed') AND "finishedAt" < ${olderThan}
         LIMIT ${BATCH})`;
    total += deleted;
    if (deleted < BATCH) break;
  }
  return total;
}

export function webhookRetentionTask(deps: {
  db: PrismaClient;
  log: Logger;
  /** Days finished deliveries stay in the log (WebhookSettings.retentionDays). */
  days: number;
}): SystemTask {
  const { days } = deps;
  return {
    name: "webhook-delivery-retention",
    schedule: "17 * * * *",
    run: async ({ signal }) => {
      const deleted = await deleteOldDeliveries(
        deps.db,
        new Date(Date.now() - days * 86_400_000),
        signal,
      );
      if (deleted > 0) deps.log.info({ deleted, days }, "old webhook deliveries deleted");
    },
  };
}
