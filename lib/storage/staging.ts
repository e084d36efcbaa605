import { createHash, randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import {
  ArtifactStageAbortedError,
  ArtifactTooLargeError,
  StagedArtifactStateError,
} from "./errors";
import type { StageOptions, StagedArtifact } from "./types";

/**
 * Staging shared by every store: the bytes go to a local temp file while they are hashed
 * and counted, so a store only has to decide what `commit` does with a validated file.
 */

/** A partial upload is nobody else's business. */
export const TEMP_MODE = 0o600;
export const TEMP_SUFFIX = ".partial";
/**
 * Bytes the file sink buffers before it pushes back on its source. Large enough that
 * `writev` batches many socket-sized chunks into one syscall, small enough to be noise
 * next to the process's baseline.
 */
const SINK_HIGH_WATER_MARK = 256 * 1024;

export type StagedFile = { sha256: string; sizeBytes: number; tempPath: string };

/** A fresh, never reused temp file name in `tempDir`. */
export function tempFileName(tempDir: string): string {
  return path.join(tempDir, `${Date.now()}-${randomBytes(12).toString("hex")}${TEMP_SUFFIX}`);
}

/**
 * Writes `source` to a new temp file in `tempDir` (which must exist), hashing and counting.
 * The file is in `active` from creation until the caller forgets it; on any failure it is
 * deleted and the error thrown (`ArtifactTooLargeError`, `ArtifactStageAbortedError` on the
 * signal, else the source's or the disk's own error).
 */
export async function stageToTempFile(
  source: Readable | ReadableStream<Uint8Array>,
  { maxBytes, signal }: StageOptions,
  tempDir: () => Promise<string>,
  active: Set<string>,
): Promise<StagedFile> {
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
  let tempPath: string;
  let handle: FileHandle;
  try {
    tempPath = tempFileName(await tempDir());
    // Open it ourselves ("wx": never reuse a name) so that the file exists, and is ours
    // to delete, before a single byte can fail: no race with a lazily opening stream.
    // turbopackIgnore: a runtime temp file, not a file of the build (else the Next build
    // traces the whole project).
    handle = await fs.open(/*turbopackIgnore: true*/ tempPath, "wx", TEMP_MODE);
  } catch (error) {
    input.destroy(); // staging owns the source: do not leave it paused forever
    throw error;
  }
  active.add(tempPath);
  const sink = new HashingFileSink(handle, maxBytes);
  try {
    await pipeline(input, sink, signal ? { signal } : {});
    await handle.close();
  } catch (error) {
    // close() waits for a write still in flight; unlinking first would be fine on Linux,
    // but closing first keeps the fd count honest under many aborted uploads.
    await handle.close().catch(() => {});
    await fs.rm(tempPath, { force: true });
    active.delete(tempPath);
    if (error instanceof ArtifactTooLargeError) throw error;
    if (signal?.aborted) {
      throw new ArtifactStageAbortedError("Staging was aborted.", { cause: signal.reason });
    }
    // The source's own error (client went away, parser error) or the disk's (ENOSPC):
    // both mean more to the caller unchanged than wrapped.
    throw error;
  }
  return { sha256: sink.digest(), sizeBytes: sink.bytes, tempPath };
}

/**
 * Deletes `*.partial` files in `tempDir` older than `olderThanMs` that are not in `active`;
 * returns how many. Age is judged by mtime, which a live upload keeps fresh; a staged file
 * waiting for validation is protected in this process by `active`, in others by a generous age.
 */
export async function sweepTempDir(
  tempDir: string,
  active: Set<string>,
  olderThanMs: number,
): Promise<number> {
  if (!(Number.isFinite(olderThanMs) && olderThanMs >= 0)) {
    throw new RangeError(`olderThanMs must be a non-negative number (got ${olderThanMs}).`);
  }
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  for (const name of await readdirOrEmpty(tempDir)) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    const file = path.join(tempDir, name);
    if (active.has(file)) continue;
    const stats = await fs.lstat(file).catch(() => null);
    if (!stats?.isFile() || stats.mtimeMs >= cutoff) continue;
    await fs.rm(file, { force: true });
    removed += 1;
  }
  return removed;
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

export function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

export async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await fs.stat(file);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

type CommitResult = { key: string; created: boolean };

/** A commit's first step in every store: the staged file must still be there. */
export async function assertStagedFilePresent(staged: StagedFile): Promise<void> {
  const stats = await statOrNull(staged.tempPath);
  if (!stats?.isFile()) {
    throw new StagedArtifactStateError(
      `The staged file ${staged.tempPath} is gone (swept as stale?); upload again.`,
    );
  }
}

/** What a store does with a staged temp file: keep it under its digest, or drop it. */
export type StagedFileOwner = {
  commitStaged(staged: StagedFile): Promise<CommitResult>;
  forgetTemp(tempPath: string): Promise<void>;
};

/**
 * A staged temp file waiting for `commit` or `discard`, for any store: commit at most once
 * (concurrent calls share it; a failed one may be retried), discard after a commit is a no-op,
 * commit after a discard refuses.
 */
export class StagedTempFile implements StagedArtifact, StagedFile {
  private state: "staged" | "committed" | "discarded" = "staged";
  private committing: Promise<CommitResult> | undefined;

  constructor(
    private readonly owner: StagedFileOwner,
    readonly sha256: string,
    readonly sizeBytes: number,
    readonly tempPath: string,
  ) {}

  commit(): Promise<CommitResult> {
    if (this.state === "discarded") {
      return Promise.reject(new StagedArtifactStateError("This staged artifact was discarded."));
    }
    this.committing ??= this.owner.commitStaged(this).then(
      (result) => {
        this.state = "committed";
        return result;
      },
      (error: unknown) => {
        this.committing = undefined; // a failed commit (disk full, upload failed) may be retried or discarded
        throw error;
      },
    );
    return this.committing;
  }

  async discard(): Promise<void> {
    if (this.committing) await this.committing.catch(() => {});
    if (this.state !== "staged") return;
    this.state = "discarded";
    await this.owner.forgetTemp(this.tempPath);
  }
}
