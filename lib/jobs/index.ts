/**
 * Refresh jobs: cron schedules with an action on a model (lib/jobs/jobs.ts), their runs in a
 * Postgres queue (runs.ts), the node-cron scheduler with a Postgres run coordinator
 * (scheduler.ts, coordinator.ts) and the actions (actions/). No HTTP here.
 */
export * from "./action-schema";
export * from "./cron";
export * from "./events";
export * from "./jobs";
export type * from "./views";
