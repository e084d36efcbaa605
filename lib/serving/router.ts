import { readFile } from "node:fs/promises";
import type { PrismaClient } from "../db/generated/client";
import type { Logger } from "../log";
import type { OnnxSignature } from "../onnx/types";
import type { ArtifactStore } from "../storage/types";
import type { ServingMetrics } from "./metrics";
import { sampleFeeds } from "./sample-request";
import {
  ServedVersion,
  VersionLoadError,
  type SessionOptions,
  type VersionIdentity,
} from "./served-version";
import { effectiveServingSettings, type ServingSettings } from "./settings";
import type { ServingHeartbeatModel, UnavailableAliasReport } from "./status";

type ModelTask = VersionIdentity["task"];

/**
 * Which loaded version answers a request. The registry (Postgres) is the truth; this process
 * keeps a warmed session for every version an alias points at, and swaps an alias only after
 * the new version has loaded and been warmed up (with its stored sample request, else a
 * synthetic one whose failure is only a warning). A version that fails to load leaves the alias
 * where it was when it served another version before; otherwise requests for the alias get
 * ServingUnavailableError (503, with when the load is retried) rather than "no such alias".
 * Failures are recorded for the model page and retried after `failedRetryMs`. Requests that
 * name a version number load it on first use and keep it while it is used.
 *
 * Everything here survives the database going away: reconciles fail and are retried, and the
 * sessions already held keep answering.
 */
export const DEFAULT_ALIAS = "production";
/** Explicit (non-aliased) versions kept per model, least recently used evicted first. */
const MAX_PINNED_PER_MODEL = 4;
/** A version that failed to load is retried after this long (not before, unless forced). */
export const FAILED_RETRY_MS = 60_000;

/** The model, alias or version does not exist in the registry (or is archived): a 404. */
export class ServingNotFoundError extends Error {
  constructor(
    message: string,
    /** The registry version the request named, when it exists but is not served (archived). */
    readonly addressed: { versionId: string; version: number } | null = null,
  ) {
    super(message);
    this.name = "ServingNotFoundError";
  }
}

/**
 * The alias or version exists, but this instance cannot answer with it: its load failed, or it
 * is still loading. A 503 whose `Retry-After` is `retryAfterSeconds` (null: no retry planned).
 */
export class ServingUnavailableError extends Error {
  constructor(
    message: string,
    readonly version: number,
    readonly reason: string,
    readonly retryAfterSeconds: number | null,
    /** The registry version that cannot answer, when known: its 503 counts against it. */
    readonly addressed: { versionId: string; version: number } | null = null,
  ) {
    super(message);
    this.name = "ServingUnavailableError";
  }
}

/** The selector in `/v2/models/{name}/versions/{selector}`: a number, or an alias name. */
export type VersionSelector =
  { kind: "alias"; alias: string } | { kind: "number"; version: number };

export function parseSelector(segment: string | undefined): VersionSelector {
  if (segment === undefined || segment === "") return { kind: "alias", alias: DEFAULT_ALIAS };
  if (/^[1-9]\d{0,9}$/.test(segment)) return { kind: "number", version: Number(segment) };
  return { kind: "alias", alias: segment };
}

/** What loading a version needs from its row. */
const SERVED_VERSION_FIELDS = {
  id: true,
  version: true,
  sha256: true,
  storageKey: true,
  signature: true,
  status: true,
  // The digest only: the request itself is read when the version is (re)loaded.
  sampleRequestSha256: true,
} as const;

type VersionRow = {
  id: string;
  version: number;
  sha256: string;
  storageKey: string;
  signature: unknown;
  status: string;
  sampleRequestSha256: string | null;
};

/** Why an alias's registry version does not answer here. */
type Unavailable = {
  version: number;
  versionId: string;
  state: "loading" | "failed";
  error: string | null;
  failedAt: number | null;
  retryAt: number | null;
};

type Failure = { at: number; message: string };

type ModelState = {
  id: string;
  name: string;
  task: ModelTask;
  settings: ServingSettings;
  aliases: Map<string, ServedVersion>;
  /** Aliases whose registry version is not what answers them here (see Unavailable). */
  unavailable: Map<string, Unavailable>;
  pinned: Map<number, ServedVersion>;
};

/** One loaded session per version and sample request: a changed sample means a reload. */
function servedKey(v: { versionId: string; sampleRequestSha256: string | null }): string {
  return `${v.versionId}:${v.sampleRequestSha256 ?? "synthetic"}`;
}
const rowKey = (row: VersionRow) =>
  servedKey({ versionId: row.id, sampleRequestSha256: row.sampleRequestSha256 });

export type RouterDeps = {
  db: PrismaClient;
  store: ArtifactStore;
  log: Logger;
  metrics: ServingMetrics;
  instanceId: string;
  sessionOptions?: SessionOptions;
  /** Called after what is served changed (an alias switched, a version was released). */
  onServedChange?: () => void;
  /** How long after a failed load it is retried (default FAILED_RETRY_MS). */
  failedRetryMs?: number;
};

export class ModelRouter {
  private models = new Map<string, ModelState>();
  /** Loaded sessions by served key (several aliases may share one). */
  private loaded = new Map<string, ServedVersion>();
  private loading = new Map<string, Promise<ServedVersion>>();
  /** The last failed load by served key, until that version and sample load. */
  private failed = new Map<string, Failure>();
  private chains = new Map<string, Promise<void>>();
  /** Versions loaded by a reconcile that has not switched its aliases yet: not to release. */
  private claims = new Map<string, number>();
  /** Per model: the timer of its next retry of a failed load. */
  private retries = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private everReconciled = false;
  private closed = false;
  private readonly failedRetryMs: number;

  constructor(private readonly deps: RouterDeps) {
    this.failedRetryMs = deps.failedRetryMs ?? FAILED_RETRY_MS;
  }

  /** True once the first full reconcile succeeded (what readiness reports). */
  get ready(): boolean {
    return this.everReconciled;
  }

  /**
   * The loaded version for a request, held for the caller (call `release()` when done).
   * Aliases resolve synchronously from memory; a version number may load on first use.
   */
  /**
   * The predict path's synchronous fast path: the loaded version an alias points at, held for
   * the caller; null when anything else applies (then `acquire` says why or loads it).
   */
  acquireLoaded(model: string, selector: VersionSelector): ServedVersion | null {
    if (selector.kind !== "alias") return null;
    const served = this.models.get(model)?.aliases.get(selector.alias);
    return served && served.acquire() ? served : null;
  }

  async acquire(model: string, selector: VersionSelector): Promise<ServedVersion> {
    const state = this.models.get(model);
    if (!state && !this.everReconciled) {
      throw new ServingNotFoundError(
        `Model "${model}" is not loaded yet: the server is still starting.`,
      );
    }
    if (!state) throw new ServingNotFoundError(`Model "${model}" is not served here.`);
    if (selector.kind === "alias") {
      const served = state.aliases.get(selector.alias);
      if (served && served.acquire()) return served;
      // Off the hot path from here: the alias is not answered by a loaded version.
      const unavailable = state.unavailable.get(selector.alias);
      if (unavailable) throw this.unavailableError(model, selector.alias, unavailable);
      const known = [...new Set([...state.aliases.keys(), ...state.unavailable.keys()])].sort();
      throw new ServingNotFoundError(
        `Model "${model}" has no alias "${selector.alias}"` +
          (known.length ? ` (it has ${known.map((a) => `"${a}"`).join(", ")}).` : "."),
      );
    }
    for (const served of state.aliases.values()) {
      if (served.id.version === selector.version && served.acquire()) return served;
    }
    const pinned = state.pinned.get(selector.version);
    if (pinned && pinned.acquire()) {
      // Refresh its place in the LRU order.
      state.pinned.delete(selector.version);
      state.pinned.set(selector.version, pinned);
      return pinned;
    }
    const served = await this.loadPinned(state, selector.version);
    if (!served.acquire())
      throw new ServingNotFoundError(`Version ${selector.version} was unloaded.`);
    return served;
  }

  /**
   * What this instance serves, per model: the heartbeat's `info.models` (typed and documented
   * in lib/serving/status.ts, which the web reads) and `/v2/health/ready`'s `models`.
   */
  snapshot(): ServingHeartbeatModel[] {
    return [...this.models.values()].map((m) => {
      const versions = new Map<number, ServedVersion>();
      for (const v of [...m.aliases.values(), ...m.pinned.values()]) versions.set(v.id.version, v);
      const unavailable: UnavailableAliasReport[] = [...m.unavailable]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([alias, u]) => ({
          alias,
          version: u.version,
          versionId: u.versionId,
          state: u.state,
          error: u.error,
          failedAt: u.failedAt === null ? null : new Date(u.failedAt).toISOString(),
          retryAt: u.retryAt === null ? null : new Date(u.retryAt).toISOString(),
          servedInstead: m.aliases.get(alias)?.id.version ?? null,
        }));
      return {
        model: m.name,
        aliases: Object.fromEntries([...m.aliases].map(([a, v]) => [a, v.id.version])),
        versions: [...versions.values()].map((v) => ({
          version: v.id.version,
          versionId: v.id.versionId,
          loadedAt: v.loadedAt.toISOString(),
          loadMs: Math.round(v.loadMs * 10) / 10,
          batchable: v.batchable,
          warmUp: v.warmUp.source,
          warning: v.warmUp.warning,
        })),
        unavailable,
      };
    });
  }

  hasModel(model: string): boolean {
    return this.models.has(model);
  }

  modelId(model: string): string | null {
    return this.models.get(model)?.id ?? null;
  }

  /** Share of this model's requests whose payloads the prediction log keeps. */
  sampleRate(model: string): number {
    return this.models.get(model)?.settings.payloadSampleRate ?? 0;
  }

  /** Re-reads every model from the registry (start-up, periodic, after a reconnect). */
  async reconcileAll(): Promise<void> {
    const rows = await this.deps.db.model.findMany({ select: { name: true } });
    const names = new Set(rows.map((r) => r.name));
    for (const name of this.models.keys()) if (!names.has(name)) names.add(name);
    await Promise.all([...names].map((name) => this.reconcileModel(name, { force: false })));
    this.everReconciled = true;
  }

  /**
   * Brings one model in line with the registry: load what its aliases point at, then switch
   * them, then release what nothing points at any more. Calls for one model run one at a time.
   */
  reconcileModel(name: string, opts: { force: boolean } = { force: true }): Promise<void> {
    const previous = this.chains.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.reconcileNow(name, opts.force));
    this.chains.set(name, next);
    // Both ways: a `.finally` here would be a second promise rejecting unhandled (the process
    // exits) whenever the reconcile fails, e.g. when the database drops mid-reconcile.
    const forget = () => {
      if (this.chains.get(name) === next) this.chains.delete(name);
    };
    next.then(forget, forget);
    return next;
  }

  /** Stops serving everything (shutdown): waits for in-flight requests, frees sessions. */
  async close(): Promise<void> {
    this.closed = true;
    for (const { timer } of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    const all = [...this.loaded.values()];
    this.models.clear();
    this.loaded.clear();
    await Promise.all(all.map((v) => v.retire()));
    for (const v of all) this.deps.metrics.versionUnloaded(v.id.model, String(v.id.version));
  }

  private async reconcileNow(name: string, force: boolean): Promise<void> {
    if (this.closed) return;
    const row = await this.deps.db.model.findUnique({
      where: { name },
      select: {
        id: true,
        name: true,
        task: true,
        servingSettings: true,
        aliases: {
          select: {
            name: true,
            version: { select: SERVED_VERSION_FIELDS },
          },
        },
      },
    });
    if (!row) {
      const state = this.models.get(name);
      this.cancelRetry(name);
      if (state) {
        this.models.delete(name);
        this.releaseUnreferenced();
        this.deps.log.info({ model: name }, "model removed from the registry; unloaded");
      }
      return;
    }
    const settings = effectiveServingSettings(row.servingSettings);
    const state: ModelState = this.models.get(name) ?? {
      id: row.id,
      name: row.name,
      task: row.task,
      settings,
      aliases: new Map(),
      unavailable: new Map(),
      pinned: new Map(),
    };
    state.settings = settings;
    state.task = row.task;
    // Known from now on, so a request for an alias still loading hears "loading" (503), not
    // "no such model" (404).
    this.models.set(name, state);
    const nextAliases = new Map<string, ServedVersion>();
    const nextUnavailable = new Map<string, Unavailable>();
    const claimed: string[] = [];
    const failedEntry = (version: VersionRow, failure: Failure): Unavailable => ({
      version: version.version,
      versionId: version.id,
      state: "failed",
      error: failure.message,
      failedAt: failure.at,
      retryAt: failure.at + this.failedRetryMs,
    });
    await Promise.all(
      row.aliases.map(async (alias) => {
        const current = state.aliases.get(alias.name);
        const key = rowKey(alias.version);
        if (current && servedKey(current.id) === key) {
          nextAliases.set(alias.name, current);
          return;
        }
        const failure = this.failed.get(key);
        if (!force && failure && Date.now() - failure.at < this.failedRetryMs) {
          if (current) nextAliases.set(alias.name, current);
          nextUnavailable.set(alias.name, failedEntry(alias.version, failure));
          return;
        }
        if (!this.loaded.has(key)) {
          state.unavailable.set(alias.name, {
            version: alias.version.version,
            versionId: alias.version.id,
            state: "loading",
            error: null,
            failedAt: null,
            retryAt: null,
          });
        }
        try {
          const served = await this.load(row.id, row.name, row.task, alias.version, settings);
          this.claim(servedKey(served.id), +1);
          claimed.push(servedKey(served.id));
          nextAliases.set(alias.name, served);
          if (current) {
            this.deps.log.info(
              { model: name, alias: alias.name, from: current.id.version, to: served.id.version },
              "alias switched to the new version",
            );
          }
        } catch {
          // Keep answering with what this alias served before (if anything).
          if (current) nextAliases.set(alias.name, current);
          const recorded = this.failed.get(key);
          if (recorded) nextUnavailable.set(alias.name, failedEntry(alias.version, recorded));
        }
      }),
    );
    if (this.closed) return;
    // The switch: one synchronous assignment, so a request sees the old map or the new one.
    const changed =
      nextAliases.size !== state.aliases.size ||
      [...nextAliases].some(([alias, v]) => state.aliases.get(alias) !== v) ||
      nextUnavailable.size !== state.unavailable.size ||
      [...nextUnavailable].some(([alias, u]) => !sameUnavailable(state.unavailable.get(alias), u));
    state.aliases = nextAliases;
    state.unavailable = nextUnavailable;
    for (const v of [...nextAliases.values(), ...state.pinned.values()]) v.updateSettings(settings);
    if (this.models.get(name) !== state) this.models.set(name, state);
    for (const key of claimed) this.claim(key, -1);
    this.releaseUnreferenced();
    this.scheduleRetry(name, state);
    if (changed) this.deps.onServedChange?.();
  }

  /** A retry of this model's failed loads once the earliest is due (one timer per model). */
  private scheduleRetry(name: string, state: ModelState): void {
    let due: number | null = null;
    for (const u of state.unavailable.values()) {
      if (u.retryAt !== null && (due === null || u.retryAt < due)) due = u.retryAt;
    }
    const scheduled = this.retries.get(name);
    if (due === null) {
      this.cancelRetry(name);
      return;
    }
    if (scheduled && scheduled.at <= due && scheduled.at > Date.now()) return;
    if (scheduled) clearTimeout(scheduled.timer);
    // A little after the failure's age reaches the retry delay, so the reconcile retries it.
    const timer = setTimeout(
      () => {
        this.retries.delete(name);
        this.reconcileModel(name, { force: false }).catch((error: unknown) =>
          this.deps.log.warn({ err: error, model: name }, "retrying a failed load failed"),
        );
      },
      Math.max(0, due - Date.now()) + 5,
    );
    timer.unref();
    this.retries.set(name, { at: due, timer });
  }

  private cancelRetry(name: string): void {
    const scheduled = this.retries.get(name);
    if (!scheduled) return;
    clearTimeout(scheduled.timer);
    this.retries.delete(name);
  }

  private unavailableError(model: string, alias: string, u: Unavailable): ServingUnavailableError {
    if (u.state === "loading") {
      return new ServingUnavailableError(
        `Model "${model}": alias "${alias}" points at version ${u.version}, which is still loading here; retry shortly.`,
        u.version,
        "loading",
        1,
        { versionId: u.versionId, version: u.version },
      );
    }
    const retryAfter = u.retryAt === null ? null : secondsUntil(u.retryAt);
    return new ServingUnavailableError(
      `Model "${model}": alias "${alias}" points at version ${u.version}, which cannot be served: ${u.error ?? "it failed to load"}` +
        (retryAfter === null ? "" : ` (loading it again in ${retryAfter} s).`),
      u.version,
      u.error ?? "it failed to load",
      retryAfter,
      { versionId: u.versionId, version: u.version },
    );
  }

  private claim(versionId: string, delta: number): void {
    const n = (this.claims.get(versionId) ?? 0) + delta;
    if (n > 0) this.claims.set(versionId, n);
    else this.claims.delete(versionId);
  }

  private async loadPinned(state: ModelState, version: number): Promise<ServedVersion> {
    const row = await this.deps.db.modelVersion.findUnique({
      where: { modelId_version: { modelId: state.id, version } },
      select: SERVED_VERSION_FIELDS,
    });
    if (!row) throw new ServingNotFoundError(`Model "${state.name}" has no version ${version}.`);
    if (row.status === "archived") {
      throw new ServingNotFoundError(
        `Version ${version} of "${state.name}" is archived; unarchive it to serve it.`,
        { versionId: row.id, version },
      );
    }
    // A version that just failed is not loaded again on every request for it.
    const failure = this.failed.get(rowKey(row));
    const retryAt = failure ? failure.at + this.failedRetryMs : 0;
    let served: ServedVersion;
    if (failure && retryAt > Date.now()) {
      throw pinnedUnavailable(state.name, version, failure.message, secondsUntil(retryAt));
    }
    try {
      served = await this.load(state.id, state.name, state.task, row, state.settings);
    } catch (error) {
      const failed = this.failed.get(rowKey(row));
      throw pinnedUnavailable(
        state.name,
        version,
        failed?.message ?? describeLoadError(error),
        failed ? secondsUntil(failed.at + this.failedRetryMs) : null,
      );
    }
    state.pinned.set(version, served);
    while (state.pinned.size > MAX_PINNED_PER_MODEL) {
      const oldest = state.pinned.keys().next().value!;
      state.pinned.delete(oldest);
    }
    this.releaseUnreferenced();
    return served;
  }

  /** Loads (or reuses) the session of one version; concurrent callers share one load. */
  private load(
    modelId: string,
    model: string,
    task: ModelTask,
    row: VersionRow,
    settings: ServingSettings,
  ): Promise<ServedVersion> {
    const key = rowKey(row);
    const existing = this.loaded.get(key);
    if (existing && !existing.isRetired) return Promise.resolve(existing);
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const id: VersionIdentity = {
      modelId,
      model,
      task,
      versionId: row.id,
      version: row.version,
      sha256: row.sha256,
      sampleRequestSha256: row.sampleRequestSha256,
    };
    const promise = this.loadFresh(id, row, settings).finally(() => this.loading.delete(key));
    this.loading.set(key, promise);
    return promise;
  }

  private async loadFresh(
    id: VersionIdentity,
    row: VersionRow,
    settings: ServingSettings,
  ): Promise<ServedVersion> {
    const started = performance.now();
    const labels = [id.model, String(id.version)] as const;
    const key = servedKey(id);
    const signature = row.signature as OnnxSignature;
    try {
      const sample = await this.sampleOf(id, signature);
      let bytes: Uint8Array;
      try {
        // Through the store's local file: a remote store fills its cache once, so a restart
        // or a second load of this version reads the disk, not the bucket.
        bytes = await this.deps.store.withLocalFile(row.storageKey, (file) => readFile(file));
      } catch (error) {
        throw new VersionLoadError(`Cannot read its artifact: ${describeLoadError(error)}`, {
          cause: error,
        });
      }
      const served = await ServedVersion.load(
        id,
        signature,
        bytes,
        settings,
        this.deps.sessionOptions,
        sample,
      );
      this.loaded.set(key, served);
      this.failed.delete(key);
      this.deps.metrics.loadedModels.set({ model: labels[0], version: labels[1] }, 1);
      const durationMs = Math.round(performance.now() - started);
      const { source, warning } = served.warmUp;
      if (warning) {
        this.deps.log.warn(
          { model: id.model, version: id.version, durationMs, warning },
          "version loaded with a warm-up warning",
        );
      } else {
        this.deps.log.info(
          { model: id.model, version: id.version, durationMs, warmUp: source },
          "version loaded",
        );
      }
      this.recordLoadEvent(id, {
        status: "loaded",
        message: null,
        durationMs,
        warmUp: source,
        warning,
      });
      return served;
    } catch (error) {
      const message = describeLoadError(error);
      this.failed.set(key, { at: Date.now(), message });
      this.deps.metrics.loadFailures.inc({ model: labels[0], version: labels[1] });
      this.deps.log.error(
        { model: id.model, version: id.version, err: error },
        "version failed to load",
      );
      this.recordLoadEvent(id, {
        status: "failed",
        message,
        durationMs: Math.round(performance.now() - started),
        warmUp: null,
        warning: null,
      });
      throw error;
    }
  }

  /** The feeds of the version's stored sample request, or null to warm up synthetically. */
  private async sampleOf(id: VersionIdentity, signature: OnnxSignature) {
    if (id.sampleRequestSha256 === null) return null;
    const row = await this.deps.db.modelVersion.findUnique({
      where: { id: id.versionId },
      select: { sampleRequest: true, sampleRequestSha256: true },
    });
    // Changed since the reconcile read the digest: the next reconcile loads the new one.
    if (!row || row.sampleRequest === null || row.sampleRequestSha256 !== id.sampleRequestSha256) {
      throw new VersionLoadError("Its sample request changed while it was loading.");
    }
    try {
      return sampleFeeds(row.sampleRequest, signature);
    } catch (error) {
      throw new VersionLoadError(
        `Its stored sample request does not fit the model: ${describeLoadError(error)}`,
        { cause: error },
      );
    }
  }

  private recordLoadEvent(
    id: VersionIdentity,
    event: {
      status: "loaded" | "failed";
      message: string | null;
      durationMs: number;
      warmUp: "sample" | "synthetic" | null;
      warning: string | null;
    },
  ): void {
    this.deps.db.servingLoadEvent
      .create({
        data: {
          modelId: id.modelId,
          versionId: id.versionId,
          instanceId: this.deps.instanceId,
          ...event,
        },
      })
      .catch((error: unknown) =>
        this.deps.log.warn({ err: error, model: id.model }, "could not record a load event"),
      );
  }

  /** Retires loaded versions that no alias or pin of any model refers to any more. */
  private releaseUnreferenced(): void {
    const referenced = new Set<string>(this.claims.keys());
    for (const m of this.models.values()) {
      for (const v of m.aliases.values()) referenced.add(servedKey(v.id));
      for (const v of m.pinned.values()) referenced.add(servedKey(v.id));
    }
    for (const [key, served] of this.loaded) {
      if (referenced.has(key)) continue;
      this.loaded.delete(key);
      this.deps.metrics.versionUnloaded(served.id.model, String(served.id.version));
      void served
        .retire()
        .then(() =>
          this.deps.log.info(
            { model: served.id.model, version: served.id.version },
            "version drained and released",
          ),
        );
    }
  }
}

function sameUnavailable(a: Unavailable | undefined, b: Unavailable): boolean {
  return (
    a !== undefined &&
    a.versionId === b.versionId &&
    a.state === b.state &&
    a.error === b.error &&
    a.failedAt === b.failedAt
  );
}

/** Whole seconds from now until `at`, at least 1 (a Retry-After value). */
function secondsUntil(at: number): number {
  return Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

function pinnedUnavailable(
  model: string,
  version: number,
  reason: string,
  retryAfterSeconds: number | null,
): ServingUnavailableError {
  return new ServingUnavailableError(
    `Model "${model}": version ${version} cannot be served: ${reason}` +
      (retryAfterSeconds === null ? "" : ` (it is not loaded again for ${retryAfterSeconds} s).`),
    version,
    reason,
    retryAfterSeconds,
  );
}

function describeLoadError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 2000 ? `${message.slice(0, 2000)}…` : message;
}
