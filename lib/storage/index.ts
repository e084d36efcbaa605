import path from "node:path";
import { getConfig, type AppConfig } from "../config";
import { LocalArtifactStore } from "./local";
import type { ArtifactStore } from "./types";

export * from "./errors";
export { artifactKeyFor, isSha256Hex, parseArtifactKey } from "./keys";
export { LocalArtifactStore, type LocalArtifactStoreOptions } from "./local";
export type { ArtifactStore, StageOptions, StagedArtifact, StoredArtifact } from "./types";

/** The store every process uses; an S3-compatible one would be chosen here by config. */
export function createArtifactStore(config: Pick<AppConfig, "dataDir">): ArtifactStore {
  return new LocalArtifactStore({ root: path.join(config.dataDir, "artifacts") });
}

let cached: ArtifactStore | undefined;
export function getArtifactStore(): ArtifactStore {
  cached ??= createArtifactStore(getConfig());
  return cached;
}
