import { getPrisma } from "../../lib/db/client";
import { JobScheduler } from "../../lib/jobs/scheduler";
import { loadJobSettings } from "../../lib/jobs/settings";
import { createLogger } from "../../lib/log";
import { getArtifactStore } from "../../lib/storage";
import { newInstanceId, startHeartbeat } from "../../lib/system/heartbeat";
import { announceReady, onShutdown } from "../shared/lifecycle";

/**
 * The scheduler process: fires the refresh jobs stored in Postgres (lib/jobs/scheduler.ts)
 * and runs queued runs. Any number of replicas may run against one database: each fire and
 * each queued run is taken by exactly one of them.
 */
const log = createLogger("scheduler");
const db = getPrisma();
const settings = loadJobSettings();
const startedAt = Date.now();
const instanceId = newInstanceId("scheduler");

const scheduler = new JobScheduler({
  db,
  store: getArtifactStore(),
  settings,
  instanceId,
  log,
  connectionString: process.env.DATABASE_URL!,
});

const heartbeat = startHeartbeat(
  db,
  "scheduler",
  () => ({
    ...scheduler.status(),
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
  }),
  (error) => log.warn({ err: error }, "heartbeat failed"),
  instanceId,
);

await scheduler.start();
log.info({ instanceId, ...scheduler.status() }, "scheduler started");
announceReady({ instanceId });

onShutdown(log, async (reason) => {
  await scheduler.stop(reason);
  await heartbeat.stop();
  await db.$disconnect();
});
