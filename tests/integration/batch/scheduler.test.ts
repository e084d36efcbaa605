import { text } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { getBatchPrediction, getBatchResult, submitBatchPrediction } from "../../../lib/batch";
import { registerDatasetBytes } from "../../../lib/datasets";
import type { ArtifactStore } from "../../../lib/storage";
import { DEMO_MODEL } from "../../../prisma/seed/demo-model";
import { irisCsv, registerIris, seedDemo, USER } from "../evaluation/harness";
import { useTestDatabase } from "../helpers/db";
import {
  startScheduler,
  storeFor,
  tempDataDir,
  until,
  type SchedulerProcess,
} from "../jobs/harness";

describe("batch predictions in real scheduler processes", () => {
  const db = useTestDatabase();
  let data: { dir: string; cleanup: () => Promise<void> };
  let store: ArtifactStore;
  const schedulers: SchedulerProcess[] = [];

  beforeEach(async () => {
    data = await tempDataDir();
    store = storeFor(data.dir);
  });
  afterEach(async () => {
    await Promise.all(schedulers.splice(0).map((s) => s.stop("SIGKILL")));
    await data.cleanup();
  });

  const start = async () => {
    const s = await startScheduler({ databaseUrl: db.url, dataDir: data.dir });
    schedulers.push(s);
    return s;
  };

  it("a scheduler takes a queued batch prediction from the queue and stores its CSV", async () => {
    await seedDemo(db.client, store);
    await registerIris(db.client, store);
    const submitted = await submitBatchPrediction(db.client, USER, {
      modelName: DEMO_MODEL.name,
      datasetName: "iris",
      alias: "production",
    });
    await start();
    const done = await until(
      async () => {
        const b = await getBatchPrediction(db.client, submitted.id);
        return b.status === "succeeded" || b.status === "failed" ? b : null;
      },
      30_000,
      "the batch prediction to end",
    );
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: "succeeded", rowsDone: 150, version: 2 });
    const { key } = await getBatchResult(db.client, submitted.id);
    expect((await text(await store.openRead(key))).trimEnd().split("\n")).toHaveLength(151);
  });

  it("kill -9 of the scheduler mid-run: the batch prediction ends failed after its lease", async () => {
    await seedDemo(db.client, store);
    // Iris repeated to 300,000 rows: long enough to be killed while running.
    const csv = await irisCsv();
    const [header, ...rows] = csv.trimEnd().split("\n");
    const body = rows.join("\n") + "\n";
    await registerDatasetBytes(db.client, store, SYSTEM_ACTOR, header + "\n" + body.repeat(2000), {
      name: "iris-big",
      labelColumn: "species",
      mapping: { kind: "tensor", input: "features", columns: DEMO_MODEL.features.v2 },
    });
    const submitted = await submitBatchPrediction(db.client, USER, {
      modelName: DEMO_MODEL.name,
      datasetName: "iris-big",
    });
    const victim = await start();
    await until(
      async () => (await getBatchPrediction(db.client, submitted.id)).status === "running",
      30_000,
      "the batch prediction to start",
    );
    await victim.stop("SIGKILL");
    const stuck = await getBatchPrediction(db.client, submitted.id);
    expect(stuck.status).toBe("running");
    expect(stuck.rowsDone).toBeLessThan(stuck.rowsTotal);

    await start(); // a live scheduler notices the expired lease (3 s in the harness)
    const failed = await until(
      async () => {
        const b = await getBatchPrediction(db.client, submitted.id);
        return b.status === "failed" ? b : null;
      },
      30_000,
      "the batch prediction to be failed",
    );
    expect(failed.error).toMatch(/lease expired/);
    expect(failed.resultUrl).toBeNull();
  });
});
