/**
 * The built-in trainer of retrain jobs, run in this process through the real queue and
 * executor: logistic regression for a classifier (then evaluated, gated and promoted), ridge
 * linear regression for a regressor, lineage to the production version, the same input as
 * production, nothing new for unchanged data, and clear refusals that register nothing.
 */
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { registerDatasetBytes } from "../../../lib/datasets";
import { executeRun } from "../../../lib/jobs/executor";
import { createJob, getRun, runJobNow } from "../../../lib/jobs/jobs";
import { claimNextRun } from "../../../lib/jobs/runs";
import type { JobActionInput } from "../../../lib/jobs/action-schema";
import { createLogger } from "../../../lib/log";
import { getModel, setAlias } from "../../../lib/registry";
import { DEMO_MODEL } from "../../../prisma/seed/demo-model";
import {
  ADMIN,
  irisClassifier,
  linearRegressor,
  modelWithVersions,
  registerIris,
} from "../evaluation/harness";
import { truncateAll, useTestDatabase } from "../helpers/db";
import { OPERATOR, settingsFor, storeFor, tempDataDir } from "./harness";

const db = useTestDatabase({ truncate: false });
let data: Awaited<ReturnType<typeof tempDataDir>>;
const log = createLogger("jobs-test", process.env.MODELDECK_LOG_LEVEL ?? "silent");

beforeAll(async () => {
  data = await tempDataDir();
});
afterAll(() => data.cleanup());
beforeEach(() => truncateAll(db.url));

let jobCount = 0;
/** Creates a disabled job on `model`, runs it now in this process, returns the ended run. */
async function runOnce(model: string, action: JobActionInput) {
  const job = await createJob(db.client, OPERATOR, {
    name: `builtin-${++jobCount}`,
    model,
    schedule: "0 3 * * *",
    enabled: false,
    action,
  });
  const queued = await runJobNow(db.client, OPERATOR, job.id);
  const settings = settingsFor(data.dir);
  const deps = { db: db.client, store: storeFor(data.dir), settings, instanceId: "test", log };
  for (;;) {
    const claimed = await claimNextRun(db.client, "test", settings.leaseMs);
    if (claimed) await executeRun(deps, claimed, new AbortController().signal);
    const run = await getRun(db.client, queued.id);
    if (run.status === "succeeded" || run.status === "failed") return run;
    await db.client.jobRun.update({ where: { id: run.id }, data: { availableAt: new Date(0) } });
  }
}

const versionsOf = (model: string) =>
  db.client.modelVersion.findMany({
    where: { model: { name: model } },
    orderBy: { version: "asc" },
    include: { parentVersion: true },
  });

async function predict(bytes: Uint8Array, input: string, rows: number[][]) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({
      [input]: new ort.Tensor("float32", Float32Array.from(rows.flat()), [
        rows.length,
        rows[0]!.length,
      ]),
    });
    return out;
  } finally {
    await session.release();
  }
}

describe("retrain with the built-in trainer", () => {
  it("classification: trains logistic regression on the dataset, registers it with production as parent, then evaluates and promotes it", async () => {
    const store = storeFor(data.dir);
    // Production v1 only looks at the sepal measurements (the weak demo version).
    await modelWithVersions(db.client, store, "iris-builtin", "classification", [
      await irisClassifier(["sepal_length", "sepal_width"]),
    ]);
    await setAlias(db.client, ADMIN, {
      modelName: "iris-builtin",
      alias: "production",
      version: 1,
    });
    await registerIris(db.client, store);

    const run = await runOnce("iris-builtin", {
      type: "retrain",
      trainer: "builtin",
      dataset: "iris",
      thenEvaluate: true,
    });
    expect(run.status, run.error ?? "").toBe("succeeded");
    const [v1, v2] = await versionsOf("iris-builtin");
    expect(run.result).toMatchObject({
      trainer: "builtin",
      algorithm: "logistic-regression",
      dataset: { name: "iris", version: 1 },
      parentVersion: 1,
      parentVersionId: v1!.id,
      rows: 150,
      features: DEMO_MODEL.features.v2,
      input: "features",
      registered: { version: 2 },
      evaluation: { decision: "promoted", promotedVersion: 2, productionVersion: 1 },
    });
    const training = (run.result as { training: { trainAccuracy: number } }).training;
    expect(training.trainAccuracy).toBeGreaterThan(0.9);
    expect(v2).toMatchObject({
      lineageKind: "retrain",
      createdByLabel: expect.stringMatching(/^job:builtin-/),
    });
    expect(v2!.parentVersion?.version).toBe(1);
    expect(v2!.signature).toMatchObject({
      inputs: [{ name: "features", dtype: "float32", shape: ["batch", 4] }],
      metadata: {
        feature_names: JSON.stringify(DEMO_MODEL.features.v2),
        class_labels: JSON.stringify(DEMO_MODEL.classLabels),
        trainer: "modeldeck-builtin",
      },
    });
    const lines = run.log.map((l) => l.line).join("\n");
    expect(lines).toMatch(/Training multinomial logistic regression on dataset iris v1: 150 rows/);
    expect(lines).toMatch(/Registered the trained model as v2 .*lineage: retrain from v1/);
    expect((await getModel(db.client, "iris-builtin")).productionVersion).toBe(2);
    const history = await db.client.aliasHistory.findFirstOrThrow({
      where: { alias: "production", toVersion: { version: 2 } },
    });
    expect(history.actorLabel).toMatch(/^job:builtin-/);

    // The same data trains the same bytes: nothing new is registered.
    const again = await runOnce("iris-builtin", {
      type: "retrain",
      trainer: "builtin",
      dataset: "iris",
    });
    expect(again.status, again.error ?? "").toBe("succeeded");
    expect(again.result).toMatchObject({ registered: null, unchanged: { sameAsVersion: 2 } });
    expect(await versionsOf("iris-builtin")).toHaveLength(2);
  }, 120_000);

  it("regression: trains linear regression with production's input name and output rank", async () => {
    const store = storeFor(data.dir);
    await modelWithVersions(db.client, store, "price", "regression", [linearRegressor([0, 0], 0)]);
    await setAlias(db.client, ADMIN, { modelName: "price", alias: "production", version: 1 });
    // y = 3a − 2b + 4, exactly.
    const rows = Array.from({ length: 20 }, (_, i) => [i, (i * 7) % 5]);
    const csv = ["a,b,y", ...rows.map(([a, b]) => `${a},${b},${3 * a! - 2 * b! + 4}`)].join("\n");
    await registerDatasetBytes(db.client, store, SYSTEM_ACTOR, `${csv}\n`, {
      name: "prices",
      labelColumn: "y",
      mapping: { kind: "tensor", input: "features", columns: ["a", "b"] },
    });

    const run = await runOnce("price", { type: "retrain", trainer: "builtin", dataset: "prices" });
    expect(run.status, run.error ?? "").toBe("succeeded");
    expect(run.result).toMatchObject({
      algorithm: "linear-regression",
      parentVersion: 1,
      registered: { version: 2 },
      rows: 20,
    });
    const training = (run.result as { training: { trainRmse: number; trainR2: number } }).training;
    expect(training.trainRmse).toBeLessThan(0.01);
    expect(training.trainR2).toBeGreaterThan(0.9999);
    const [, v2] = await versionsOf("price");
    expect(v2!.parentVersion?.version).toBe(1);
    expect(v2!.lineageKind).toBe("retrain");
    expect(v2!.signature).toMatchObject({
      inputs: [{ name: "features", shape: ["batch", 2] }],
      outputs: [{ name: "prediction", dtype: "float32", shape: ["batch", 1] }],
    });
    const chunks: Buffer[] = [];
    for await (const chunk of await store.openRead(v2!.storageKey)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const out = await predict(bytes, "features", [
      [0, 0],
      [10, 1],
    ]);
    const [p0, p1] = Array.from(out.prediction!.data as Float32Array);
    expect(p0).toBeCloseTo(4, 2);
    expect(p1).toBeCloseTo(32, 2);
  }, 60_000);

  it("refuses clearly and registers nothing when the dataset does not fit production, or there is no production", async () => {
    const store = storeFor(data.dir);
    await modelWithVersions(db.client, store, "iris-builtin", "classification", [
      await irisClassifier(DEMO_MODEL.features.v2),
    ]);
    // Three feature columns for a model that takes four.
    await registerIris(db.client, store, "iris-3", DEMO_MODEL.features.v2.slice(0, 3));
    const noProduction = await runOnce("iris-builtin", {
      type: "retrain",
      trainer: "builtin",
      dataset: "iris-3",
    });
    expect(noProduction).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/has no production version.*Nothing was trained/),
    });
    await setAlias(db.client, ADMIN, {
      modelName: "iris-builtin",
      alias: "production",
      version: 1,
    });
    const misfit = await runOnce("iris-builtin", {
      type: "retrain",
      trainer: "builtin",
      dataset: "iris-3",
    });
    expect(misfit).toMatchObject({
      status: "failed",
      error: expect.stringMatching(
        /Dataset iris-3 v1 does not fit production v1 of iris-builtin: .*3 columns.*expects 4.*Nothing was trained/,
      ),
    });
    // Same four columns, another order than production's feature_names.
    const reordered = [...DEMO_MODEL.features.v2].reverse();
    await registerIris(db.client, store, "iris-reordered", reordered);
    const order = await runOnce("iris-builtin", {
      type: "retrain",
      trainer: "builtin",
      dataset: "iris-reordered",
    });
    expect(order.error).toMatch(/takes the features .* in that order.*Nothing was trained/);
    const missing = await runOnce("iris-builtin", {
      type: "retrain",
      trainer: "builtin",
      dataset: "nope",
    });
    expect(missing.error).toMatch(/Dataset "nope" was not found; nothing was trained/);
    expect(await versionsOf("iris-builtin")).toHaveLength(1);
  }, 60_000);
});
