import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ArtifactIntegrityError } from "./errors";
import { parseArtifactKey } from "./keys";
import { TEMP_MODE, readdirOrEmpty, statOrNull, sweepTempDir, tempFileName } from "./staging";

const DIR_MODE = 0o750;
const FILE_MODE = 0o440;
/**
 * Another process sharing the directory may have just handed an entry to a child that has
 * not opened it yet; entries used this recently are never evicted by anyone.
 */
const RECENT_USE_GRACE_MS = 60_000;

export type ArtifactCacheOptions = {
  /** e.g. `<MODELDECK_DATA_DIR>/artifact-cache`; may be shared by several processes. */
  dir: string;
  /** Eviction target: least recently used entries go once the total exceeds it. */
  maxBytes: number;
};

/**
 * A bounded local copy of remote artifacts, laid out like the keys
 * (`<dir>/sha256/ab/cd/<hex>`), temp files in `<dir>/tmp`. An entry appears only by rename
 * of a file whose sha256 was checked against its key, so a reader sees a whole verified file
 * or none, whichever process filled it. Use is recorded in the mtime (least recently used
 * goes first); entries in use in this process are pinned.
 */
export class ArtifactCache {
  readonly dir: string;
  readonly tempDir: string;
  readonly maxBytes: number;
  /** Temp files of fills and stagings in this process, which a sweep must never delete. */
  readonly active = new Set<string>();
  private readonly pins = new Map<string, number>();
  private readonly filling = new Map<string, Promise<string>>();
  private ready: Promise<void> | undefined;
  private evicting: Promise<void> | undefined;

  constructor(options: ArtifactCacheOptions) {
    this.dir = path.resolve(options.dir);
    this.tempDir = path.join(this.dir, "tmp");
    this.maxBytes = options.maxBytes;
  }

  pathFor(key: string): string {
    return path.join(this.dir, ...parseArtifactKey(key).segments);
  }

  async ensureDirs(): Promise<string> {
    this.ready ??= (async () => {
      await fs.mkdir(this.tempDir, { recursive: true, mode: DIR_MODE });
      await fs.mkdir(path.join(this.dir, "sha256"), { recursive: true, mode: DIR_MODE });
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
    return this.tempDir;
  }

  /** The cached file if present (and marks it used), else null. */
  async lookup(key: string): Promise<string | null> {
    const file = this.pathFor(key);
    const stats = await statOrNull(file);
    if (!stats?.isFile()) return null;
    await touch(file);
    return file;
  }

  /**
   * Runs `fn` with the entry's path, filling it first with `download` when missing (one
   * download per key in this process however many ask at once), pinned meanwhile.
   */
  async use<T>(
    key: string,
    download: () => Promise<Readable>,
    fn: (file: string) => Promise<T>,
  ): Promise<T> {
    this.pin(key);
    try {
      const file = (await this.lookup(key)) ?? (await this.fill(key, download));
      return await fn(file);
    } finally {
      this.unpin(key);
    }
  }

  /** Moves a file with exactly the key's bytes (a committed staging) into the cache. */
  async adopt(key: string, tempPath: string): Promise<void> {
    const file = this.pathFor(key);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: DIR_MODE });
    await fs.chmod(tempPath, FILE_MODE);
    await fs.rename(tempPath, file);
    this.active.delete(tempPath);
    await this.evict();
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.pathFor(key), { force: true });
  }

  sweepStaleTemp(olderThanMs: number): Promise<number> {
    return sweepTempDir(this.tempDir, this.active, olderThanMs);
  }

  /** Total bytes of the entries on disk (all processes'). */
  async sizeBytes(): Promise<number> {
    let total = 0;
    for (const entry of await this.entries()) total += entry.size;
    return total;
  }

  private fill(key: string, download: () => Promise<Readable>): Promise<string> {
    let promise = this.filling.get(key);
    if (!promise) {
      promise = this.fillOnce(key, download).finally(() => this.filling.delete(key));
      this.filling.set(key, promise);
    }
    return promise;
  }

  private async fillOnce(key: string, download: () => Promise<Readable>): Promise<string> {
    const { sha256 } = parseArtifactKey(key);
    const tempPath = tempFileName(await this.ensureDirs());
    this.active.add(tempPath);
    try {
      const hash = createHash("sha256");
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      await pipeline(
        await download(),
        hashing,
        createWriteStream(tempPath, { flags: "wx", mode: TEMP_MODE }),
      );
      const actual = hash.digest("hex");
      if (actual !== sha256) throw new ArtifactIntegrityError(key, actual);
      // Another process may fill the same key at the same time: both renames put identical
      // verified bytes in place, and a reader holding either file keeps it.
      await this.adopt(key, tempPath);
      return this.pathFor(key);
    } finally {
      if (this.active.delete(tempPath)) await fs.rm(tempPath, { force: true });
    }
  }

  private pin(key: string) {
    this.pins.set(key, (this.pins.get(key) ?? 0) + 1);
  }

  private unpin(key: string) {
    const n = (this.pins.get(key) ?? 1) - 1;
    if (n <= 0) this.pins.delete(key);
    else this.pins.set(key, n);
  }

  /** Least recently used first, until the total fits; one pass at a time per process. */
  private evict(): Promise<void> {
    this.evicting ??= this.evictOnce().finally(() => (this.evicting = undefined));
    return this.evicting;
  }

  private async evictOnce(): Promise<void> {
    const entries = await this.entries();
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    if (total <= this.maxBytes) return;
    const graceCutoff = Date.now() - RECENT_USE_GRACE_MS;
    entries.sort((a, b) => a.usedAt - b.usedAt);
    for (const entry of entries) {
      if (total <= this.maxBytes) break;
      if (this.pins.has(entry.key) || entry.usedAt >= graceCutoff) continue;
      await fs.rm(entry.file, { force: true });
      total -= entry.size;
    }
  }

  private async entries(): Promise<{ key: string; file: string; size: number; usedAt: number }[]> {
    const base = path.join(this.dir, "sha256");
    const found = [];
    for (const a of await readdirOrEmpty(base)) {
      for (const b of await readdirOrEmpty(path.join(base, a))) {
        for (const name of await readdirOrEmpty(path.join(base, a, b))) {
          const file = path.join(base, a, b, name);
          const stats = await statOrNull(file);
          if (stats?.isFile()) {
            found.push({
              key: `sha256/${a}/${b}/${name}`,
              file,
              size: stats.size,
              usedAt: stats.mtimeMs,
            });
          }
        }
      }
    }
    return found;
  }
}

/** Marks use; the file is read-only, which does not stop its owner from setting times. */
async function touch(file: string): Promise<void> {
  const now = new Date();
  await fs.utimes(file, now, now).catch(() => {});
}
