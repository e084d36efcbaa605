import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { ArtifactNotFoundError, InvalidArtifactKeyError } from "./errors";
import { artifactKeyFor, parseArtifactKey } from "./keys";
import {
  assertStagedFilePresent,
  isNotFound,
  readdirOrEmpty,
  stageToTempFile,
  StagedTempFile,
  statOrNull,
  sweepTempDir,
  type StagedFile,
} from "./staging";
import type { ArtifactStore, StageOptions, StagedArtifact, StoredArtifact } from "./types";

/** Directories: owner and group (a serving process may run as another user of the group). */
const DIR_MODE = 0o750;
/** Committed artifacts are immutable: read-only even for the owner. */
const FILE_MODE = 0o440;
const TEMP_DIR = "tmp";
const READ_HIGH_WATER_MARK = 256 * 1024;

export type LocalArtifactStoreOptions = {
  /** Directory that holds everything, normally `<MODELDECK_DATA_DIR>/artifacts`. */
  root: string;
  /**
   * fsync the file before the rename and the directory after it, so a committed artifact
   * survives a power loss (default true). Tests and benchmarks may turn it off.
   */
  durable?: boolean;
};

/**
 * Artifacts as files under `<root>/sha256/ab/cd/<hex>`. Uploads are staged in `<root>/tmp`
 * (same filesystem, so commit is one atomic rename: a reader sees the whole file or none).
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly durable: boolean;
  private readonly tempDir: string;
  private ready: Promise<void> | undefined;
  /** Temp files of stagings in this process, which a sweep must never delete. */
  private readonly active = new Set<string>();

  constructor(options: LocalArtifactStoreOptions) {
    this.root = path.resolve(options.root);
    this.durable = options.durable ?? true;
    this.tempDir = path.join(this.root, TEMP_DIR);
  }

  keyFor(sha256: string): string {
    return artifactKeyFor(sha256);
  }

  async stage(
    source: Readable | ReadableStream<Uint8Array>,
    options: StageOptions,
  ): Promise<StagedArtifact> {
    const staged = await stageToTempFile(
      source,
      options,
      async () => {
        await this.ensureDirs();
        return this.tempDir;
      },
      this.active,
    );
    return new StagedTempFile(this, staged.sha256, staged.sizeBytes, staged.tempPath);
  }

  /** The artifact's own file: readers that need a path use it in place (no copy). */
  async withLocalFile<T>(key: string, fn: (file: string) => Promise<T>): Promise<T> {
    const file = this.pathFor(key);
    const stats = await statOrNull(file);
    if (!stats?.isFile()) throw new ArtifactNotFoundError(key);
    return fn(file);
  }

  async openRead(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    const file = this.pathFor(key);
    if (range) {
      const { start, end } = range;
      const valid =
        Number.isSafeInteger(start) &&
        start >= 0 &&
        (end === undefined || (Number.isSafeInteger(end) && end >= start));
      if (!valid) throw new RangeError(`Invalid byte range ${JSON.stringify(range)}.`);
    }
    let handle: FileHandle;
    try {
      handle = await fs.open(file, "r");
    } catch (error) {
      if (isNotFound(error)) throw new ArtifactNotFoundError(key);
      throw error;
    }
    // The stream owns the handle from here (autoClose), including on destroy.
    return handle.createReadStream({
      start: range?.start,
      end: range?.end,
      highWaterMark: READ_HIGH_WATER_MARK,
    });
  }

  async exists(key: string): Promise<boolean> {
    const stats = await statOrNull(this.pathFor(key));
    return stats?.isFile() ?? false;
  }

  async sizeOf(key: string): Promise<number> {
    const stats = await statOrNull(this.pathFor(key));
    if (!stats?.isFile()) throw new ArtifactNotFoundError(key);
    return stats.size;
  }

  async remove(key: string): Promise<boolean> {
    try {
      await fs.unlink(this.pathFor(key));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async *list(): AsyncIterable<StoredArtifact> {
    const base = path.join(this.root, "sha256");
    for (const a of await readdirOrEmpty(base)) {
      for (const b of await readdirOrEmpty(path.join(base, a))) {
        for (const name of await readdirOrEmpty(path.join(base, a, b))) {
          const key = `sha256/${a}/${b}/${name}`;
          // Anything that is not a well-formed key (an editor's backup, a stray file) is
          // not an artifact and must not be handed to a garbage collector.
          if (!isValidKey(key)) continue;
          const stats = await statOrNull(path.join(base, a, b, name));
          if (stats?.isFile()) yield { key, sizeBytes: stats.size, modifiedAt: stats.mtime };
        }
      }
    }
  }

  sweepStaleTemp(olderThanMs: number): Promise<number> {
    return sweepTempDir(this.tempDir, this.active, olderThanMs);
  }

  /** Called by StagedTempFile only. */
  async commitStaged(staged: StagedFile): Promise<{ key: string; created: boolean }> {
    const key = artifactKeyFor(staged.sha256);
    const finalPath = this.pathFor(key);
    await assertStagedFilePresent(staged);
    const existing = await statOrNull(finalPath);
    // Same digest and size: same content (two models may upload the same bytes). A size
    // mismatch can only be damage from outside, so the fresh copy replaces it.
    if (existing?.isFile() && existing.size === staged.sizeBytes) {
      await this.forgetTemp(staged.tempPath);
      return { key, created: false };
    }
    if (this.durable) await fsyncPath(staged.tempPath, "r");
    await fs.chmod(staged.tempPath, FILE_MODE);
    const leafDir = path.dirname(finalPath);
    const firstCreated = await fs.mkdir(leafDir, { recursive: true, mode: DIR_MODE });
    await fs.rename(staged.tempPath, finalPath);
    this.active.delete(staged.tempPath);
    if (this.durable) {
      // The rename is durable once the leaf directory is; new directories also need their
      // own entries in their parents flushed.
      const dirs = [leafDir];
      if (firstCreated) {
        for (let dir = leafDir; dir !== path.dirname(firstCreated); dir = path.dirname(dir)) {
          dirs.push(path.dirname(dir));
        }
      }
      for (const dir of new Set(dirs)) await fsyncPath(dir, "r");
    }
    return { key, created: true };
  }

  /** Called by StagedTempFile only. */
  async forgetTemp(tempPath: string): Promise<void> {
    await fs.rm(tempPath, { force: true });
    this.active.delete(tempPath);
  }

  private pathFor(key: string): string {
    const { segments } = parseArtifactKey(key);
    const file = path.join(this.root, ...segments);
    // Belt and braces: the key grammar already rules this out.
    if (path.relative(this.root, file).startsWith("..")) throw new InvalidArtifactKeyError(key);
    return file;
  }

  private ensureDirs(): Promise<void> {
    this.ready ??= (async () => {
      await fs.mkdir(this.root, { recursive: true, mode: DIR_MODE });
      await fs.mkdir(this.tempDir, { recursive: true, mode: DIR_MODE });
      await fs.mkdir(path.join(this.root, "sha256"), { recursive: true, mode: DIR_MODE });
    })().catch((error: unknown) => {
      this.ready = undefined; // let the next call retry (e.g. after a full disk was freed)
      throw error;
    });
    return this.ready;
  }
}

async function fsyncPath(target: string, flags: string): Promise<void> {
  const handle = await fs.open(target, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isValidKey(key: string): boolean {
  try {
    parseArtifactKey(key);
    return true;
  } catch {
    return false;
  }
}
