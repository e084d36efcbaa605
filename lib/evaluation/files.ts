import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { LocalArtifactStore, parseArtifactKey, type ArtifactStore } from "../storage";

/**
 * Runs `fn` with local file paths for artifact keys: the store's own files when it is the
 * local store (no copy), otherwise temporary copies that are removed afterwards.
 */
export async function withLocalFiles<T>(
  store: ArtifactStore,
  keys: string[],
  fn: (paths: string[]) => Promise<T>,
): Promise<T> {
  if (store instanceof LocalArtifactStore) {
    return fn(keys.map((key) => path.join(store.root, ...parseArtifactKey(key).segments)));
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "modeldeck-eval-"));
  try {
    const paths: string[] = [];
    for (const [i, key] of keys.entries()) {
      const file = path.join(dir, String(i));
      await pipeline(await store.openRead(key), createWriteStream(file));
      paths.push(file);
    }
    return await fn(paths);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
