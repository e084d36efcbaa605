import type { AppConfig } from "../config";
import type { PrismaClient } from "../db/generated/client";
import { liveInstances } from "./heartbeat";

export type ComponentState = "up" | "down";

export type HealthReport = {
  status: "ok" | "degraded" | "down";
  checkedAt: string;
  components: {
    web: { status: ComponentState; uptimeSeconds: number; pid: number };
    database: { status: ComponentState; latencyMs?: number; error?: string };
    serving: { status: ComponentState; url: string; instances: number; error?: string };
    scheduler: { status: ComponentState; instances: number; lastSeenAt?: string };
  };
};

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, Math.round((performance.now() - start) * 10) / 10];
}

/**
 * One view of the whole deployment. The database is essential (down → 503); serving and the
 * scheduler are reported but only degrade the status, since the control plane still works.
 */
export async function checkHealth(db: PrismaClient, config: AppConfig): Promise<HealthReport> {
  const servingUrl = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.servingPort}`;
  const [database, serving, scheduler] = await Promise.all([
    timed(() => db.$queryRaw`SELECT 1`)
      .then(([, latencyMs]) => ({ status: "up" as const, latencyMs }))
      .catch((error: Error) => ({ status: "down" as const, error: error.message.split("\n")[0] })),
    fetch(`${servingUrl}/v2/health/live`, { signal: AbortSignal.timeout(1500) })
      .then(async (res) => {
        if (!res.ok) return { status: "down" as const, error: `HTTP ${res.status}` };
        const instances = await liveInstances(db, "serving")
          .then((r) => r.length)
          .catch(() => 0);
        return { status: "up" as const, instances };
      })
      .catch((error: Error) => ({ status: "down" as const, error: error.message })),
    liveInstances(db, "scheduler")
      .then((rows) => ({
        status: rows.length > 0 ? ("up" as const) : ("down" as const),
        instances: rows.length,
        ...(rows[0] ? { lastSeenAt: rows[0].lastSeenAt.toISOString() } : {}),
      }))
      .catch(() => ({ status: "down" as const, instances: 0 })),
  ]);
  const components: HealthReport["components"] = {
    web: { status: "up", uptimeSeconds: Math.round(process.uptime()), pid: process.pid },
    database,
    serving: { url: servingUrl, instances: 0, ...serving },
    scheduler,
  };
  const status =
    database.status === "down"
      ? "down"
      : serving.status === "up" && scheduler.status === "up"
        ? "ok"
        : "degraded";
  return { status, checkedAt: new Date().toISOString(), components };
}
