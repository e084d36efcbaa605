/**
 * Copies the local artifact store into an S3-compatible bucket and verifies every hash:
 *
 *   npm run artifacts:copy-to-store -- --to s3://bucket/prefix [--from ./data/artifacts]
 *
 * The source defaults to the configured local store (MODELDECK_ARTIFACT_STORE unset or a
 * directory, else <MODELDECK_DATA_DIR>/artifacts). Endpoint, region and credentials come
 * from the standard AWS variables; MODELDECK_S3_FORCE_PATH_STYLE=true for MinIO and Ceph.
 * Exits 1 when any artifact does not verify, 2 on a usage error.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../lib/config";
import {
  ArtifactCache,
  LocalArtifactStore,
  S3ArtifactStore,
  createS3Client,
  parseS3Url,
} from "../lib/storage";
import { copyArtifactsToBucket } from "../lib/storage/copy";

const usage = "usage: npm run artifacts:copy-to-store -- --to s3://bucket/prefix [--from <dir>]";

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { to: { type: "string" }, from: { type: "string" } },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (!args.to) {
    process.stderr.write(`--to is required.\n${usage}\n`);
    return 2;
  }
  const location = parseS3Url(args.to);
  if (!location) {
    process.stderr.write(`--to must be s3://bucket/prefix (got ${args.to}).\n${usage}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const fromDir = args.from
    ? path.resolve(args.from)
    : config.artifacts.store.kind === "local"
      ? config.artifacts.store.root
      : path.join(config.dataDir, "artifacts");
  const forcePathStyle =
    config.artifacts.store.kind === "s3"
      ? config.artifacts.store.forcePathStyle
      : ["1", "true"].includes(process.env.MODELDECK_S3_FORCE_PATH_STYLE ?? "");
  const source = new LocalArtifactStore({ root: fromDir });
  const target = new S3ArtifactStore({
    ...location,
    client: createS3Client({ forcePathStyle }),
    cache: new ArtifactCache({
      dir: config.artifacts.cacheDir,
      maxBytes: config.artifacts.cacheMaxBytes,
    }),
  });
  process.stdout.write(`Copying ${fromDir} to ${args.to}\n`);
  const report = await copyArtifactsToBucket(source, target, (line) =>
    process.stdout.write(`${line}\n`),
  );
  process.stdout.write(
    `artifacts: ${report.total}, copied: ${report.copied}, already there: ${report.skipped}, ` +
      `verified: ${report.verified}, mismatches: ${report.mismatches.length}\n`,
  );
  return report.mismatches.length === 0 && report.verified === report.total ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
