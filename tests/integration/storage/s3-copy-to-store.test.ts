import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Readable } from "node:stream";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalArtifactStore } from "../../../lib/storage";
import { startS3Server, type S3TestServer } from "../../support/s3-server";
import { listFiles, tempRoot } from "./harness";

const repoRoot = path.resolve(import.meta.dirname, "../../..");

/** `npm run artifacts:copy-to-store -- <args>` as a user runs it (the script npm runs). */
function copyCommand(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "scripts/artifacts-copy-to-store.ts", ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => resolve({ code, out }));
  });
}

describe("artifacts:copy-to-store", () => {
  let s3: S3TestServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;
  const keys: string[] = [];
  const sizes: number[] = [];

  beforeAll(async () => {
    s3 = await startS3Server({ prefix: "unused" });
    const t = await tempRoot();
    dir = t.dir;
    cleanup = t.cleanup;
    // The local store as a single-host install has it: <data dir>/artifacts.
    const local = new LocalArtifactStore({ root: path.join(dir, "artifacts"), durable: false });
    for (const size of [1000, 200_000, 9 * 1024 ** 2]) {
      const staged = await local.stage(Readable.from([randomBytes(size)]), { maxBytes: size });
      keys.push((await staged.commit()).key);
      sizes.push(size);
    }
    // The command runs where the local store is configured: no MODELDECK_ARTIFACT_STORE.
    const { MODELDECK_ARTIFACT_STORE: _unused, ...awsEnv } = s3.env;
    env = { ...awsEnv, MODELDECK_DATA_DIR: dir };
  });
  afterAll(async () => {
    await s3?.stop();
    await cleanup?.();
  });

  async function objects(prefix: string) {
    const page = await s3
      .client()
      .send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/` }));
    return (page.Contents ?? []).map((o) => [o.Key, o.Size]).sort();
  }

  it("copies every artifact, skips those already there, and verifies every hash", async () => {
    // One is in the bucket already (an earlier, interrupted run).
    const local = new LocalArtifactStore({ root: path.join(dir, "artifacts") });
    await s3.client().send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `migrated/${keys[0]}`,
        Body: Buffer.concat(await (await local.openRead(keys[0]!)).toArray()),
      }),
    );
    const first = await copyCommand(["--to", `s3://${s3.bucket}/migrated`], env);
    expect(first.out).toContain(
      "artifacts: 3, copied: 2, already there: 1, verified: 3, mismatches: 0",
    );
    expect(first.code).toBe(0);
    expect(await objects("migrated")).toEqual(
      keys.map((k, i) => [`migrated/${k}`, sizes[i]]).sort(),
    );
    // The copies are not kept in the local cache, and the local store is untouched.
    expect(await listFiles(path.join(dir, "artifact-cache", "sha256"))).toEqual([]);
    expect(await listFiles(path.join(dir, "artifacts", "sha256"))).toEqual(
      keys.map((k) => k.slice("sha256/".length)).sort(),
    );

    const again = await copyCommand(["--to", `s3://${s3.bucket}/migrated`], env);
    expect(again.out).toContain("copied: 0, already there: 3, verified: 3, mismatches: 0");
    expect(again.code).toBe(0);
  });

  it("exits non-zero and names the artifact when the bucket holds other bytes", async () => {
    // Same size, other bytes: skipped as present, caught by the read-back.
    await s3.client().send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `migrated/${keys[1]}`,
        Body: randomBytes(sizes[1]!),
      }),
    );
    const result = await copyCommand(["--to", `s3://${s3.bucket}/migrated`], env);
    expect(result.out).toContain(`MISMATCH in the bucket ${keys[1]}`);
    expect(result.out).toContain("verified: 2, mismatches: 1");
    expect(result.code).toBe(1);
  });

  it("refuses a target that is not an s3:// URL", async () => {
    const result = await copyCommand(["--to", "/tmp/elsewhere"], env);
    expect(result.code).toBe(2);
    expect(result.out).toContain("--to must be s3://bucket/prefix");
  });
});
