import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { registerDatasetBytes } from "../../../lib/datasets";
import {
  createEvaluation,
  DatasetMismatchError,
  evaluateVersion,
  failStaleEvaluations,
  getEvaluation,
  listEvaluations,
  regressionMetrics,
  type ClassificationMetrics,
  type RegressionMetrics,
} from "../../../lib/evaluation";
import { buildDemoModelVersions, DEMO_MODEL } from "../../../prisma/seed/demo-model";
import { LocalArtifactStore } from "../../../lib/storage";
import { useTestDatabase } from "../helpers/db";
import { tempRoot } from "../storage/harness";
import {
  irisClassifier,
  irisRows,
  linearRegressor,
  modelWithVersions,
  registerIris,
  seedDemo,
  USER,
} from "./harness";

describe("lib/evaluation: evaluateVersion", () => {
  const db = useTestDatabase();
  let store: LocalArtifactStore;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    const t = await tempRoot();
    store = new LocalArtifactStore({ root: path.join(t.dir, "artifacts"), durable: false });
    cleanup = t.cleanup;
  });
  afterEach(() => cleanup());

  it("the seeded demo model scores the iris data with the accuracy an independent implementation gives", async () => {
    await seedDemo(db.client, store);
    await registerIris(db.client, store);
    const view = await evaluateVersion(db.client, store, USER, {
      modelName: DEMO_MODEL.name,
      version: 2,
      datasetName: "iris",
    });
    expect(view.error).toBeNull();
    expect(view).toMatchObject({
      status: "succeeded",
      task: "classification",
      rowCount: 150,
      model: DEMO_MODEL.name,
      version: 2,
      dataset: "iris",
      datasetVersion: 1,
      trigger: "manual",
      triggeredBy: { type: "user", label: USER.label },
    });
    const metrics = view.metrics as ClassificationMetrics;

    // Independent 1: lib/training's own predictClasses/accuracy (pure TypeScript softmax
    // regression, no onnxruntime) over the same 150 rows, as the seed computed them on its
    // train and test split.
    const demo = await buildDemoModelVersions();
    const { trainAccuracy, trainRows, testAccuracy, testRows } = demo.metrics.v2;
    const independent =
      (trainAccuracy * trainRows + testAccuracy * testRows) / (trainRows + testRows);
    expect(metrics.accuracy).toBeCloseTo(independent, 12);

    // Independent 2: raw onnxruntime over the same rows, argmax by hand.
    const { x, y } = await irisRows();
    const session = await ort.InferenceSession.create(demo.v2);
    const out = await session.run({
      features: new ort.Tensor("float32", Float32Array.from(x.flat()), [x.length, 4]),
    });
    const labels = out.label!.data as BigInt64Array;
    const correct = y.filter((label, i) => Number(labels[i]) === label).length;
    await session.release();
    expect(metrics.accuracy).toBe(correct / 150);

    expect(metrics.confusionMatrix.labels).toEqual(DEMO_MODEL.classLabels);
    expect(metrics.confusionMatrix.matrix.flat().reduce((a, b) => a + b, 0)).toBe(150);
    expect(metrics.confusionMatrix.matrix.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([
      50, 50, 50,
    ]);
    expect(metrics.logLoss).toBeGreaterThan(0);
    expect(metrics.rocAuc).toBeNull();
    expect(view.latency!.batch1.runs).toBe(150);
    expect(view.latency!.batch1.p50Ms).toBeGreaterThan(0);
    expect(view.latency!.batch1.p95Ms).toBeGreaterThanOrEqual(view.latency!.batch1.p50Ms);
    expect(view.latency!.batch1.p99Ms).toBeGreaterThanOrEqual(view.latency!.batch1.p95Ms);
    expect(view.latency!.batched).toMatchObject({ batchSize: 64, rows: 150 });
    expect(view.latency!.batched.rowsPerSecond).toBeGreaterThan(0);
    expect(view.startedAt).not.toBeNull();
    expect(view.finishedAt).not.toBeNull();

    const audit = await db.client.auditEntry.findMany({ where: { action: "evaluation.start" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorLabel: USER.label, resourceId: view.id });
    expect(await getEvaluation(db.client, view.id)).toEqual(view);
    expect((await listEvaluations(db.client, DEMO_MODEL.name)).map((e) => e.id)).toEqual([view.id]);
  });

  it("scores the same rows as JSON Lines to the same accuracy", async () => {
    await seedDemo(db.client, store);
    const csvEval = await (async () => {
      await registerIris(db.client, store);
      return evaluateVersion(db.client, store, USER, {
        modelName: DEMO_MODEL.name,
        version: 2,
        datasetName: "iris",
      });
    })();
    const { x, y } = await irisRows();
    const jsonl = x
      .map((row, i) =>
        JSON.stringify({
          ...Object.fromEntries(DEMO_MODEL.features.v2.map((f, j) => [f, row[j]])),
          species: DEMO_MODEL.classLabels[y[i]!],
        }),
      )
      .join("\n");
    await registerDatasetBytes(db.client, store, USER, jsonl, {
      name: "iris-jsonl",
      labelColumn: "species",
      originalFilename: "iris.jsonl",
    });
    const jsonlEval = await evaluateVersion(db.client, store, USER, {
      modelName: DEMO_MODEL.name,
      version: 2,
      datasetName: "iris-jsonl",
    });
    expect(jsonlEval.status).toBe("succeeded");
    expect((jsonlEval.metrics as ClassificationMetrics).accuracy).toBe(
      (csvEval.metrics as ClassificationMetrics).accuracy,
    );
    expect((jsonlEval.metrics as ClassificationMetrics).confusionMatrix).toEqual(
      (csvEval.metrics as ClassificationMetrics).confusionMatrix,
    );
  });

  it("scores the same with and without the dataset's binary form (classification and regression)", async () => {
    // Evaluations of one version on one dataset version: with its binary form, then with the
    // binary form forgotten (a version stored before it existed), then with an unreadable one.
    const three = async (model: string, dataset: string) => {
      const dv = await db.client.datasetVersion.findFirstOrThrow({
        where: { dataset: { name: dataset } },
      });
      expect(dv.matrixStorageKey).not.toBeNull();
      const input = { modelName: model, version: 1, datasetName: dataset, latencyRuns: 5 };
      const withMatrix = await evaluateVersion(db.client, store, USER, input);
      await db.client.datasetVersion.update({
        where: { id: dv.id },
        data: { matrixStorageKey: null },
      });
      const withoutMatrix = await evaluateVersion(db.client, store, USER, input);
      // A key whose file is missing: the child falls back to the original file.
      await db.client.datasetVersion.update({
        where: { id: dv.id },
        data: { matrixStorageKey: store.keyFor("0".repeat(64)) },
      });
      const missing = await evaluateVersion(db.client, store, USER, input);
      // And child.ts run with tsx rather than as the bundle runner.ts builds of it.
      process.env.MODELDECK_EVALUATION_CHILD_BUNDLE = "0";
      const unbundled = await evaluateVersion(db.client, store, USER, input).finally(() => {
        delete process.env.MODELDECK_EVALUATION_CHILD_BUNDLE;
      });
      expect(unbundled.status).toBe("succeeded");
      expect(unbundled.metrics).toEqual(missing.metrics);
      const source = (v: typeof withMatrix) =>
        (v.latency as unknown as { timings: { datasetSource: string } }).timings.datasetSource;
      expect([withMatrix, withoutMatrix, missing].map((v) => v.status)).toEqual([
        "succeeded",
        "succeeded",
        "succeeded",
      ]);
      expect([withMatrix, withoutMatrix, missing].map(source)).toEqual(["matrix", "file", "file"]);
      expect(withMatrix.rowCount).toBe(withoutMatrix.rowCount);
      expect(withMatrix.metrics).toEqual(withoutMatrix.metrics);
      expect(missing.metrics).toEqual(withoutMatrix.metrics);
      return withMatrix;
    };

    await modelWithVersions(db.client, store, "iris-lr", "classification", [
      await irisClassifier(["petal_length", "petal_width"]),
    ]);
    await registerIris(db.client, store);
    const cls = await three("iris-lr", "iris");
    expect((cls.metrics as ClassificationMetrics).accuracy).toBeGreaterThan(0.9);

    const w = [0.5, -1, 2];
    const rows = Array.from({ length: 500 }, (_, i) => [
      (i % 7) / 3,
      ((i * 3) % 11) / 7,
      ((i * 5) % 13) / 9,
    ]);
    const csv = [
      "a,b,c,t",
      ...rows.map((r, i) => `${r.map((v) => v.toFixed(6)).join(",")},${(i / 7).toFixed(4)}`),
    ].join("\n");
    await modelWithVersions(db.client, store, "linear", "regression", [linearRegressor(w, 1)]);
    await registerDatasetBytes(db.client, store, USER, csv, { name: "lin", labelColumn: "t" });
    const reg = await three("linear", "lin");
    expect((reg.metrics as RegressionMetrics).kind).toBe("regression");
  }, 60_000);

  it("explains a dataset that does not fit a version, and records nothing", async () => {
    await seedDemo(db.client, store);
    await registerIris(db.client, store);
    const error = await createEvaluation(db.client, USER, {
      modelName: DEMO_MODEL.name,
      version: 1,
      datasetName: "iris",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetMismatchError);
    expect((error as ApiError).status).toBe(422);
    expect((error as ApiError).message).toBe(
      `Dataset iris v1 cannot be scored by ${DEMO_MODEL.name} v1: Dataset maps 4 columns to input "features", but the model expects 2.`,
    );
    expect(await db.client.evaluation.count()).toBe(0);
    expect(await db.client.auditEntry.count({ where: { action: "evaluation.start" } })).toBe(0);

    // The sepal-only version on a dataset version that maps the sepal columns.
    await registerIris(db.client, store, "iris", DEMO_MODEL.features.v1);
    const v1 = await evaluateVersion(db.client, store, SYSTEM_ACTOR, {
      modelName: DEMO_MODEL.name,
      version: 1,
      datasetName: "iris",
      trigger: { kind: "job", ref: "run-1" },
    });
    const demo = await buildDemoModelVersions();
    const m = demo.metrics.v1;
    expect((v1.metrics as ClassificationMetrics).accuracy).toBeCloseTo(
      (m.trainAccuracy * m.trainRows + m.testAccuracy * m.testRows) / 150,
      12,
    );
    expect(v1).toMatchObject({ datasetVersion: 2, trigger: "job", triggerRef: "run-1" });
    // A job's evaluation is not a person's action: no audit entry.
    expect(await db.client.auditEntry.count({ where: { action: "evaluation.start" } })).toBe(0);

    for (const [input, status] of [
      [{ modelName: "nope", version: 1, datasetName: "iris" }, 404],
      [{ modelName: DEMO_MODEL.name, version: 9, datasetName: "iris" }, 404],
      [{ modelName: DEMO_MODEL.name, version: 2, datasetName: "nope" }, 404],
      [{ modelName: DEMO_MODEL.name, version: 2, datasetName: "iris", datasetVersion: 7 }, 404],
    ] as const) {
      await expect(createEvaluation(db.client, USER, input)).rejects.toMatchObject({ status });
    }
    await expect(getEvaluation(db.client, "not-a-uuid")).rejects.toMatchObject({ status: 404 });
  });

  it("evaluates a regression model: MAE, RMSE, R² from the model's own predictions", async () => {
    const w = [0.5, -1, 2];
    const rows = Array.from({ length: 300 }, (_, i) => [i % 7, (i * 3) % 11, ((i * 5) % 13) / 4]);
    const target = rows.map((r, i) => r[0]! * 0.4 - r[1]! + 2.1 * r[2]! + 1 + ((i % 5) - 2) / 10);
    const csv = ["a,b,c,t", ...rows.map((r, i) => `${r.join(",")},${target[i]}`)].join("\n");
    await modelWithVersions(db.client, store, "linear", "regression", [linearRegressor(w, 1)]);
    await registerDatasetBytes(db.client, store, USER, csv, { name: "lin", labelColumn: "t" });
    const view = await evaluateVersion(db.client, store, USER, {
      modelName: "linear",
      version: 1,
      datasetName: "lin",
    });
    expect(view.status).toBe("succeeded");
    const predictions = rows.map((r) =>
      Math.fround(Math.fround(r[0]! * 0.5) + Math.fround(-r[1]!) + Math.fround(r[2]! * 2) + 1),
    );
    const expected = regressionMetrics(target, predictions);
    const got = view.metrics as RegressionMetrics;
    expect(got.kind).toBe("regression");
    expect(got.mae).toBeCloseTo(expected.mae, 5);
    expect(got.rmse).toBeCloseTo(expected.rmse, 5);
    expect(got.r2).toBeCloseTo(expected.r2, 5);
  });

  it("a time limit or a cancellation ends the evaluation as failed", async () => {
    await seedDemo(db.client, store);
    await registerIris(db.client, store);
    const input = { modelName: DEMO_MODEL.name, version: 2, datasetName: "iris" };
    const timedOut = await evaluateVersion(db.client, store, USER, { ...input, timeoutMs: 1 });
    expect(timedOut.status).toBe("failed");
    expect(timedOut.error).toMatch(/did not finish within 1 ms; it was stopped/);

    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("operator pressed stop")), 50);
    const cancelled = await evaluateVersion(db.client, store, USER, {
      ...input,
      signal: controller.signal,
    });
    expect(cancelled.status).toBe("failed");
    expect(cancelled.error).toMatch(/cancelled \(operator pressed stop\)/);
  });

  it("keeps the caller's event loop free while it scores", async () => {
    const n = 20_000;
    const rows = Array.from(
      { length: n },
      (_, i) =>
        `${(i % 80) / 10},${(i % 40) / 10},${(i % 70) / 10},${(i % 25) / 10},${["setosa", "versicolor", "virginica"][i % 3]}`,
    );
    await seedDemo(db.client, store);
    await registerDatasetBytes(
      db.client,
      store,
      USER,
      ["sepal_length,sepal_width,petal_length,petal_width,species", ...rows].join("\n"),
      { name: "big", labelColumn: "species" },
    );
    let maxLag = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 10);
      last = now;
    }, 10);
    const view = await evaluateVersion(db.client, store, USER, {
      modelName: DEMO_MODEL.name,
      version: 2,
      datasetName: "big",
    });
    clearInterval(timer);
    expect(view.status).toBe("succeeded");
    expect(view.rowCount).toBe(n);
    // At least 300 single-row runs, up to 1000 within the latency budget (score.ts LATENCY_RUNS).
    expect(view.latency!.batch1.runs).toBeGreaterThanOrEqual(300);
    expect(view.latency!.batch1.runs).toBeLessThanOrEqual(1000);
    // The parent only waits on IPC and the database; parsing and scoring happen in the child.
    expect(maxLag).toBeLessThan(250);
  });

  it("marks evaluations whose process stopped heart-beating as failed", async () => {
    await seedDemo(db.client, store);
    await registerIris(db.client, store);
    const prepared = await createEvaluation(db.client, USER, {
      modelName: DEMO_MODEL.name,
      version: 2,
      datasetName: "iris",
    });
    await db.client.evaluation.update({
      where: { id: prepared.evaluation.id },
      data: { status: "running", heartbeatAt: new Date(Date.now() - 120_000) },
    });
    expect(await failStaleEvaluations(db.client)).toBe(1);
    const view = await getEvaluation(db.client, prepared.evaluation.id);
    expect(view.status).toBe("failed");
    expect(view.error).toMatch(/stopped \(no heartbeat for 60 s\)/);
  });
});
