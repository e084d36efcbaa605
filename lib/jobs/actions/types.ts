import type { Actor } from "../../audit";
import type { PrismaClient } from "../../db/generated/client";
import type { ArtifactStore } from "../../storage";
import type { JobAction } from "../action-schema";
import type { JobSettings } from "../settings";

/** What an action handler gets for one attempt of one run. */
export type ActionContext<A extends JobAction = JobAction> = {
  db: PrismaClient;
  store: ArtifactStore;
  settings: JobSettings;
  job: { id: string; name: string; model: string };
  run: {
    id: string;
    attempt: number;
    maxAttempts: number;
    trigger: "schedule" | "manual";
    scheduledFor: Date | null;
  };
  action: A;
  /** The system actor the run's changes are recorded under: "job:<name>". */
  actor: Actor;
  /** Appends a line to the run's log (streamed to the UI while the run is live). */
  log: (line: string, stream?: "info" | "warn" | "error" | "stdout" | "stderr") => void;
  /** Aborted when the run must stop: shutdown past its grace period, or the lease was lost. */
  signal: AbortSignal;
};

/** Returns the run's result JSON; throws to fail the attempt. */
export type ActionHandler<A extends JobAction = JobAction> = (
  ctx: ActionContext<A>,
) => Promise<unknown>;

/**
 * A failure an action reports on purpose, with a message meant for people. `retryable`
 * false means another attempt would fail the same way (bad input, missing configuration).
 */
export class RunFailure extends Error {
  constructor(
    message: string,
    readonly options: { retryable?: boolean; result?: unknown } = {},
  ) {
    super(message);
    this.name = "RunFailure";
  }
  get retryable(): boolean {
    return this.options.retryable ?? false;
  }
  get result(): unknown {
    return this.options.result;
  }
}

export function jobActor(jobName: string): Actor {
  return { type: "system", label: `job:${jobName}` };
}
