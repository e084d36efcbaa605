import { createHash, randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import {
  ArtifactNotFoundError,
  ArtifactStageAbortedError,
  ArtifactTooLargeError,
  InvalidArtifactKeyError,
  StagedArtifactStateError,
} from "./errors";
import { artifactKeyFor, parseArtifactKey } from "./keys";
import type { ArtifactStore, StageOptions, StagedArtifact, StoredArtifact } from "./types";

/** Directories: owner and group (a serving process may run as another user of the group). */
const DIR_MODE = 0o750;
/** A partial upload is nobody else's business. */
const TEMP_MODE = 0o600;
/** Committed artifacts are immutable: read-only even for the owner. */
const FILE_MODE = 0o440;
const TEMP_DIR = "tmp";
const TEMP_SUFFIX = ".partial";
/**
 * Bytes the file sink buffers before it pushes back on its source. Large enough that
 * `writev` batches many socket-sized chunks into one syscall, small enough to be noise
 * next to the process's baseline.
 */
const SINK_HIGH_WATER_MARK = 256 * 1024;
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
    { maxBytes, signal }: StageOptions,
  ): Promise<StagedArtifact> {
    if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
      throw new RangeError(`maxBytes must be a non-negative integer (got ${maxBytes}).`);
    }
    const input =
      source instanceof Readable
        ? source
        : Readable.fromWeb(source as NodeWebReadableStream<Uint8Array>);
    if (signal?.aborted) {
      input.destroy();
      throw new ArtifactStageAbortedError("Staging was aborted before it started.", {
        cause: signal.reason,
      });
    }
    const tempPath = path.join(
      this.tempDir,
      `${Date.now()}-${randomBytes(12).toString("hex")}${TEMP_SUFFIX}`,
    );
    let handle: FileHandle;
    try {
      await this.ensureDirs();
      // Open it ourselves ("wx": never reuse a name) so that the file exists, and is ours
      // to delete, before a single byte can fail: no race with a lazily opening stream.
      handle = await fs.open(tempPath, "wx", TEMP_MODE);
    } catch (error) {
      input.destroy(); // stage() owns the source: do not leave it paused forever
      throw error;
    }
    this.active.add(tempPath);
    const sink = new HashingFileSink(handle, maxBytes);
    try {
      await pipeline(input, sink, signal ? { signal } : {});
      await handle.close();
    } catch (error) {
      // close() waits for a write still in flight; unlinking first would be fine on Linux,
      // but closing first keeps the fd count honest under many aborted uploads.
      await handle.close().catch(() => {});
      await fs.rm(tempPath, { force: true });
      this.active.delete(tempPath);
      if (error instanceof ArtifactTooLargeError) throw error;
      if (signal?.aborted) {
        throw new ArtifactStageAbortedError("Staging was aborted.", { cause: signal.reason });
      }
      // The source's own error (client went away, parser error) or the disk's (ENOSPC):
      // both mean more to the caller unchanged than wrapped.
      throw error;
    }
    return new LocalStagedArtifact(this, sink.digest(), sink.bytes, tempPath);
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

  async sweepStaleTemp(olderThanMs: number): Promise<number> {
    if (!(Number.isFinite(olderThanMs) && olderThanMs >= 0)) {
      throw new RangeError(`olderThanMs must be a non-negative number (got ${olderThanMs}).`);
    }
    // Age is judged by mtime, which a live upload keeps fresh; a staged file waiting for
    // validation is protected in this process by `active`, in others by a generous age.
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of await readdirOrEmpty(this.tempDir)) {
      if (!name.endsWith(TEMP_SUFFIX)) continue;
      const file = path.join(this.tempDir, name);
      if (this.active.has(file)) continue;
      const stats = await fs.lstat(file).catch(() => null);
      if (!stats?.isFile() || stats.mtimeMs >= cutoff) continue;
      await fs.rm(file, { force: true });
      removed += 1;
    }
    return removed;
  }

  /** Called by LocalStagedArtifact only. */
  async commitStaged(staged: LocalStagedArtifact): Promise<{ key: string; created: boolean }> {
    const key = artifactKeyFor(staged.sha256);
    const finalPath = this.pathFor(key);
    const tempStats = await statOrNull(staged.tempPath);
    if (!tempStats?.isFile()) {
      throw new StagedArtifactStateError(
        `The staged file ${staged.tempPath} is gone (swept as stale?); upload again.`,
      );
    }
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

  /** Called by LocalStagedArtifact only. */
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

type CommitResult = { key: string; created: boolean };

class LocalStagedArtifact implements StagedArtifact {
  private state: "staged" | "committed" | "discarded" = "staged";
  private committing: Promise<CommitResult> | undefined;

  constructor(
    private readonly store: LocalArtifactStore,
    readonly sha256: string,
    readonly sizeBytes: number,
    readonly tempPath: string,
  ) {}

  commit(): Promise<CommitResult> {
    if (this.state === "discarded") {
      return Promise.reject(new StagedArtifactStateError("This staged artifact was discarded."));
    }
    this.committing ??= this.store.commitStaged(this).then(
      (result) => {
        this.state = "committed";
        return result;
      },
      (error: unknown) => {
        this.committing = undefined; // a failed commit (disk full) may be retried or discarded
        throw error;
      },
    );
    return this.committing;
  }

  async discard(): Promise<void> {
    if (this.committing) await this.committing.catch(() => {});
    if (this.state !== "staged") return;
    this.state = "discarded";
    await this.store.forgetTemp(this.tempPath);
  }
}

/** Hashes, counts and writes in one stage; pushes back through `highWaterMark`. */
class HashingFileSink extends Writable {
  bytes = 0;
  private readonly hash = createHash("sha256");

  constructor(
    private readonly handle: FileHandle,
    private readonly maxBytes: number,
  ) {
    super({ highWaterMark: SINK_HIGH_WATER_MARK });
  }

  digest(): string {
    return this.hash.digest("hex");
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (e?: Error) => void) {
    this.accept([chunk]).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (e?: Error) => void) {
    this.accept(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  private async accept(buffers: Buffer[]): Promise<void> {
    let size = 0;
    for (const b of buffers) size += b.length;
    // Checked before writing: not one byte past the limit reaches the disk.
    if (this.bytes + size > this.maxBytes) throw new ArtifactTooLargeError(this.maxBytes);
    this.bytes += size;
    // The write runs on libuv's thread pool; hashing meanwhile on this thread overlaps the
    // two instead of paying for them one after the other. Neither mutates the buffers.
    const writing = writeAll(this.handle, buffers);
    try {
      for (const b of buffers) this.hash.update(b);
    } finally {
      await writing;
    }
  }
}

/** write/writev may write less than asked (rarely, for files); loop until all is written. */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  while (pending.length > 0) {
    const { bytesWritten } =
      pending.length === 1 ? await handle.write(pending[0]!) : await handle.writev(pending);
    let skip = bytesWritten;
    while (pending.length > 0 && skip >= pending[0]!.length) {
      skip -= pending[0]!.length;
      pending = pending.slice(1);
    }
    if (skip > 0) pending = [pending[0]!.subarray(skip), ...pending.slice(1)];
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

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await fs.stat(file);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
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
