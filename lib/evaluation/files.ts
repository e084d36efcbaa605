import type { ArtifactStore } from "../storage";

/**
 * Runs `fn` with local file paths for artifact keys, through the store's `withLocalFile`:
 * the local store's own files (no copy), or verified copies in a remote store's bounded
 * cache, all kept from eviction until `fn` settles.
 */
export async function withLocalFiles<T>(
  store: ArtifactStore,
  keys: string[],
  fn: (paths: string[]) => Promise<T>,
): Promise<T> {
  const open = (index: number, paths: string[]): Promise<T> =>
    index === keys.length
      ? fn(paths)
      : store.withLocalFile(keys[index]!, (file) => open(index + 1, [...paths, file]));
  return open(0, []);
}
