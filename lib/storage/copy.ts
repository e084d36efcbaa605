import { createHash } from "node:crypto";
import { ArtifactIntegrityError } from "./errors";
import { parseArtifactKey } from "./keys";
import type { S3ArtifactStore } from "./s3";
import type { ArtifactStore } from "./types";

export type CopyToBucketReport = {
  /** Artifacts in the source store. */
  total: number;
  copied: number;
  /** Already in the bucket with the right size: not sent again (still verified). */
  skipped: number;
  /** Read back from the bucket with the sha256 their key names. */
  verified: number;
  /** Keys whose bytes (in the source or read back from the bucket) do not match. */
  mismatches: string[];
};

/**
 * Copies every artifact of `source` (today's local directory) into the bucket behind
 * `target`, then reads each one back from the bucket and checks its sha256 against its key.
 * Safe to run again: objects already there with the right size are skipped, and everything
 * is verified every time. The target's cache is left as it was (copies are not kept).
 */
export async function copyArtifactsToBucket(
  source: ArtifactStore,
  target: S3ArtifactStore,
  onProgress: (line: string) => void = () => {},
): Promise<CopyToBucketReport> {
  const report: CopyToBucketReport = {
    total: 0,
    copied: 0,
    skipped: 0,
    verified: 0,
    mismatches: [],
  };
  const keys: string[] = [];
  for await (const artifact of source.list()) {
    report.total += 1;
    keys.push(artifact.key);
    const inBucket = (await target.exists(artifact.key)) ? await target.sizeOf(artifact.key) : null;
    if (inBucket === artifact.sizeBytes) {
      report.skipped += 1;
      continue;
    }
    const staged = await target.stage(await source.openRead(artifact.key), {
      maxBytes: artifact.sizeBytes,
    });
    if (staged.sha256 !== parseArtifactKey(artifact.key).sha256) {
      // Damage in the source: copying it would publish bytes under a digest they lack.
      await staged.discard();
      report.mismatches.push(artifact.key);
      onProgress(`MISMATCH in the source ${artifact.key} (sha256 ${staged.sha256})`);
      continue;
    }
    await staged.commit();
    await target.cache.remove(artifact.key);
    report.copied += 1;
    onProgress(`copied ${artifact.key} (${artifact.sizeBytes} bytes)`);
  }
  for (const key of keys) {
    if (report.mismatches.includes(key)) continue;
    try {
      // Straight from the bucket (nothing of it is cached), hashed as it streams.
      const hash = createHash("sha256");
      for await (const chunk of await target.openRead(key)) hash.update(chunk as Buffer);
      const actual = hash.digest("hex");
      if (actual !== parseArtifactKey(key).sha256) throw new ArtifactIntegrityError(key, actual);
      report.verified += 1;
    } catch (error) {
      report.mismatches.push(key);
      onProgress(`MISMATCH in the bucket ${key}: ${(error as Error).message}`);
    }
  }
  return report;
}
