import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { PrismaClient } from "../db/generated/client";

export type ProcessKind = "serving" | "scheduler";

export const HEARTBEAT_INTERVAL_MS = 10_000;
/** A process that has not beaten for this long is reported as down. */
export const HEARTBEAT_STALE_MS = 3 * HEARTBEAT_INTERVAL_MS;

/**
 * Background processes announce themselves in Postgres so that any web replica can report
 * their state without knowing where they run.
 */
export function newInstanceId(kind: ProcessKind): string {
  return `${kind}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

export function startHeartbeat(
  db: PrismaClient,
  kind: ProcessKind,
  info: () => Record<string, unknown>,
  onError: (error: unknown) => void,
  instanceId = newInstanceId(kind),
) {
  const startedAt = new Date();
  const beat = async () => {
    const now = new Date();
    const data = {
      kind,
      hostname: hostname(),
      pid: process.pid,
      lastSeenAt: now,
      info: info() as object,
    };
    await db.processHeartbeat.upsert({
      where: { instanceId },
      create: { instanceId, startedAt, ...data },
      update: data,
    });
  };
  // One beat at a time, none after stop(): a beat still in flight when stop() deletes the row
  // would write it back, and the process would look alive for HEARTBEAT_STALE_MS after exit.
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  const safeBeat = () => {
    if (stopped || inFlight) return;
    inFlight = beat()
      .catch(onError)
      .finally(() => (inFlight = undefined));
  };
  // Forget processes that died a day ago without saying goodbye, so the table stays small.
  // Done once per process start, not on every health check (which must stay a read).
  void db.processHeartbeat
    .deleteMany({ where: { lastSeenAt: { lt: new Date(startedAt.getTime() - 24 * 3600_000) } } })
    .catch(onError);
  safeBeat();
  const timer = setInterval(safeBeat, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return {
    instanceId,
    /** Beat now (e.g. what the process serves just changed), not at the next interval. */
    beatNow: safeBeat,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
      await db.processHeartbeat.deleteMany({ where: { instanceId } }).catch(onError);
    },
  };
}

export async function liveInstances(db: PrismaClient, kind: ProcessKind, now = new Date()) {
  return db.processHeartbeat.findMany({
    where: { kind, lastSeenAt: { gte: new Date(now.getTime() - HEARTBEAT_STALE_MS) } },
    orderBy: { lastSeenAt: "desc" },
  });
}
