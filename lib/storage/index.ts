import path from "node:path";
import { getConfig, type AppConfig } from "../config";
import { ArtifactCache } from "./cache";
import { LocalArtifactStore } from "./local";
import { S3ArtifactStore, createS3Client } from "./s3";
import type { ArtifactStore } from "./types";

export * from "./errors";
export { ArtifactCache, type ArtifactCacheOptions } from "./cache";
export { artifactKeyFor, isSha256Hex, parseArtifactKey } from "./keys";
export { LocalArtifactStore, type LocalArtifactStoreOptions } from "./local";
export { parseS3Url, type S3Location } from "./location";
export { S3ArtifactStore, createS3Client, type S3ArtifactStoreOptions } from "./s3";
export type { ArtifactStore, StageOptions, StagedArtifact, StoredArtifact } from "./types";

/**
 * The store every process uses, chosen by MODELDECK_ARTIFACT_STORE: a directory (default
 * `<data dir>/artifacts`) or `s3://bucket/prefix` with a bounded local cache.
 */
export function createArtifactStore(
  config: Pick<AppConfig, "dataDir"> & Partial<Pick<AppConfig, "artifacts">>,
): ArtifactStore {
  const artifacts = config.artifacts;
  if (artifacts?.store.kind === "s3") {
    return new S3ArtifactStore({
      bucket: artifacts.store.bucket,
      prefix: artifacts.store.prefix,
      client: createS3Client({ forcePathStyle: artifacts.store.forcePathStyle }),
      cache: new ArtifactCache({ dir: artifacts.cacheDir, maxBytes: artifacts.cacheMaxBytes }),
    });
  }
  return new LocalArtifactStore({
    root: artifacts?.store.root ?? path.join(config.dataDir, "artifacts"),
  });
}

/**
 * Temp files older than this at start-up were left by a crashed process: a live upload or
 * cache fill rewrites its file continuously, and staged files wait for seconds, not hours.
 */
const STALE_TEMP_AT_START_MS = 6 * 3600_000;

let cached: ArtifactStore | undefined;
export function getArtifactStore(): ArtifactStore {
  if (!cached) {
    cached = createArtifactStore(getConfig());
    // Best effort and off the caller's path: a sweep that fails is retried next start.
    void cached.sweepStaleTemp(STALE_TEMP_AT_START_MS).catch(() => {});
  }
  return cached;
}
