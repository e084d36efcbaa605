import { alertEvaluationTask } from "../../lib/alerts/task";
import { BatchPoller } from "../../lib/batch/poller";
import { getConfig } from "../../lib/config";
import { getPrisma } from "../../lib/db/client";
import { prestartEvaluationChild, stopEvaluationChildren } from "../../lib/evaluation/runner";
import { JobScheduler } from "../../lib/jobs/scheduler";
import { loadJobSettings } from "../../lib/jobs/settings";
import { SystemTasks } from "../../lib/jobs/system-tasks";
import { createLogger } from "../../lib/log";
import { WebhookDispatcher } from "../../lib/notifications/dispatcher";
import { webhookRetentionTask } from "../../lib/notifications/retention";
import { loadWebhookSettings } from "../../lib/notifications/settings";
import { driftSnapshotTask } from "../../lib/monitoring/drift";
import { rollupCompactionTask } from "../../lib/monitoring/blocks";
import { partitionTask } from "../../lib/monitoring/partitions";
import { pendingFeedbackTask } from "../../lib/monitoring/pending-feedback";
import { retentionTask } from "../../lib/monitoring/retention";
import { getArtifactStore } from "../../lib/storage";
import { newInstanceId, startHeartbeat } from "../../lib/system/heartbeat";
import { checkDatabaseReadiness, startProbeServer } from "../../lib/system/probes";
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

// Batch predictions (lib/batch/poller.ts): their own Postgres queue table, worked by every
// scheduler with the same lease and poll settings as runs.
const batches = new BatchPoller({
  db,
  store: getArtifactStore(),
  instanceId,
  log,
  leaseMs: settings.leaseMs,
  pollMs: settings.pollMs,
});

// Webhook deliveries (lib/notifications): a Postgres queue shared by every scheduler, woken
// by NOTIFY when events are published.
const webhookSettings = loadWebhookSettings();
const webhooks = new WebhookDispatcher({
  db,
  instanceId,
  log,
  settings: webhookSettings,
  connectionString: process.env.DATABASE_URL!,
});

// ModelDeck's own periodic work (alert evaluation, retention, drift, webhook deliveries):
// each fire claimed through Postgres, so it runs on exactly one replica. Add tasks here.
const systemTasks = new SystemTasks({ db, instanceId, log });
systemTasks.add(driftSnapshotTask({ db, store: getArtifactStore(), log }));
systemTasks.add(
  alertEvaluationTask({ db, log, intervalSeconds: getConfig().alertEvaluationSeconds }),
);
const retention = getConfig().retention;
systemTasks.add(partitionTask({ db, log, retentionDays: retention.predictionLogDays }));
systemTasks.add(
  retentionTask({
    db,
    log,
    policy: retention,
    exportTo: retention.exportLog
      ? { store: getArtifactStore(), connectionString: process.env.DATABASE_URL! }
      : undefined,
  }),
);
systemTasks.add(rollupCompactionTask({ db, log }));
systemTasks.add(pendingFeedbackTask({ db, log, windowMs: getConfig().feedbackPendingMs }));
systemTasks.add(webhookRetentionTask({ db, log, days: webhookSettings.retentionDays }));

const heartbeat = startHeartbeat(
  db,
  "scheduler",
  () => ({
    ...scheduler.status(),
    ...batches.status(),
    ...webhooks.status(),
    systemTasks: systemTasks.status(),
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
  }),
  (error) => log.warn({ err: error }, "heartbeat failed"),
  instanceId,
);

await scheduler.start();
batches.start();
webhooks.start();
systemTasks.start();
log.info({ instanceId, ...scheduler.status() }, "scheduler started");

// /livez and /readyz for an orchestrator (MODELDECK_SCHEDULER_HEALTH_PORT). Ready while the
// database answers: fires are claimed through it, so without it this replica does nothing.
const { host, schedulerHealthPort } = getConfig();
const probes =
  schedulerHealthPort === undefined
    ? null
    : await startProbeServer({
        role: "scheduler",
        host,
        port: schedulerHealthPort,
        readiness: async () => {
          const check = await checkDatabaseReadiness(db, { migrations: false });
          return { ...check, scheduler: { started: true, ...scheduler.status() } };
        },
      });
if (probes) log.info({ port: probes.port }, "scheduler probes listening");
announceReady({ instanceId });
// Evaluations here take a child started ahead of need (lib/evaluation/runner.ts).
void prestartEvaluationChild();

onShutdown(log, async (reason) => {
  await probes?.close();
  stopEvaluationChildren();
  await scheduler.stop(reason);
  await batches.stop();
  await webhooks.stop();
  await systemTasks.stop();
  await heartbeat.stop();
  await db.$disconnect();
});
