import type { Readable } from "node:stream";

export type StageOptions = {
  /** Hard limit on the artifact's size; one byte more aborts with `ArtifactTooLargeError`. */
  maxBytes: number;
  /** Aborts staging (e.g. the client went away); the partial file is deleted. */
  signal?: AbortSignal;
};

/**
 * Bytes that are fully received and hashed but not yet part of the store. The caller
 * validates them (`tempPath` is a local file it may read), then either commits or discards.
 */
export type StagedArtifact = {
  readonly sha256: string;
  readonly sizeBytes: number;
  /** A local file holding exactly these bytes until commit or discard; read it, never move it. */
  readonly tempPath: string;
  /**
   * Makes the bytes durable under `keyFor(sha256)`. Same content already stored → the
   * staged copy is dropped and `created` is false. Calling it again returns the same result.
   */
  commit(): Promise<{ key: string; created: boolean }>;
  /** Deletes the staged copy. Idempotent, and a no-op after commit. */
  discard(): Promise<void>;
};

export type StoredArtifact = { key: string; sizeBytes: number; modifiedAt: Date };

/**
 * Content-addressed artifact storage. Kept small so that an S3-compatible implementation
 * can follow: stage to a local temp file (hash and size known before anything is
 * published), `commit` = upload + make visible, reads as streams, keys from digests only.
 */
export interface ArtifactStore {
  /** The key an artifact with this sha256 has (or would have); validates the digest. */
  keyFor(sha256: string): string;
  stage(
    source: Readable | ReadableStream<Uint8Array>,
    options: StageOptions,
  ): Promise<StagedArtifact>;
  /** Streams the artifact, optionally a byte range (inclusive `end`, as in HTTP Range). */
  openRead(key: string, range?: { start: number; end?: number }): Promise<Readable>;
  /**
   * Runs `fn` with a local file holding the artifact, for readers that need a path
   * (onnxruntime, evaluation/batch/training children, CSV parsers). The local store passes
   * its own file; a remote store a verified file in its bounded cache, kept from eviction
   * in this process until `fn` settles. Read the file, never write, move or delete it.
   */
  withLocalFile<T>(key: string, fn: (file: string) => Promise<T>): Promise<T>;
  exists(key: string): Promise<boolean>;
  sizeOf(key: string): Promise<number>;
  /** For garbage collection only: artifacts are immutable and may be shared by versions. */
  remove(key: string): Promise<boolean>;
  /** Every committed artifact, for garbage collection (orphans after a crash between
   * commit and the database insert). */
  list(): AsyncIterable<StoredArtifact>;
  /** Deletes temp files left by a crash; returns how many were removed. */
  sweepStaleTemp(olderThanMs: number): Promise<number>;
}
