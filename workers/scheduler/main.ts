import { getPrisma } from "../../lib/db/client";
import { createLogger } from "../../lib/log";
import { startHeartbeat } from "../../lib/system/heartbeat";
import { announceReady, onShutdown } from "../shared/lifecycle";

/**
 * The scheduler process. For now it only reports itself alive; node-cron schedules with the
 * Postgres run coordinator arrive with the refresh-jobs issue.
 */
const log = createLogger("scheduler");
const db = getPrisma();
const startedAt = Date.now();

const heartbeat = startHeartbeat(
  db,
  "scheduler",
  () => ({ schedules: 0, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }),
  (error) => log.warn({ err: error }, "heartbeat failed"),
);
log.info("scheduler started");
announceReady({});

onShutdown(log, async () => {
  await heartbeat.stop();
  await db.$disconnect();
});
