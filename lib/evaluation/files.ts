import { ArtifactIntegrityError, ArtifactNotFoundError, type ArtifactStore } from "../storage";

/**
 * Runs `fn` with local file paths for artifact keys, through the store's `withLocalFile`:
 * the local store's own files (no copy), or verified copies in a remote store's bounded
 * cache, all kept from eviction until `fn` settles. Keys listed in `optional` (derived
 * artifacts such as a dataset's binary form, which readers can do without) get a null path
 * when they are missing or damaged, instead of failing the whole read.
 */
export async function withLocalFiles<T>(
  store: ArtifactStore,
  keys: string[],
  fn: (paths: (string | null)[]) => Promise<T>,
  options: { optional?: string[] } = {},
): Promise<T> {
  const open = async (index: number, paths: (string | null)[]): Promise<T> => {
    if (index === keys.length) return fn(paths);
    const key = keys[index]!;
    if (!options.optional?.includes(key)) {
      return store.withLocalFile(key, (file) => open(index + 1, [...paths, file]));
    }
    let reached = false;
    try {
      return await store.withLocalFile(key, (file) => {
        reached = true;
        return open(index + 1, [...paths, file]);
      });
    } catch (error) {
      const unavailable =
        error instanceof ArtifactNotFoundError || error instanceof ArtifactIntegrityError;
      if (reached || !unavailable) throw error;
      return open(index + 1, [...paths, null]);
    }
  };
  return open(0, []);
}
