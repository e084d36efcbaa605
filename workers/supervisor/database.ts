import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, realpathSync, symlinkSync } from "node:fs";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../lib/db/embedded-postgres";
import type { Logger } from "../../lib/log";

/** Where the cluster goes when the checkout sits under a directory the postgres user cannot enter. */
const FALLBACK_ROOT = "/var/lib/modeldeck";

/**
 * Starts the embedded PostgreSQL in `<dataDir>/postgres`. PostgreSQL refuses to run as root,
 * so it runs as the `postgres` OS user, which must be able to traverse every parent folder.
 * A checkout under /root (mode 700) fails that; rather than loosen /root's permissions we
 * keep the cluster under /var/lib/modeldeck/<hash of the data dir> and leave a symlink at
 * `<dataDir>/postgres`, so the data is still found from the checkout.
 */
export async function startDefaultDatabase(
  dataDir: string,
  port: number,
  log: Logger,
): Promise<EmbeddedPostgres> {
  const linkPath = path.join(dataDir, "postgres");
  const isLink = existsSync(linkPath) && lstatSync(linkPath).isSymbolicLink();
  const clusterDir = isLink ? realpathSync(linkPath) : linkPath;
  try {
    return await startEmbeddedPostgres({ dataDir: clusterDir, port, log });
  } catch (error) {
    const unreachable =
      error instanceof Error && error.message.includes("is not reachable by the OS user");
    if (!unreachable || isLink || existsSync(path.join(linkPath, "PG_VERSION"))) throw error;
    const fallback = path.join(
      FALLBACK_ROOT,
      createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 16),
      "postgres",
    );
    log.warn(
      { dataDir, cluster: fallback },
      "the data directory is not reachable by the postgres OS user; keeping the database cluster under /var/lib/modeldeck (linked from the data directory)",
    );
    mkdirSync(path.dirname(fallback), { recursive: true, mode: 0o755 });
    if (!existsSync(linkPath)) symlinkSync(fallback, linkPath);
    return startEmbeddedPostgres({ dataDir: fallback, port, log });
  }
}
