import type { PrismaClient } from "../db/generated/client";
import type { Logger } from "../log";
import type { OnnxSignature } from "../onnx/types";
import type { ArtifactStore } from "../storage/types";
import type { ServingMetrics } from "./metrics";
import { ServedVersion, type SessionOptions, type VersionIdentity } from "./served-version";

type ModelTask = VersionIdentity["task"];
import { effectiveServingSettings, type ServingSettings } from "./settings";

/**
 * Which loaded version answers a request. The registry (Postgres) is the truth; this process
 * keeps a warmed session for every version an alias points at, and swaps an alias only after
 * the new version has loaded and answered a warm-up request. A version that fails to load
 * leaves the alias where it was (the failure is recorded for the model page). Requests that
 * name a version number load it on first use and keep it while it is used.
 *
 * Everything here survives the database going away: reconciles fail and are retried, and the
 * sessions already held keep answering.
 */
export const DEFAULT_ALIAS = "production";
/** Explicit (non-aliased) versions kept per model, least recently used evicted first. */
const MAX_PINNED_PER_MODEL = 4;
/** A version that failed to load is not retried by the periodic reconcile for this long. */
const FAILED_RETRY_MS = 60_000;

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
} as const;

type VersionRow = {
  id: string;
  version: number;
  sha256: string;
  storageKey: string;
  signature: unknown;
  status: string;
};

type ModelState = {
  id: string;
  name: string;
  task: ModelTask;
  settings: ServingSettings;
  aliases: Map<string, ServedVersion>;
  pinned: Map<number, ServedVersion>;
};

export type ServedSnapshot = {
  model: string;
  aliases: Record<string, number>;
  versions: Array<{ version: number; loadedAt: string; loadMs: number; batchable: boolean }>;
};

export type RouterDeps = {
  db: PrismaClient;
  store: ArtifactStore;
  log: Logger;
  metrics: ServingMetrics;
  instanceId: string;
  sessionOptions?: SessionOptions;
  /** Called after what is served changed (an alias switched, a version was released). */
  onServedChange?: () => void;
};

export class ModelRouter {
  private models = new Map<string, ModelState>();
  /** Loaded sessions by version id (several aliases may share one). */
  private loaded = new Map<string, ServedVersion>();
  private loading = new Map<string, Promise<ServedVersion>>();
  private failed = new Map<string, { at: number; message: string }>();
  private chains = new Map<string, Promise<void>>();
  /** Versions loaded by a reconcile that has not switched its aliases yet: not to release. */
  private claims = new Map<string, number>();
  private everReconciled = false;

  constructor(private readonly deps: RouterDeps) {}

  /** True once the first full reconcile succeeded (what readiness reports). */
  get ready(): boolean {
    return this.everReconciled;
  }

  /**
   * The loaded version for a request, held for the caller (call `release()` when done).
   * Aliases resolve synchronously from memory; a version number may load on first use.
   */
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
      if (!served || !served.acquire()) {
        const known = [...state.aliases.keys()];
        throw new ServingNotFoundError(
          `Model "${model}" has no alias "${selector.alias}"` +
            (known.length ? ` (it has ${known.map((a) => `"${a}"`).join(", ")}).` : "."),
        );
      }
      return served;
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

  /** Model names with their served aliases, for `/v2/health/ready` and metadata. */
  snapshot(): ServedSnapshot[] {
    return [...this.models.values()].map((m) => {
      const versions = new Map<number, ServedVersion>();
      for (const v of [...m.aliases.values(), ...m.pinned.values()]) versions.set(v.id.version, v);
      return {
        model: m.name,
        aliases: Object.fromEntries([...m.aliases].map(([a, v]) => [a, v.id.version])),
        versions: [...versions.values()].map((v) => ({
          version: v.id.version,
          loadedAt: v.loadedAt.toISOString(),
          loadMs: Math.round(v.loadMs * 10) / 10,
          batchable: v.batchable,
        })),
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
    void next.finally(() => {
      if (this.chains.get(name) === next) this.chains.delete(name);
    });
    return next;
  }

  /** Stops serving everything (shutdown): waits for in-flight requests, frees sessions. */
  async close(): Promise<void> {
    const all = [...this.loaded.values()];
    this.models.clear();
    this.loaded.clear();
    await Promise.all(all.map((v) => v.retire()));
    for (const v of all) this.deps.metrics.versionUnloaded(v.id.model, String(v.id.version));
  }

  private async reconcileNow(name: string, force: boolean): Promise<void> {
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
      pinned: new Map(),
    };
    state.settings = settings;
    state.task = row.task;
    const nextAliases = new Map<string, ServedVersion>();
    const claimed: string[] = [];
    await Promise.all(
      row.aliases.map(async (alias) => {
        const current = state.aliases.get(alias.name);
        if (current && current.id.versionId === alias.version.id) {
          nextAliases.set(alias.name, current);
          return;
        }
        const failure = this.failed.get(alias.version.id);
        if (!force && failure && Date.now() - failure.at < FAILED_RETRY_MS) {
          if (current) nextAliases.set(alias.name, current);
          return;
        }
        try {
          const served = await this.load(row.id, row.name, row.task, alias.version, settings);
          this.claim(served.id.versionId, +1);
          claimed.push(served.id.versionId);
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
        }
      }),
    );
    // The switch: one synchronous assignment, so a request sees the old map or the new one.
    const changed =
      nextAliases.size !== state.aliases.size ||
      [...nextAliases].some(([alias, v]) => state.aliases.get(alias) !== v);
    state.aliases = nextAliases;
    for (const v of [...nextAliases.values(), ...state.pinned.values()]) v.updateSettings(settings);
    this.models.set(name, state);
    for (const versionId of claimed) this.claim(versionId, -1);
    this.releaseUnreferenced();
    if (changed) this.deps.onServedChange?.();
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
    const served = await this.load(state.id, state.name, state.task, row, state.settings);
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
    const existing = this.loaded.get(row.id);
    if (existing && !existing.isRetired) return Promise.resolve(existing);
    const inFlight = this.loading.get(row.id);
    if (inFlight) return inFlight;
    const id: VersionIdentity = {
      modelId,
      model,
      task,
      versionId: row.id,
      version: row.version,
      sha256: row.sha256,
    };
    const promise = this.loadFresh(id, row, settings).finally(() => this.loading.delete(row.id));
    this.loading.set(row.id, promise);
    return promise;
  }

  private async loadFresh(
    id: VersionIdentity,
    row: VersionRow,
    settings: ServingSettings,
  ): Promise<ServedVersion> {
    const started = performance.now();
    const labels = [id.model, String(id.version)] as const;
    try {
      const bytes = await readAll(await this.deps.store.openRead(row.storageKey));
      const served = await ServedVersion.load(
        id,
        row.signature as OnnxSignature,
        bytes,
        settings,
        this.deps.sessionOptions,
      );
      this.loaded.set(id.versionId, served);
      this.failed.delete(id.versionId);
      this.deps.metrics.loadedModels.set({ model: labels[0], version: labels[1] }, 1);
      const durationMs = Math.round(performance.now() - started);
      this.deps.log.info({ model: id.model, version: id.version, durationMs }, "version loaded");
      this.recordLoadEvent(id, "loaded", null, durationMs);
      return served;
    } catch (error) {
      const message = describeLoadError(error);
      this.failed.set(id.versionId, { at: Date.now(), message });
      this.deps.metrics.loadFailures.inc({ model: labels[0], version: labels[1] });
      this.deps.log.error(
        { model: id.model, version: id.version, err: error },
        "version failed to load; the previous version keeps serving",
      );
      this.recordLoadEvent(id, "failed", message, Math.round(performance.now() - started));
      throw error;
    }
  }

  private recordLoadEvent(
    id: VersionIdentity,
    status: "loaded" | "failed",
    message: string | null,
    durationMs: number,
  ): void {
    this.deps.db.servingLoadEvent
      .create({
        data: {
          modelId: id.modelId,
          versionId: id.versionId,
          instanceId: this.deps.instanceId,
          status,
          message,
          durationMs,
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
      for (const v of m.aliases.values()) referenced.add(v.id.versionId);
      for (const v of m.pinned.values()) referenced.add(v.id.versionId);
    }
    for (const [versionId, served] of this.loaded) {
      if (referenced.has(versionId)) continue;
      this.loaded.delete(versionId);
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

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function describeLoadError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 2000 ? `${message.slice(0, 2000)}…` : message;
}
