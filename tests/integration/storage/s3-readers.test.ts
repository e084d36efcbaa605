/**
 * With MODELDECK_ARTIFACT_STORE=s3://..., everything that reads artifacts reads them from
 * the bucket: evaluation and batch prediction (files for their children, through the
 * cache) and a real serving process that starts with an empty data directory.
 */
import path from "node:path";
import { text } from "node:stream/consumers";
import { createHash } from "node:crypto";
import { HeadObjectCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { registerVersionBytes } from "../../../lib/registry/upload";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchPoller, getBatchResult, submitBatchPrediction } from "../../../lib/batch";
import { loadConfig } from "../../../lib/config";
import { findFreePort } from "../../../lib/db/embedded-postgres";
import { evaluateVersion } from "../../../lib/evaluation";
import { createLogger } from "../../../lib/log";
import { createArtifactStore, type ArtifactStore } from "../../../lib/storage";
import { DEMO_MODEL } from "../../../prisma/seed/demo-model";
import { startS3Server, type S3TestServer } from "../../support/s3-server";
import { registerIris, seedDemo, USER } from "../evaluation/harness";
import { useTestDatabase } from "../helpers/db";
import { postJson, startServingProcess, type ServingProcess } from "../serving/harness";
import { listFiles, tempRoot } from "./harness";

describe("readers of artifacts in an S3-compatible bucket", { timeout: 120_000 }, () => {
  const db = useTestDatabase({ truncate: false });
  let s3: S3TestServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let serving: ServingProcess | undefined;
  const savedEnv = { ...process.env };

  /** A process's store: the bucket, with a cache of its own under `<dir>/<name>`. */
  const storeOf = (name: string): ArtifactStore =>
    createArtifactStore(loadConfig({ ...s3.env, MODELDECK_DATA_DIR: path.join(dir, name) }));

  beforeAll(async () => {
    s3 = await startS3Server();
    Object.assign(process.env, s3.env); // the SDK's endpoint, region and credentials
    const t = await tempRoot();
    dir = t.dir;
    cleanup = t.cleanup;
    const web = storeOf("web");
    await seedDemo(db.client, web);
    await registerIris(db.client, web);
  });
  afterAll(async () => {
    await serving?.stop("SIGKILL");
    process.env = savedEnv;
    await s3?.stop();
    await cleanup?.();
  });

  it("publishes nothing for an upload that is not a valid ONNX model", async () => {
    const web = storeOf("invalid");
    const bytes = Buffer.from("this is not an ONNX model");
    await expect(
      registerVersionBytes(db.client, web, SYSTEM_ACTOR, bytes, {
        modelName: DEMO_MODEL.name,
        lineage: { kind: "upload" },
      }),
    ).rejects.toThrow();
    const key = web.keyFor(createHash("sha256").update(bytes).digest("hex"));
    expect(await web.exists(key)).toBe(false);
    const uploads = await s3.client().send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(await listFiles(path.join(dir, "invalid"))).toEqual([]);
  });

  it("evaluates a version with model and dataset fetched from the bucket", async () => {
    const scheduler = storeOf("evaluator");
    const evaluation = await evaluateVersion(db.client, scheduler, USER, {
      modelName: DEMO_MODEL.name,
      version: 2,
      datasetName: "iris",
    });
    expect(evaluation.status).toBe("succeeded");
    expect(evaluation.rowCount).toBe(150);
    // Its local disk holds verified cache copies only (model, dataset and its parsed matrix).
    const files = await listFiles(path.join(dir, "evaluator"));
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(files.filter((f) => !f.startsWith("artifact-cache/sha256/"))).toEqual([]);
  });

  it("runs a batch prediction whose result lands in the bucket", async () => {
    const scheduler = storeOf("batch");
    const submitted = await submitBatchPrediction(db.client, USER, {
      modelName: DEMO_MODEL.name,
      datasetName: "iris",
    });
    const poller = new BatchPoller({
      db: db.client,
      store: scheduler,
      instanceId: "s3-test",
      log: createLogger("test", "silent"),
      leaseMs: 5000,
      pollMs: 60_000,
      progressEvery: 50,
    });
    try {
      await poller.pollOnce();
      await poller.idle();
    } finally {
      await poller.stop();
    }
    const { key } = await getBatchResult(db.client, submitted.id);
    // Read by another process (the web's download route) with a cache that never saw it.
    const csv = await text(await storeOf("download").openRead(key));
    expect(csv.trimEnd().split("\n")).toHaveLength(151);
    expect(await s3.client().send(headOf(s3, key))).toMatchObject({
      ContentLength: Buffer.byteLength(csv),
    });
  });

  it("serves from a process that starts with an empty data directory", async () => {
    const dataDir = path.join(dir, "serving");
    serving = await startServingProcess({
      databaseUrl: db.url,
      dataDir,
      port: await findFreePort(),
      env: s3.env,
    });
    const { status, body } = await postJson(`${serving.url}/v2/models/${DEMO_MODEL.name}/infer`, {
      inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }],
    });
    expect(status, JSON.stringify(body)).toBe(200);
    // The model came from the bucket into the cache; there is no local store.
    const files = await listFiles(dataDir);
    expect(files.filter((f) => !f.startsWith("artifact-cache/sha256/"))).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(1);
  });
});

function headOf(s3: S3TestServer, key: string) {
  return new HeadObjectCommand({ Bucket: s3.bucket, Key: `${s3.prefix}/${key}` });
}
