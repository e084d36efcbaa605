import type { PrismaClient } from "../db/generated/client";
import { liveInstances } from "../system/heartbeat";
import { heartbeatModelIn, type ServingHeartbeatModel } from "./status";

/**
 * Whether what the registry says is what serving serves: for each alias of a set of models,
 * on how many live serving instances its target version is not served, and why. Read from
 * what serving reports — heartbeats (alias → version each instance serves, and the aliases it
 * cannot answer with their load errors) and load events (why a version did not load) — so any web replica answers without asking serving. The model
 * page's alias cards, the models list, the Overview and system health all show this one answer.
 */

/**
 * served: every live instance serves the target. switching: the alias moved moments ago and
 * some instance has not reported serving it yet, with no failure. not_served: some instance
 * does not serve it (a load failed, or it still does not serve it well after the move).
 * no_instances: no serving instance is reporting (system health says serving is down).
 */
export type AliasServingState = "served" | "switching" | "not_served" | "no_instances";

export type AliasServing = {
  model: string;
  alias: string;
  version: number;
  versionId: string;
  state: AliasServingState;
  /** Live serving instances. */
  instances: number;
  /** Of those, how many do not serve `version` under this alias. */
  notServedOn: number;
  /** …and how many are still switching to it (counted apart: not yet a problem). */
  switchingOn: number;
  /** What the instances that do not serve it serve under this alias instead (distinct, sorted). */
  servedInstead: number[];
  /** The newest load error of `version` on an instance that does not serve it. */
  error: { message: string; at: string; instanceId: string } | null;
};

/**
 * How long after a move an instance that has not switched yet (and reported no failure) counts
 * as switching rather than not serving: a load, its warm-up and the next heartbeat fit in it.
 */
export const SWITCH_GRACE_MS = 120_000;

const succeeded = (status: string) => status !== "failed";

/**
 * The serving state of every alias of the given models (of all models when `modelIds` is
 * omitted), ordered by model and alias name.
 */
export async function getAliasServing(
  db: PrismaClient,
  filter: { modelIds?: string[] } = {},
  now = new Date(),
): Promise<AliasServing[]> {
  const [aliases, instances] = await Promise.all([
    db.modelAlias.findMany({
      where: filter.modelIds ? { modelId: { in: filter.modelIds } } : {},
      select: {
        name: true,
        updatedAt: true,
        versionId: true,
        version: { select: { version: true } },
        model: { select: { name: true } },
      },
    }),
    liveInstances(db, "serving", now),
  ]);
  aliases.sort((a, b) => a.model.name.localeCompare(b.model.name) || a.name.localeCompare(b.name));
  const base = (a: (typeof aliases)[number]) => ({
    model: a.model.name,
    alias: a.name,
    version: a.version.version,
    versionId: a.versionId,
    instances: instances.length,
    notServedOn: 0,
    switchingOn: 0,
    servedInstead: [] as number[],
    error: null,
  });
  if (instances.length === 0) {
    return aliases.map((a) => ({ ...base(a), state: "no_instances" as const }));
  }

  // Newest failure and newest success of each target version on each live instance: the
  // version failed there when its newest failure is newer than its newest success.
  const versionIds = [...new Set(aliases.map((a) => a.versionId))];
  const instanceIds = instances.map((i) => i.instanceId);
  const groups = versionIds.length
    ? await db.servingLoadEvent.groupBy({
        by: ["versionId", "instanceId", "status"],
        where: { versionId: { in: versionIds }, instanceId: { in: instanceIds } },
        _max: { at: true },
      })
    : [];
  const newest = new Map<string, { failed?: Date; ok?: Date }>();
  for (const g of groups) {
    const at = g._max.at;
    if (!at) continue;
    const key = `${g.versionId}|${g.instanceId}`;
    const entry = newest.get(key) ?? {};
    const kind = succeeded(g.status) ? "ok" : "failed";
    if (!entry[kind] || entry[kind] < at) entry[kind] = at;
    newest.set(key, entry);
  }
  const failedAt = (versionId: string, instanceId: string): Date | null => {
    const e = newest.get(`${versionId}|${instanceId}`);
    return e?.failed && (!e.ok || e.failed > e.ok) ? e.failed : null;
  };

  const served = instances.map((i) => ({
    instanceId: i.instanceId,
    byModel: new Map<string, ServingHeartbeatModel>(),
    info: i.info,
  }));
  const reportOf = (s: (typeof served)[number], model: string) => {
    let report = s.byModel.get(model);
    if (!report) s.byModel.set(model, (report = heartbeatModelIn(s.info, model)));
    return report;
  };

  const states = aliases.map((a) => {
    const view: AliasServing = { ...base(a), state: "served" };
    const instead = new Set<number>();
    let newestFailure: { at: Date; instanceId: string; message: string | null } | null = null;
    const recentlyMoved = now.getTime() - a.updatedAt.getTime() < SWITCH_GRACE_MS;
    for (const s of served) {
      const report = reportOf(s, a.model.name);
      const reported = report.aliases[a.name];
      // The instance's own word (its heartbeat) first, then the load events it recorded.
      const unavailable = report.unavailable.find(
        (u) => u.alias === a.name && u.versionId === a.versionId && u.state === "failed",
      );
      const failed = unavailable
        ? new Date(unavailable.failedAt ?? now.toISOString())
        : failedAt(a.versionId, s.instanceId);
      if (reported === a.version.version && !failed) continue;
      if (!failed && recentlyMoved) {
        view.switchingOn++;
        continue;
      }
      view.notServedOn++;
      if (reported !== undefined && reported !== a.version.version) instead.add(reported);
      if (failed && (!newestFailure || failed > newestFailure.at)) {
        newestFailure = {
          at: failed,
          instanceId: s.instanceId,
          message: unavailable?.error ?? null,
        };
      }
    }
    view.servedInstead = [...instead].sort((x, y) => x - y);
    view.state =
      view.notServedOn > 0 ? "not_served" : view.switchingOn > 0 ? "switching" : "served";
    return { view, newestFailure };
  });

  // The messages of the failures that explain something (one row each).
  const wanted = states.flatMap((s) =>
    s.newestFailure && s.newestFailure.message === null
      ? [
          {
            versionId: s.view.versionId,
            instanceId: s.newestFailure.instanceId,
            at: s.newestFailure.at,
          },
        ]
      : [],
  );
  const rows = wanted.length
    ? await db.servingLoadEvent.findMany({
        where: { status: "failed", OR: wanted },
        select: { versionId: true, instanceId: true, at: true, message: true },
      })
    : [];
  const messageOf = new Map(
    rows.map((r) => [`${r.versionId}|${r.instanceId}|${r.at.getTime()}`, r.message]),
  );
  for (const { view, newestFailure } of states) {
    if (!newestFailure) continue;
    const key = `${view.versionId}|${newestFailure.instanceId}|${newestFailure.at.getTime()}`;
    view.error = {
      message: newestFailure.message ?? messageOf.get(key) ?? "no message recorded",
      at: newestFailure.at.toISOString(),
      instanceId: newestFailure.instanceId,
    };
  }
  return states.map((s) => s.view);
}

/** "not served on 1 of 2 instances: <error>" — the one wording every place shows. */
export function describeNotServed(a: AliasServing): string {
  const where = `not served on ${a.notServedOn} of ${a.instances} serving instance${a.instances === 1 ? "" : "s"}`;
  const why = a.error ? `: ${a.error.message}` : " (no load error reported)";
  return `${where}${why}`;
}
