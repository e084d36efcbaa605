import path from "node:path";
import { z } from "zod";

/**
 * Settings of the refresh-job machinery, from the environment (every scheduler replica reads
 * the same variables). Defaults suit production; tests shorten the lease and the backoff.
 */
const seconds = (def: number, min: number, max: number) =>
  z.coerce.number().min(min).max(max).default(def);

const envSchema = z.object({
  MODELDECK_DATA_DIR: z.string().min(1).default("./data"),
  /** A running run's lease; the scheduler renews it every third of this. */
  MODELDECK_JOB_LEASE_SECONDS: seconds(30, 1, 3600),
  /** How often a scheduler looks for queued runs (besides being told of new ones). */
  MODELDECK_JOB_POLL_SECONDS: seconds(2, 0.1, 60),
  /** How often a scheduler re-reads the jobs (besides being told of changes). */
  MODELDECK_SCHEDULER_RESYNC_SECONDS: seconds(30, 1, 3600),
  /** Runs one scheduler executes at once. */
  MODELDECK_SCHEDULER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** On shutdown, how long running runs may take to finish before they are failed. */
  MODELDECK_SCHEDULER_SHUTDOWN_GRACE_SECONDS: seconds(8, 0, 600),
  /** Fires missed because the process was busy are still run if at most this late. */
  MODELDECK_SCHEDULER_CATCHUP_SECONDS: seconds(60, 0, 3600),
  /** First retry delay; doubled per further attempt. */
  MODELDECK_JOB_RETRY_BASE_SECONDS: seconds(5, 0, 3600),
  /**
   * The external trainer an admin allows: a JSON array (argv, run without a shell) or a
   * command line run with /bin/sh -c. Jobs never carry commands of their own.
   */
  MODELDECK_TRAINER_COMMAND: z.string().optional(),
  /** Largest ONNX file an import or a trainer may produce (as for uploads). */
  MODELDECK_MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
});

/** Every variable this schema reads (the deployment manifests are checked against it). */
export const JOB_SETTINGS_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export type JobSettings = {
  dataDir: string;
  importsDir: string;
  leaseMs: number;
  pollMs: number;
  resyncMs: number;
  concurrency: number;
  shutdownGraceMs: number;
  catchUpMs: number;
  retryBaseMs: number;
  /** argv of the configured trainer, or null when none is configured */
  trainerCommand: string[] | null;
  maxArtifactBytes: number;
};

export function parseTrainerCommand(text: string | undefined): string[] | null {
  const value = text?.trim();
  if (!value) return null;
  if (value.startsWith("[")) {
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch (error) {
      throw new Error(
        `MODELDECK_TRAINER_COMMAND starts with "[" but is not valid JSON: ${(error as Error).message}`,
      );
    }
    const parsed = z.array(z.string().min(1)).min(1).safeParse(json);
    if (!parsed.success) {
      throw new Error("MODELDECK_TRAINER_COMMAND: a JSON array of non-empty strings is expected.");
    }
    return parsed.data;
  }
  return ["/bin/sh", "-c", value];
}

export function loadJobSettings(
  env: Record<string, string | undefined> = process.env,
): JobSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid job configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.MODELDECK_DATA_DIR);
  return {
    dataDir,
    importsDir: path.join(dataDir, "imports"),
    leaseMs: e.MODELDECK_JOB_LEASE_SECONDS * 1000,
    pollMs: e.MODELDECK_JOB_POLL_SECONDS * 1000,
    resyncMs: e.MODELDECK_SCHEDULER_RESYNC_SECONDS * 1000,
    concurrency: e.MODELDECK_SCHEDULER_CONCURRENCY,
    shutdownGraceMs: e.MODELDECK_SCHEDULER_SHUTDOWN_GRACE_SECONDS * 1000,
    catchUpMs: e.MODELDECK_SCHEDULER_CATCHUP_SECONDS * 1000,
    retryBaseMs: e.MODELDECK_JOB_RETRY_BASE_SECONDS * 1000,
    trainerCommand: parseTrainerCommand(e.MODELDECK_TRAINER_COMMAND),
    maxArtifactBytes: e.MODELDECK_MAX_UPLOAD_BYTES,
  };
}
