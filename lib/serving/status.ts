import { ApiError } from "../api/errors";
import { getConfig, type AppConfig } from "../config";
import type { PrismaClient } from "../db/generated/client";
import { findModelId } from "../registry/shared";
import { liveInstances } from "../system/heartbeat";
import { ensureAuthSecret } from "../system/instance";
import { tryItKey } from "./internal-key";
import { effectiveServingSettings, type ServingSettings } from "./settings";

/**
 * The control plane's view of how a model is served: its settings, what each live serving
 * instance serves (from their heartbeats), which aliased versions are not served where and
 * why, warm-up warnings, and versions that failed to load and have not loaded since. Plus the
 * web side of the "Try it" panel: one inference call to the serving process with the internal
 * key, on a signed-in person's behalf.
 */

// ---------------------------------------------------------------------------------------------
// What a serving instance reports: `ProcessHeartbeat.info.models` (kind "serving") is an array of
// ServingHeartbeatModel, written by lib/serving/router.ts `snapshot()` every 10 s and at once
// when what it serves changes. `/v2/health/ready` answers the same array as `models`.

/** One version loaded on the instance (for an alias or asked for by number). */
export type ServedVersionReport = {
  version: number;
  versionId: string;
  loadedAt: string;
  loadMs: number;
  batchable: boolean;
  /** What it was warmed up with: its stored sample request, or a synthetic request. */
  warmUp: "sample" | "synthetic";
  /** Set when the synthetic warm-up failed; the version is served all the same. */
  warning: string | null;
};

/**
 * An alias whose registry version does not answer it on the instance. With `servedInstead`
 * null, requests for the alias get 503 `model_unavailable` there; otherwise the previous
 * version keeps answering it.
 */
export type UnavailableAliasReport = {
  alias: string;
  /** The version the alias points at in the registry (as of the instance's last reconcile). */
  version: number;
  versionId: string;
  /** `loading`: the load is under way; `failed`: the load failed (see `error`). */
  state: "loading" | "failed";
  /** Why the load failed (session not created, stored sample failed, artifact unreadable). */
  error: string | null;
  failedAt: string | null;
  /** When the instance loads it again (failed only). */
  retryAt: string | null;
  /** The version still answering the alias on the instance, or null (503 there). */
  servedInstead: number | null;
};

export type ServingHeartbeatModel = {
  model: string;
  /** alias → the version answering it on the instance now */
  aliases: Record<string, number>;
  versions: ServedVersionReport[];
  unavailable: UnavailableAliasReport[];
};

// ---------------------------------------------------------------------------------------------
// What the web reads (GET /api/v1/models/{name}/serving, getServingProblems)

export type ServingInstanceView = {
  instanceId: string;
  /** alias → version number this instance serves for the model ({} when it serves none). */
  aliases: Record<string, number>;
  /** Versions loaded there, with their warm-up. */
  versions: ServedVersionReport[];
  /** Aliases whose registry version it does not serve (loading or failed). */
  unavailable: UnavailableAliasReport[];
  /** When its heartbeat (which carries the above) was written; it beats every 10 s. */
  lastSeenAt: string;
};

/** Why one instance does not answer an alias with the version the registry gives it. */
export type NotServedView = {
  instanceId: string;
  alias: string;
  /**
   * `failed` / `loading`: as the instance reported (see UnavailableAliasReport); `pending`:
   * its last heartbeat does not mention this version for the alias yet (it was just moved).
   */
  state: "failed" | "loading" | "pending";
  error: string | null;
  retryAt: string | null;
  /** The version still answering the alias there, or null: requests get 503. */
  servedInstead: number | null;
};

/**
 * One version that aliases point at, across the live serving instances: what a card says as
 * "version N of model M is not served on K of L instances, because …" (K = `notServedOn`,
 * L = `instances`, … = `reason`) and "served with a warm-up warning: …" (`warmUpWarning`).
 */
export type AliasedVersionServing = {
  version: number;
  versionId: string;
  /** Aliases pointing at it in the registry. */
  aliases: string[];
  /** L: live serving instances. */
  instances: number;
  /** Instances answering every one of its aliases with it. */
  servedOn: number;
  /** K: instances where at least one of its aliases is not answered by it (= L − servedOn). */
  notServedOn: number;
  /** Per instance and alias, why not. */
  notServed: NotServedView[];
  /**
   * One line: the first load error reported, else "still loading" or "not reported by the
   * instance yet"; null when K = 0.
   */
  reason: string | null;
  /** The warm-up warning of an instance serving it (synthetic warm-up failed), else null. */
  warmUpWarning: string | null;
  /** Whether the version has a stored sample request (its warm-up and example). */
  hasSampleRequest: boolean;
};

export type LoadFailureView = {
  version: number;
  versionId: string;
  message: string;
  at: string;
  instanceId: string;
  /** Aliases that point at this version in the registry now (what it was loaded for). */
  aliases: string[];
};

/** A version whose newest load was served with a warm-up warning (from the load events). */
export type WarmUpWarningView = {
  version: number;
  versionId: string;
  warning: string;
  at: string;
  instanceId: string;
};

export type ServingStatus = {
  settings: ServingSettings;
  instances: ServingInstanceView[];
  /** Every version an alias points at, newest version first. */
  versions: AliasedVersionServing[];
  loadFailures: LoadFailureView[];
  /**
   * Versions (aliased or not) whose newest load warned and that still have no sample request:
   * what the version page and "Try it" show. Newest first, at most 20.
   */
  warmUpWarnings: WarmUpWarningView[];
};

/** Most still-failing versions reported (newest first). */
const MAX_LOAD_FAILURES = 20;
const MAX_WARM_UP_WARNINGS = 20;

/** This model's entry in one serving heartbeat's `info.models`, tolerating any shape. */
export function heartbeatModelIn(info: unknown, modelName: string): ServingHeartbeatModel {
  const models = (info as { models?: unknown } | null)?.models;
  const entry = Array.isArray(models)
    ? (models as Array<Record<string, unknown> | null>).find((m) => m?.model === modelName)
    : undefined;
  const aliases =
    entry && typeof entry.aliases === "object" && entry.aliases !== null
      ? Object.fromEntries(
          Object.entries(entry.aliases as Record<string, unknown>).filter(
            (kv): kv is [string, number] => typeof kv[1] === "number",
          ),
        )
      : {};
  const list = <T>(value: unknown, ok: (v: Record<string, unknown>) => boolean): T[] =>
    Array.isArray(value)
      ? (value.filter(
          (v): v is Record<string, unknown> => typeof v === "object" && v !== null && ok(v),
        ) as T[])
      : [];
  return {
    model: modelName,
    aliases,
    versions: list<ServedVersionReport>(
      entry?.versions,
      (v) => typeof v.version === "number" && typeof v.versionId === "string",
    ),
    unavailable: list<UnavailableAliasReport>(
      entry?.unavailable,
      (v) =>
        typeof v.alias === "string" &&
        typeof v.version === "number" &&
        typeof v.versionId === "string" &&
        (v.state === "loading" || v.state === "failed"),
    ),
  };
}

/**
 * The serving state of each aliased version over the live instances (pure: the caller reads
 * the registry's aliases and the heartbeats).
 */
export function aliasedVersionServing(
  aliases: Array<{ alias: string; version: number; versionId: string; hasSampleRequest: boolean }>,
  instances: Array<{ instanceId: string; report: ServingHeartbeatModel }>,
): AliasedVersionServing[] {
  const byVersion = new Map<string, (typeof aliases)[number][]>();
  for (const a of aliases) byVersion.set(a.versionId, [...(byVersion.get(a.versionId) ?? []), a]);
  const views: AliasedVersionServing[] = [];
  for (const [versionId, rows] of byVersion) {
    const { version, hasSampleRequest } = rows[0]!;
    const notServed: NotServedView[] = [];
    const failing = new Set<string>();
    let warmUpWarning: string | null = null;
    for (const { instanceId, report } of instances) {
      for (const { alias } of rows) {
        if (report.aliases[alias] === version) continue;
        failing.add(instanceId);
        const u = report.unavailable.find((x) => x.alias === alias && x.versionId === versionId);
        notServed.push(
          u
            ? {
                instanceId,
                alias,
                state: u.state,
                error: u.error,
                retryAt: u.retryAt,
                servedInstead: u.servedInstead,
              }
            : {
                instanceId,
                alias,
                state: "pending",
                error: null,
                retryAt: null,
                servedInstead: report.aliases[alias] ?? null,
              },
        );
      }
      const loaded = report.versions.find((v) => v.versionId === versionId);
      if (loaded?.warning && !failing.has(instanceId)) warmUpWarning ??= loaded.warning;
    }
    const reason =
      notServed.find((n) => n.state === "failed" && n.error)?.error ??
      (notServed.some((n) => n.state === "loading")
        ? "still loading"
        : notServed.length
          ? "not reported by the instance yet"
          : null);
    views.push({
      version,
      versionId,
      aliases: rows.map((r) => r.alias).sort(),
      instances: instances.length,
      servedOn: instances.length - failing.size,
      notServedOn: failing.size,
      notServed,
      reason,
      warmUpWarning,
      hasSampleRequest,
    });
  }
  return views.sort((a, b) => b.version - a.version);
}

export async function getServingStatus(
  db: PrismaClient,
  modelName: string,
  now = new Date(),
): Promise<ServingStatus> {
  const model = await findModelId(db, modelName);
  const [row, heartbeats, latest] = await Promise.all([
    db.model.findUniqueOrThrow({
      where: { id: model.id },
      select: {
        servingSettings: true,
        aliases: {
          select: {
            name: true,
            version: { select: { id: true, version: true, sampleRequestSha256: true } },
          },
        },
      },
    }),
    liveInstances(db, "serving", now),
    // The newest event of each status per version: a version is still failing when its
    // newest `failed` is newer than its newest `loaded` (on any instance).
    db.servingLoadEvent.groupBy({
      by: ["versionId", "status"],
      where: { modelId: model.id },
      _max: { at: true },
    }),
  ]);

  const newest = new Map<string, { loaded?: Date; failed?: Date }>();
  for (const g of latest) {
    const at = g._max.at;
    if (!at || (g.status !== "loaded" && g.status !== "failed")) continue;
    const entry = newest.get(g.versionId) ?? {};
    entry[g.status] = at;
    newest.set(g.versionId, entry);
  }
  const failing = [...newest]
    .filter(([, e]) => e.failed && (!e.loaded || e.failed > e.loaded))
    .sort(([, a], [, b]) => b.failed!.getTime() - a.failed!.getTime())
    .slice(0, MAX_LOAD_FAILURES);
  const loadedLast = [...newest]
    .filter(([, e]) => e.loaded && (!e.failed || e.loaded > e.failed))
    .sort(([, a], [, b]) => b.loaded!.getTime() - a.loaded!.getTime());

  const [events, loads] = await Promise.all([
    failing.length
      ? db.servingLoadEvent.findMany({
          where: {
            OR: failing.map(([versionId, e]) => ({ versionId, status: "failed", at: e.failed! })),
          },
          orderBy: [{ at: "desc" }, { id: "desc" }],
          select: {
            versionId: true,
            instanceId: true,
            message: true,
            at: true,
            version: { select: { version: true, aliases: { select: { name: true } } } },
          },
        })
      : [],
    // The newest load of each version, when it warned and the version still has no sample.
    loadedLast.length
      ? db.servingLoadEvent.findMany({
          where: {
            OR: loadedLast.map(([versionId, e]) => ({
              versionId,
              status: "loaded",
              at: e.loaded!,
            })),
            warmUp: "synthetic",
            warning: { not: null },
            version: { sampleRequestSha256: null },
          },
          orderBy: [{ at: "desc" }, { id: "desc" }],
          select: {
            versionId: true,
            instanceId: true,
            warning: true,
            at: true,
            version: { select: { version: true } },
          },
        })
      : [],
  ]);
  const seen = new Set<string>();
  const loadFailures: LoadFailureView[] = [];
  for (const e of events) {
    if (seen.has(e.versionId)) continue; // two instances failing in the same millisecond
    seen.add(e.versionId);
    loadFailures.push({
      version: e.version.version,
      versionId: e.versionId,
      message: e.message ?? "no message recorded",
      at: e.at.toISOString(),
      instanceId: e.instanceId,
      aliases: e.version.aliases.map((a) => a.name).sort(),
    });
  }
  const warned = new Set<string>();
  const warmUpWarnings: WarmUpWarningView[] = [];
  for (const e of loads) {
    if (warned.has(e.versionId) || warmUpWarnings.length >= MAX_WARM_UP_WARNINGS) continue;
    warned.add(e.versionId);
    warmUpWarnings.push({
      version: e.version.version,
      versionId: e.versionId,
      warning: e.warning!,
      at: e.at.toISOString(),
      instanceId: e.instanceId,
    });
  }

  const instances = heartbeats
    .map((h) => ({ h, report: heartbeatModelIn(h.info, model.name) }))
    .sort((a, b) => a.h.instanceId.localeCompare(b.h.instanceId));
  return {
    settings: effectiveServingSettings(row.servingSettings),
    instances: instances.map(({ h, report }) => ({
      instanceId: h.instanceId,
      aliases: report.aliases,
      versions: report.versions,
      unavailable: report.unavailable,
      lastSeenAt: h.lastSeenAt.toISOString(),
    })),
    versions: aliasedVersionServing(
      row.aliases.map((a) => ({
        alias: a.name,
        version: a.version.version,
        versionId: a.version.id,
        hasSampleRequest: a.version.sampleRequestSha256 !== null,
      })),
      instances.map(({ h, report }) => ({ instanceId: h.instanceId, report })),
    ),
    loadFailures,
    warmUpWarnings,
  };
}

// ---------------------------------------------------------------------------------------------
// "Try it": the web app calls the serving process

export type TryTarget = { alias: string } | { version: number } | Record<string, never>;

export type TryResult = {
  /** The serving process's HTTP status. */
  status: number;
  /** Its JSON answer (or its text, when it is not JSON). */
  body: unknown;
  /** Version that answered (x-model-version), null when none did (e.g. a 404). */
  servedVersion: number | null;
  requestId: string | null;
  /** Round trip from the web process, in milliseconds. */
  latencyMs: number;
};

const TRY_TIMEOUT_MS = 10_000;

/** Where the web process reaches serving (MODELDECK_SERVING_URL, else its bind address). */
export function servingBaseUrl(config: AppConfig = getConfig()): string {
  return config.servingUrl;
}

let keyPromise: Promise<string> | undefined;
function internalKey(db: PrismaClient): Promise<string> {
  keyPromise ??= (async () =>
    tryItKey(
      process.env.BETTER_AUTH_SECRET ?? (await ensureAuthSecret(db, process.env.MODELDECK_SECRET)),
    ))();
  keyPromise.catch(() => (keyPromise = undefined));
  return keyPromise;
}

/**
 * Sends one inference request to the serving process with the internal key and reports what
 * came back, whatever its status (the person trying wants to see serving's own errors). Only
 * when serving cannot be reached or does not answer is it an error of this call (503 / 502).
 */
export async function tryPrediction(
  db: PrismaClient,
  input: {
    modelName: string;
    target: TryTarget;
    form: "infer" | "predict";
    request: unknown;
    baseUrl?: string;
    timeoutMs?: number;
  },
): Promise<TryResult> {
  const model = await findModelId(db, input.modelName);
  const base = input.baseUrl ?? servingBaseUrl();
  const selector =
    "alias" in input.target
      ? `/versions/${encodeURIComponent(input.target.alias)}`
      : "version" in input.target
        ? `/versions/${input.target.version}`
        : "";
  const url = `${base}/v2/models/${encodeURIComponent(model.name)}${selector}/${input.form}`;
  const key = await internalKey(db);
  const timeoutMs = input.timeoutMs ?? TRY_TIMEOUT_MS;

  const started = performance.now();
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(input.request),
      signal: AbortSignal.timeout(timeoutMs),
      cache: "no-store",
    });
    text = await response.text();
  } catch (error) {
    const name = (error as Error).name;
    if (name === "TimeoutError" || name === "AbortError") {
      throw new ApiError(
        "bad_gateway",
        `The serving process at ${base} did not answer within ${timeoutMs / 1000} s.`,
      );
    }
    throw new ApiError(
      "service_unavailable",
      `The serving process is not reachable at ${base} (${describeNetworkError(error)}). Is it running?`,
    );
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;

  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's error page, say): pass the text on as it is.
  }
  const versionHeader = response.headers.get("x-model-version");
  const servedVersion = versionHeader && /^\d+$/.test(versionHeader) ? Number(versionHeader) : null;
  return {
    status: response.status,
    body,
    servedVersion,
    requestId: response.headers.get("x-request-id"),
    latencyMs,
  };
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
