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
 * instance serves (from their heartbeats), and versions that failed to load and have not
 * loaded since. Plus the web side of the "Try it" panel: one inference call to the serving
 * process with the internal key, on a signed-in person's behalf.
 */

export type ServingInstanceView = {
  instanceId: string;
  /** alias → version number this instance serves for the model ({} when it serves none). */
  aliases: Record<string, number>;
  /** When its heartbeat (which carries `aliases`) was written; it beats every 10 s. */
  lastSeenAt: string;
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

export type ServingStatus = {
  settings: ServingSettings;
  instances: ServingInstanceView[];
  loadFailures: LoadFailureView[];
};

/** Most still-failing versions reported (newest first). */
const MAX_LOAD_FAILURES = 20;

type HeartbeatModel = { model?: unknown; aliases?: unknown };

/** This model's aliases in one serving heartbeat's `info.models`, tolerating any shape. */
export function aliasesIn(info: unknown, modelName: string): Record<string, number> {
  const models = (info as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return {};
  const entry = (models as HeartbeatModel[]).find((m) => m?.model === modelName);
  if (!entry || typeof entry.aliases !== "object" || entry.aliases === null) return {};
  return Object.fromEntries(
    Object.entries(entry.aliases as Record<string, unknown>).filter(
      (kv): kv is [string, number] => typeof kv[1] === "number",
    ),
  );
}

export async function getServingStatus(
  db: PrismaClient,
  modelName: string,
  now = new Date(),
): Promise<ServingStatus> {
  const model = await findModelId(db, modelName);
  const [row, heartbeats, latest] = await Promise.all([
    db.model.findUniqueOrThrow({ where: { id: model.id }, select: { servingSettings: true } }),
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

  const events = failing.length
    ? await db.servingLoadEvent.findMany({
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
    : [];
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

  return {
    settings: effectiveServingSettings(row.servingSettings),
    instances: heartbeats
      .map((h) => ({
        instanceId: h.instanceId,
        aliases: aliasesIn(h.info, modelName),
        lastSeenAt: h.lastSeenAt.toISOString(),
      }))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
    loadFailures,
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

/** Where the web process reaches serving: the bind address, with 0.0.0.0 meaning loopback. */
export function servingBaseUrl(config: AppConfig = getConfig()): string {
  return `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.servingPort}`;
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
