import { readFile } from "node:fs/promises";
import path from "node:path";
import { text } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import {
  BatchPoller,
  cancelBatchPrediction,
  claimNextBatch,
  getBatchPrediction,
  getBatchResult,
  listBatchPredictions,
  submitBatchPrediction,
} from "../../../lib/batch";
import { evaluateVersion, type ClassificationMetrics } from "../../../lib/evaluation";
import { createLogger } from "../../../lib/log";
import { LocalArtifactStore } from "../../../lib/storage";
import { DEMO_MODEL } from "../../../prisma/seed/demo-model";
import { registerDatasetBytes } from "../../../lib/datasets";
import { irisCsv, registerIris, seedDemo, USER } from "../evaluation/harness";
import { useTestDatabase } from "../helpers/db";
import { tempRoot } from "../storage/harness";

const repoRoot = path.resolve(import.meta.dirname, "../../..");

describe("lib/batch: batch predictions through the Postgres queue", () => {
  const db = useTestDatabase();
  let store: LocalArtifactStore;
  let cleanup: () => Promise<void>;
  let poller: BatchPoller | null = null;

  beforeEach(async () => {
    const t = await tempRoot();
    store = new LocalArtifactStore({ root: path.join(t.dir, "artifacts"), durable: false });
    cleanup = t.cleanup;
  });
  afterEach(async () => {
    await poller?.stop();
    poller = null;
    await cleanup();
  });

  const newPoller = (leaseMs = 3000) =>
    new BatchPoller({
      db: db.client,
      store,
      instanceId: "test-scheduler",
      log: createLogger("test", "silent"),
      leaseMs,
      pollMs: 60_000,
      progressEvery: 50,
    });

  it("scores iris with production's version: queued → running → succeeded, one CSV line per row, the evaluation's labels", async () => {
    await seedDemo(db.client, store);
    await registerIris(db.client, store);
    const submitted = await submitBatchPrediction(db.client, USER, {
      modelName: DEMO_MODEL.name,
      datasetName: "iris",
    });
    expect(submitted).toMatchObject({
      status: "queued",
      alias: "production",
      version: 2,
      dataset: "iris",
      datasetVersion: 1,
      rowsTotal: 150,
      rowsDone: 0,
      resultUrl: null,
    });

    const seen = new Set<string>([submitted.status]);
    let watching = true;
    const watch = (async () => {
      while (watching) {
        seen.add((await getBatchPrediction(db.client, submitted.id)).status);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    poller = newPoller();
    await poller.pollOnce();
    await poller.idle();
    watching = false;
    await watch;

    const done = await getBatchPrediction(db.client, submitted.id);
    // The watcher's last read may predate the final write (it stops when the poller is idle).
    seen.add(done.status);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: "succeeded", rowsDone: 150, rowsTotal: 150, progress: 1 });
    expect(done.resultUrl).toBe(`/api/v1/batch-predictions/${submitted.id}/result`);
    expect([...seen]).toEqual(["queued", "running", "succeeded"]);

    const { key } = await getBatchResult(db.client, submitted.id);
    const csv = await text(await store.openRead(key));
    const lines = csv.trimEnd().split("\n");
    const features = DEMO_MODEL.features.v2;
    expect(lines[0]).toBe(
      ["row", ...features, "prediction", ...DEMO_MODEL.classLabels.map((c) => `p_${c}`)].join(","),
    );
    expect(lines).toHaveLength(151);

    // The same predictions an evaluation of the same version over the same rows makes:
    // its confusion matrix's columns count the predicted labels, and its accuracy matches.
    const source = (await readFile(path.join(repoRoot, "prisma/seed/iris.csv"), "utf8"))
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
    const predicted = lines.slice(1).map((l) => l.split(",")[1 + features.length]!);
    lines.slice(1).forEach((l, i) => {
      const cells = l.split(",");
      expect(cells[0]).toBe(String(i + 1));
      expect(cells.slice(1, 5).map(Number)).toEqual(source[i]!.slice(0, 4).map(Number));
      const p = cells.slice(6).map(Number);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    });
    const evaluation = await evaluateVersion(db.client, store, USER, {
      modelName: DEMO_MODEL.name,
      version: 2,
      datasetName: "iris",
    });
    const metrics = evaluation.metrics as ClassificationMetrics;
    const { labels, matrix } = metrics.confusionMatrix;
    const counts = Object.fromEntries(
      labels.map((label, p) => [label, matrix.reduce((s, row) => s + row[p]!, 0)]),
    );
    const batchCounts: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
    for (const label of predicted) batchCounts[label] = (batchCounts[label] ?? 0) + 1;
    expect(batchCounts).toEqual(counts);
    const correct = predicted.filter((label, i) => label === source[i]![4]).length;
    expect(correct / 150).toBeCloseTo(metrics.accuracy, 12);

    const listed = await listBatchPredictions(db.client, DEMO_MODEL.name);
    expect(listed.map((b) => b.id)).toEqual([submitted.id]);
  });

  it("refuses a dataset that does not fit, an unknown model, alias or dataset, and queues nothing", async () => {
    await seedDemo(db.client, store);
    await registerIris(db.client, store, "iris-3", ["sepal_length", "sepal_width", "petal_length"]);
    const refusal = await submitBatchPrediction(db.client, USER, {
      modelName: DEMO_MODEL.name,
      datasetName: "iris-3",
    }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ApiError);
    expect((refusal as ApiError).status).toBe(400);
    expect((refusal as ApiError).message).toMatch(/cannot be scored by/);

    for (const input of [
      { modelName: "no-such-model", datasetName: "iris-3" },
      { modelName: DEMO_MODEL.name, datasetName: "no-such-dataset" },
      { modelName: DEMO_MODEL.name, datasetName: "iris-3", alias: "challenger" },
      { modelName: DEMO_MODEL.name, datasetName: "iris-3", version: 99 },
    ]) {
      const e = await submitBatchPrediction(db.client, USER, input).catch((x: unknown) => x);
      expect((e as ApiError).status, JSON.stringify(input)).toBe(404);
    }
    expect(await db.client.batchPrediction.count()).toBe(0);
  });

  it("a batch prediction whose worker died (lease not renewed) ends failed after its lease", async () => {
    await seedDemo(db.client, store);
    await registerIris(db.client, store);
    const submitted = await submitBatchPrediction(db.client, USER, {
      modelName: DEMO_MODEL.name,
      datasetName: "iris",
    });
    // A scheduler claims it with a 300 ms lease, then dies: nothing renews it.
    expect(await claimNextBatch(db.client, "dead-scheduler", 300)).toBe(submitted.id);
    expect((await getBatchPrediction(db.client, submitted.id)).status).toBe("running");
    poller = newPoller();
    await poller.pollOnce();
    expect((await getBatchPrediction(db.client, submitted.id)).status).toBe("running");
    await new Promise((r) => setTimeout(r, 500));
    await poller.pollOnce();
    const failed = await getBatchPrediction(db.client, submitted.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/dead-scheduler.*lease expired/);
    expect(failed.resultUrl).toBeNull();
  });

  it("cancel: a queued one is never run, a running one is stopped, an ended one is refused", async () => {
    await seedDemo(db.client, store);
    const [header, ...rows] = (await irisCsv()).trimEnd().split("\n");
    const body = rows.join("\n") + "\n";
    await registerDatasetBytes(db.client, store, SYSTEM_ACTOR, header + "\n" + body.repeat(2000), {
      name: "iris-big",
      labelColumn: "species",
      mapping: { kind: "tensor", input: "features", columns: DEMO_MODEL.features.v2 },
    });
    const submit = () =>
      submitBatchPrediction(db.client, USER, {
        modelName: DEMO_MODEL.name,
        datasetName: "iris-big",
      });

    const queued = await submit();
    expect((await cancelBatchPrediction(db.client, USER, queued.id)).status).toBe("cancelled");
    poller = newPoller(900);
    await poller.pollOnce();
    await poller.idle();
    expect((await getBatchPrediction(db.client, queued.id)).status).toBe("cancelled");

    const running = await submit();
    await poller.pollOnce();
    expect((await getBatchPrediction(db.client, running.id)).status).toBe("running");
    await cancelBatchPrediction(db.client, USER, running.id);
    await poller.idle(); // the next renewal finds it cancelled and stops the child
    const ended = await getBatchPrediction(db.client, running.id);
    expect(ended).toMatchObject({ status: "cancelled", resultUrl: null });
    expect(ended.error).toMatch(/Cancelled by grace@example.com/);
    const again = await cancelBatchPrediction(db.client, USER, running.id).catch((e: unknown) => e);
    expect((again as ApiError).status).toBe(409);
  });
});
