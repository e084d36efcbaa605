/**
 * Refresh-job test harness: a model with a production version in a real registry, an imports
 * directory, and real scheduler processes (`workers/scheduler/main.ts`) against the test
 * database, with a short lease and fast polling so that failures show within seconds.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { registerDatasetBytes } from "../../../lib/datasets";
import type { PrismaClient } from "../../../lib/db/generated/client";
import { loadJobSettings, type JobSettings } from "../../../lib/jobs/settings";
import { createModel, setAlias } from "../../../lib/registry";
import { registerVersionBytes } from "../../../lib/registry/upload";
import { LocalArtifactStore, type ArtifactStore } from "../../../lib/storage";
import { spawnWorker, type WorkerProcess } from "../helpers/worker";
import { classifierBytes } from "../serving/harness";

export const ADMIN = { ...SYSTEM_ACTOR, role: "admin" as const };
export const OPERATOR = { type: "user" as const, id: "op-1", label: "op@example.com" };

export { classifierBytes };

export async function tempDataDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-jobs-"));
  await fs.mkdir(path.join(dir, "imports"), { recursive: true });
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

export const storeFor = (dataDir: string): ArtifactStore =>
  new LocalArtifactStore({ root: path.join(dataDir, "artifacts"), durable: false });

/** Job settings for in-process use, as a scheduler with `env` would read them. */
export function settingsFor(dataDir: string, env: Record<string, string> = {}): JobSettings {
  return loadJobSettings({
    MODELDECK_DATA_DIR: dataDir,
    MODELDECK_JOB_LEASE_SECONDS: "3",
    MODELDECK_JOB_RETRY_BASE_SECONDS: "0.2",
    ...env,
  });
}

/** A classifier with versions 1 and 2, production → 2. */
export async function seedModel(
  db: PrismaClient,
  store: ArtifactStore,
  name = "churn",
): Promise<void> {
  await createModel(db, SYSTEM_ACTOR, { name, task: "classification" });
  for (const bytes of [classifierBytes(0), classifierBytes(1)]) {
    await registerVersionBytes(db, store, SYSTEM_ACTOR, bytes, {
      modelName: name,
      lineage: { kind: "upload" },
    });
  }
  await setAlias(db, ADMIN, { modelName: name, alias: "production", version: 2, reason: "test" });
}

/** A small labelled CSV dataset (through lib/datasets, as an upload would register it). */
export async function seedDataset(
  db: PrismaClient,
  store: ArtifactStore,
  name = "holdout",
  csv = "a,b,c,d,label\n1,2,3,4,x\n5,6,7,8,y\n",
): Promise<void> {
  await registerDatasetBytes(db, store, SYSTEM_ACTOR, csv, {
    name,
    labelColumn: "label",
    mapping: { kind: "tensor", input: "features", columns: ["a", "b", "c", "d"] },
  });
}

export type SchedulerProcess = WorkerProcess & { instanceId: () => string | undefined };

/** A real scheduler process, started the way the supervisor starts it. */
export async function startScheduler(opts: {
  databaseUrl: string;
  dataDir: string;
  env?: Record<string, string>;
}): Promise<SchedulerProcess> {
  const worker = await spawnWorker({
    entry: "workers/scheduler/main.ts",
    name: "scheduler",
    env: {
      DATABASE_URL: opts.databaseUrl,
      MODELDECK_DATA_DIR: opts.dataDir,
      MODELDECK_LOG_LEVEL: "info",
      MODELDECK_JOB_LEASE_SECONDS: "3",
      MODELDECK_JOB_POLL_SECONDS: "0.5",
      MODELDECK_SCHEDULER_RESYNC_SECONDS: "5",
      MODELDECK_JOB_RETRY_BASE_SECONDS: "0.5",
      ...opts.env,
    },
    ready: (out) => out.includes('"msg":"scheduler started"'),
  });
  return {
    ...worker,
    instanceId: () => /"instanceId":"([^"]+)"/.exec(worker.output())?.[1],
  };
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function until<T>(
  check: () => Promise<T>,
  timeoutMs: number,
  what = "condition",
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
  );
}

/** The bytes of a small, valid ONNX classifier (distinct per `seed`). */
export const onnxBytes = (seed: number) => classifierBytes(seed % 3, seed);
