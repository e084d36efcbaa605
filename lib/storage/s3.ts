import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { ArtifactCache } from "./cache";
import { ArtifactNotFoundError } from "./errors";
import { artifactKeyFor, parseArtifactKey } from "./keys";
import type { S3Location } from "./location";
import {
  assertStagedFilePresent,
  stageToTempFile,
  StagedTempFile,
  sweepTempDir,
  type StagedFile,
} from "./staging";
import type { ArtifactStore, StageOptions, StagedArtifact, StoredArtifact } from "./types";

/**
 * Multipart part size and parts in flight: memory per upload stays near
 * PART_SIZE × (QUEUE_SIZE + 1) whatever the artifact's size (S3 allows 10,000 parts, so
 * 8 MiB parts cover artifacts up to 78 GiB).
 */
const PART_SIZE = 8 * 1024 ** 2;
const QUEUE_SIZE = 2;

export type S3ArtifactStoreOptions = S3Location & {
  client: S3Client;
  cache: ArtifactCache;
};

/**
 * An S3 client from the SDK's standard configuration chain: AWS_ENDPOINT_URL_S3 (or
 * AWS_ENDPOINT_URL), AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE with
 * the shared credentials file, web identity and instance roles.
 */
export function createS3Client(options: { forcePathStyle: boolean }): S3Client {
  // The project pins Node 20 and an exact SDK release; the SDK's yearly warning about
  // Node 20 would otherwise land in every process's log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Client({
    forcePathStyle: options.forcePathStyle,
    // Many S3-compatible servers (older MinIO, Ceph RGW, GCS) reject the SDK's default
    // CRC checksums; integrity is ours anyway (sha256 keys, verified on every cache fill).
    // The standard AWS_REQUEST_CHECKSUM_CALCULATION variable still wins when set.
    ...(process.env.AWS_REQUEST_CHECKSUM_CALCULATION
      ? {}
      : { requestChecksumCalculation: "WHEN_REQUIRED" as const }),
    ...(process.env.AWS_RESPONSE_CHECKSUM_VALIDATION
      ? {}
      : { responseChecksumValidation: "WHEN_REQUIRED" as const }),
  });
}

/**
 * Artifacts as objects `<prefix>/sha256/ab/cd/<hex>` in a bucket of any S3-compatible store.
 * Uploads are staged in the cache's temp directory (hash and size known before anything is
 * sent), committed by a multipart upload streamed from that file, and the staged file then
 * becomes the cache entry: the uploading process never downloads its own upload again.
 * Readers that need a file get a sha256-verified copy from the bounded cache.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  readonly cache: ArtifactCache;

  constructor(options: S3ArtifactStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.client = options.client;
    this.cache = options.cache;
  }

  keyFor(sha256: string): string {
    return artifactKeyFor(sha256);
  }

  /** The object name of an artifact key (validated). */
  objectKey(key: string): string {
    parseArtifactKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async stage(
    source: Readable | ReadableStream<Uint8Array>,
    options: StageOptions,
  ): Promise<StagedArtifact> {
    const staged = await stageToTempFile(
      source,
      options,
      () => this.cache.ensureDirs(),
      this.cache.active,
    );
    return new StagedTempFile(this, staged.sha256, staged.sizeBytes, staged.tempPath);
  }

  async openRead(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    if (range) {
      const { start, end } = range;
      const valid =
        Number.isSafeInteger(start) &&
        start >= 0 &&
        (end === undefined || (Number.isSafeInteger(end) && end >= start));
      if (!valid) throw new RangeError(`Invalid byte range ${JSON.stringify(range)}.`);
    }
    const cached = await this.cache.lookup(key);
    // Opened here, not lazily by the stream: an entry evicted since the lookup falls back
    // to the bucket instead of failing the read.
    const handle = cached ? await fs.open(cached, "r").catch(() => null) : null;
    if (handle) return handle.createReadStream({ start: range?.start, end: range?.end });
    // A download streams straight from the bucket: filling the cache first would delay the
    // first byte by the whole object, and one-off reads should not evict served models.
    return this.download(key, range);
  }

  withLocalFile<T>(key: string, fn: (file: string) => Promise<T>): Promise<T> {
    return this.cache.use(key, () => this.download(key), fn);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== null;
  }

  async sizeOf(key: string): Promise<number> {
    const size = await this.head(key);
    if (size === null) throw new ArtifactNotFoundError(key);
    return size;
  }

  async remove(key: string): Promise<boolean> {
    const existed = (await this.head(key)) !== null;
    if (existed) {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
    }
    await this.cache.remove(key);
    return existed;
  }

  async *list(): AsyncIterable<StoredArtifact> {
    const base = this.prefix ? `${this.prefix}/` : "";
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: `${base}sha256/`,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(base.length) ?? "";
        // Anything that is not a well-formed key is not an artifact and must not be handed
        // to a garbage collector.
        if (!isValidKey(key)) continue;
        yield {
          key,
          sizeBytes: object.Size ?? 0,
          modifiedAt: object.LastModified ?? new Date(0),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  sweepStaleTemp(olderThanMs: number): Promise<number> {
    return sweepTempDir(this.cache.tempDir, this.cache.active, olderThanMs);
  }

  /** Called by StagedTempFile only. */
  async commitStaged(staged: StagedFile): Promise<{ key: string; created: boolean }> {
    const key = artifactKeyFor(staged.sha256);
    await assertStagedFilePresent(staged);
    // Same digest and size: same content (two models may upload the same bytes). A size
    // mismatch can only be damage from outside, so the fresh copy replaces it.
    const existing = await this.head(key);
    if (existing !== staged.sizeBytes) await this.upload(key, staged);
    await this.cache.adopt(key, staged.tempPath);
    return { key, created: existing !== staged.sizeBytes };
  }

  /** Called by StagedTempFile only. */
  async forgetTemp(tempPath: string): Promise<void> {
    await fs.rm(tempPath, { force: true });
    this.cache.active.delete(tempPath);
  }

  private async upload(key: string, staged: StagedFile): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: createReadStream(staged.tempPath, { highWaterMark: 1024 * 1024 }),
        ContentLength: staged.sizeBytes,
        ContentType: "application/octet-stream",
        Metadata: { sha256: staged.sha256 },
      },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // The SDK aborts the multipart upload itself; again here in case its own attempt
      // failed, so that no parts are left to bill (NoSuchUpload then is the good outcome).
      const uploadId = (upload as unknown as { uploadId?: string }).uploadId;
      if (uploadId) {
        await this.client
          .send(
            new AbortMultipartUploadCommand({
              Bucket: this.bucket,
              Key: this.objectKey(key),
              UploadId: uploadId,
            }),
          )
          .catch(() => {});
      }
      throw error;
    }
  }

  private async download(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    try {
      const { Body } = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Range: range ? `bytes=${range.start}-${range.end ?? ""}` : undefined,
        }),
      );
      if (!(Body instanceof Readable)) throw new Error("The S3 client returned no stream body.");
      return Body;
    } catch (error) {
      if (isMissing(error)) throw new ArtifactNotFoundError(key);
      throw error;
    }
  }

  /** The object's size, or null when there is none. */
  private async head(key: string): Promise<number | null> {
    try {
      const result = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return result.ContentLength ?? 0;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }
}

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

function isValidKey(key: string): boolean {
  try {
    parseArtifactKey(key);
    return true;
  } catch {
    return false;
  }
}
