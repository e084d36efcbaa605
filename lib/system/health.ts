import type { AppConfig } from "../config";
import type { PrismaClient } from "../db/generated/client";
import { describeNotServed, getAliasServing, type AliasServing } from "../serving/alias-serving";
import { liveInstances } from "./heartbeat";

export type ComponentState = "up" | "down";

/** An alias whose target some serving instance does not serve, as health reports it. */
export type NotServedAlias = Pick<
  AliasServing,
  "model" | "alias" | "version" | "notServedOn" | "instances" | "servedInstead" | "error"
>;

/** Most not-served aliases listed in a health report (`notServedCount` counts them all). */
const MAX_NOT_SERVED = 20;

export type HealthReport = {
  status: "ok" | "degraded" | "down";
  checkedAt: string;
  components: {
    web: { status: ComponentState; uptimeSeconds: number; pid: number };
    database: { status: ComponentState; latencyMs?: number; error?: string };
    /**
     * degraded: serving answers, but some alias target is not served on every instance
     * (`notServed`, `reason`).
     */
    serving: {
      status: ComponentState | "degraded";
      url: string;
      instances: number;
      error?: string;
      reason?: string;
      notServed?: NotServedAlias[];
      notServedCount?: number;
    };
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
 * Serving is degraded, not up, while an alias points at a version some instance does not
 * serve (a load failed): the process answers, but not with what the registry says.
 */
export async function checkHealth(db: PrismaClient, config: AppConfig): Promise<HealthReport> {
  const servingUrl = config.servingUrl;
  const [database, serving, scheduler] = await Promise.all([
    timed(() => db.$queryRaw`SELECT 1`)
      .then(([, latencyMs]) => ({ status: "up" as const, latencyMs }))
      .catch((error: Error) => ({ status: "down" as const, error: error.message.split("\n")[0] })),
    fetch(`${servingUrl}/v2/health/live`, { signal: AbortSignal.timeout(1500) })
      .then(async (res) => {
        if (!res.ok) return { status: "down" as const, error: `HTTP ${res.status}` };
        const [instances, aliases] = await Promise.all([
          liveInstances(db, "serving")
            .then((r) => r.length)
            .catch(() => 0),
          getAliasServing(db).catch(() => [] as AliasServing[]),
        ]);
        const notServed = aliases.filter((a) => a.state === "not_served");
        if (notServed.length === 0) return { status: "up" as const, instances };
        const first = notServed[0]!;
        return {
          status: "degraded" as const,
          instances,
          reason:
            `${first.model} ${first.alias} → v${first.version} is ${describeNotServed(first)}` +
            (notServed.length > 1 ? ` (and ${notServed.length - 1} more alias targets)` : ""),
          notServed: notServed
            .slice(0, MAX_NOT_SERVED)
            .map(({ model, alias, version, notServedOn, instances: of, servedInstead, error }) => ({
              model,
              alias,
              version,
              notServedOn,
              instances: of,
              servedInstead,
              error,
            })),
          notServedCount: notServed.length,
        };
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
