import type { PrismaClient } from "../db/generated/client";
import type { SystemTask } from "../jobs/system-tasks";
import type { Logger } from "../log";
import { evaluateAlertRules } from "./evaluator";

/** node-cron expression firing every `seconds` (1-59 s, or whole minutes). */
export function evaluationSchedule(seconds: number): string {
  if (seconds < 60) return `*/${seconds} * * * * *`;
  return `0 */${Math.round(seconds / 60)} * * * *`;
}

/** The scheduler's alert evaluation: every fire runs on exactly one replica (SystemTasks). */
export function alertEvaluationTask(deps: {
  db: PrismaClient;
  log: Logger;
  intervalSeconds: number;
}): SystemTask {
  return {
    name: "alert-evaluation",
    schedule: evaluationSchedule(deps.intervalSeconds),
    // A fire's claim outlives its run; evaluating every rule takes well under a minute.
    leaseMs: Math.max(60_000, deps.intervalSeconds * 2000),
    run: async ({ at, signal }) => {
      const summary = await evaluateAlertRules(deps.db, { now: at, log: deps.log, signal });
      for (const t of summary.transitions) {
        deps.log.info({ ...t }, `alert ${t.from} → ${t.to}`);
      }
    },
  };
}
