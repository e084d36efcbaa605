/**
 * The actions, run in this process through the real queue and executor: import (idempotent,
 * non-ONNX files reported, no way out of the imports directory), the external trainer
 * (success with lineage, non-zero exit, time limit), and evaluate-and-promote without
 * lib/evaluation. Bad input must be reported clearly and leave nothing half-made.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { executeRun } from "../../../lib/jobs/executor";
import { createJob, getRun, runJobNow } from "../../../lib/jobs/jobs";
import { claimNextRun } from "../../../lib/jobs/runs";
import type { JobActionInput } from "../../../lib/jobs/action-schema";
import { createLogger } from "../../../lib/log";
import { getModel, setAlias } from "../../../lib/registry";
import { DEMO_MODEL } from "../../../prisma/seed/demo-model";
import {
  ADMIN,
  constantClassifier,
  irisClassifier,
  modelWithVersions,
  registerIris,
} from "../evaluation/harness";
import { truncateAll, useTestDatabase } from "../helpers/db";
import {
  classifierBytes,
  onnxBytes,
  OPERATOR,
  seedDataset,
  seedModel,
  settingsFor,
  storeFor,
  tempDataDir,
} from "./harness";

const db = useTestDatabase({ truncate: false });
let data: Awaited<ReturnType<typeof tempDataDir>>;
const log = createLogger("jobs-test", process.env.MODELDECK_LOG_LEVEL ?? "silent");
let incoming: string;

beforeAll(async () => {
  data = await tempDataDir();
});
afterAll(() => data.cleanup());
beforeEach(async () => {
  await truncateAll(db.url);
  await fs.rm(path.join(data.dir, "imports"), { recursive: true, force: true });
  incoming = path.join(data.dir, "imports", "incoming");
  await fs.mkdir(incoming, { recursive: true });
  await seedModel(db.client, storeFor(data.dir));
});

let jobCount = 0;
/** Creates a disabled job with `action`, runs it now in this process, returns the ended run. */
async function runOnce(action: JobActionInput, env: Record<string, string> = {}, jobName?: string) {
  const name = jobName ?? `job-${++jobCount}`;
  const existing = await db.client.refreshJob.findUnique({ where: { name } });
  const job =
    existing ??
    (await createJob(db.client, OPERATOR, {
      name,
      model: "churn",
      schedule: "0 3 * * *",
      enabled: false,
      action,
    }));
  const queued = await runJobNow(db.client, OPERATOR, job.id);
  const settings = settingsFor(data.dir, env);
  const deps = { db: db.client, store: storeFor(data.dir), settings, instanceId: "test", log };
  for (;;) {
    const claimed = await claimNextRun(db.client, "test", settings.leaseMs);
    if (claimed) await executeRun(deps, claimed, new AbortController().signal);
    const run = await getRun(db.client, queued.id);
    if (run.status === "succeeded" || run.status === "failed") return run;
    await db.client.jobRun.update({ where: { id: run.id }, data: { availableAt: new Date(0) } });
  }
}

const versions = () =>
  db.client.modelVersion
    .findMany({ where: { model: { name: "churn" } }, orderBy: { version: "asc" } })
    .then((rows) =>
      rows.map((v) => ({ version: v.version, lineage: v.lineageKind, file: v.originalFilename })),
    );

describe("import", () => {
  it("registers new .onnx files once (idempotent by sha256) and reports what it did not import", async () => {
    await fs.writeFile(path.join(incoming, "a.onnx"), onnxBytes(10));
    await fs.writeFile(path.join(incoming, "b.onnx"), onnxBytes(11));
    await fs.writeFile(path.join(incoming, "broken.onnx"), "this is not a model");
    await fs.writeFile(path.join(incoming, "README.txt"), "notes");
    await fs.writeFile(path.join(incoming, "again.onnx"), classifierBytes(1)); // v2's bytes
    const first = await runOnce({ type: "import", directory: "incoming" }, {}, "imp");
    expect(first.status, first.error ?? "").toBe("succeeded");
    expect(first.result).toMatchObject({
      directory: "imports/incoming",
      imported: [
        { file: "a.onnx", version: 3 },
        { file: "b.onnx", version: 4 },
      ],
      rejected: [{ file: "broken.onnx", reason: expect.any(String) }],
      ignored: [{ file: "README.txt", reason: "is not a .onnx file" }],
    });
    const skipped = (first.result as { skipped: { file: string; reason: string }[] }).skipped;
    expect(skipped).toEqual([
      expect.objectContaining({ file: "again.onnx", reason: "already registered as version 2" }),
    ]);
    const lines = first.log.map((l) => l.line).join("\n");
    expect(lines).toMatch(/broken\.onnx: rejected, not a loadable ONNX model/);
    expect(lines).toMatch(/README\.txt: not imported, it is not a \.onnx file/);
    expect(await versions()).toEqual([
      { version: 1, lineage: "upload", file: null },
      { version: 2, lineage: "upload", file: null },
      { version: 3, lineage: "import", file: "a.onnx" },
      { version: 4, lineage: "import", file: "b.onnx" },
    ]);
    const second = await runOnce({ type: "import", directory: "incoming" }, {}, "imp");
    expect(second.status).toBe("succeeded");
    expect((second.result as { imported: unknown[] }).imported).toEqual([]);
    expect(await db.client.modelVersion.count()).toBe(4);
    const audit = await db.client.auditEntry.findFirst({
      where: { action: "version.create", actorLabel: "job:imp" },
    });
    expect(audit).not.toBeNull();
  });

  it("never reads outside the imports directory", async () => {
    const outside = path.join(data.dir, "outside");
    await fs.mkdir(outside, { recursive: true });
    await fs.writeFile(path.join(outside, "secret.onnx"), onnxBytes(12));
    await fs.symlink(outside, path.join(data.dir, "imports", "escape"));
    await fs.symlink(path.join(outside, "secret.onnx"), path.join(incoming, "link.onnx"));
    const viaDir = await runOnce({ type: "import", directory: "escape" });
    expect(viaDir).toMatchObject({
      status: "failed",
      attempt: 1,
      error: expect.stringMatching(
        /imports\/escape leads outside the imports directory .* refused/,
      ),
    });
    const viaFile = await runOnce({ type: "import", directory: "incoming" });
    expect(viaFile.status).toBe("succeeded");
    expect(viaFile.result).toMatchObject({
      imported: [],
      ignored: [
        { file: "link.onnx", reason: expect.stringMatching(/outside the imports directory/) },
      ],
    });
    const missing = await runOnce({ type: "import", directory: "does-not-exist" });
    expect(missing.error).toMatch(/imports\/does-not-exist does not exist/);
    expect(await db.client.modelVersion.count()).toBe(2);
  });

  it("fails an import whose evaluation step cannot run, keeping what it imported", async () => {
    await fs.writeFile(path.join(incoming, "c.onnx"), onnxBytes(13));
    const run = await runOnce({
      type: "import",
      directory: "incoming",
      thenEvaluate: { dataset: "no-such-dataset" },
    });
    expect(run).toMatchObject({
      status: "failed",
      attempt: 1,
      error: expect.stringMatching(
        /^Imported 1 version\(s\), then evaluation failed: Dataset "no-such-dataset" was not found/,
      ),
      result: { imported: [{ file: "c.onnx", version: 3 }] },
    });
    expect(await db.client.modelVersion.count()).toBe(3);
  });
});

describe("evaluate and promote", () => {
  /** iris-jobs: v1 sepal-only (production); the dataset is the iris CSV. */
  async function irisModel() {
    const store = storeFor(data.dir);
    await modelWithVersions(db.client, store, "iris-jobs", "classification", [
      await irisClassifier(["sepal_length", "sepal_width"]),
    ]);
    await setAlias(db.client, ADMIN, { modelName: "iris-jobs", alias: "production", version: 1 });
    await registerIris(db.client, store);
  }

  it("import then evaluate: a better imported version is promoted by the job, a worse one never", async () => {
    await irisModel();
    const job = await createJob(db.client, OPERATOR, {
      name: "iris-import",
      model: "iris-jobs",
      schedule: "0 3 * * *",
      enabled: false,
      action: { type: "import", directory: "incoming", thenEvaluate: { dataset: "iris" } },
    });
    await fs.writeFile(path.join(incoming, "worse.onnx"), constantClassifier(0));
    const worse = await runOnce({ type: "import", directory: "incoming" }, {}, job.name);
    expect(worse.status, worse.error ?? "").toBe("succeeded");
    expect(worse.result).toMatchObject({
      imported: [{ file: "worse.onnx", version: 2 }],
      evaluation: { decision: "kept", promotedVersion: null, productionVersion: 1 },
    });
    expect((await getModel(db.client, "iris-jobs")).productionVersion).toBe(1);

    await fs.writeFile(
      path.join(incoming, "better.onnx"),
      await irisClassifier(DEMO_MODEL.features.v2),
    );
    const better = await runOnce({ type: "import", directory: "incoming" }, {}, job.name);
    expect(better.status, better.error ?? "").toBe("succeeded");
    const evaluation = (
      better.result as {
        evaluation: { decision: string; promotedVersion: number; criteria: unknown[] };
      }
    ).evaluation;
    expect(evaluation).toMatchObject({ decision: "promoted", promotedVersion: 3 });
    expect(evaluation.criteria.length).toBeGreaterThan(0);
    expect((await getModel(db.client, "iris-jobs")).productionVersion).toBe(3);
    const history = await db.client.aliasHistory.findFirstOrThrow({
      where: { alias: "production", toVersion: { version: 3 } },
    });
    expect(history.actorLabel).toBe("job:iris-import");
  }, 120_000);

  it("an evaluate-and-promote job records the decision with its criteria; an unknown dataset fails clearly", async () => {
    await irisModel();
    const none = await runOnce({ type: "evaluate-and-promote", dataset: "iris" });
    expect(none.status, none.error ?? "").toBe("succeeded");
    expect(none.result).toMatchObject({
      decision: { decision: "kept", reason: expect.any(String) },
    });
    const missing = await runOnce({ type: "evaluate-and-promote", dataset: "nope" });
    expect(missing).toMatchObject({
      status: "failed",
      attempt: 1,
      error: expect.stringMatching(/Dataset "nope" was not found/),
    });
  }, 60_000);
});

describe("retrain with the external trainer", () => {
  beforeEach(() => seedDataset(db.client, storeFor(data.dir)));

  const trainer = (script: string) => ({
    MODELDECK_TRAINER_COMMAND: JSON.stringify(["/bin/sh", "-c", script, "test-trainer"]),
  });

  it("registers the trainer's ONNX output as a new version whose parent is production", async () => {
    const source = path.join(data.dir, "trained.onnx");
    await fs.writeFile(source, onnxBytes(14));
    const run = await runOnce(
      { type: "retrain", dataset: "holdout" },
      trainer(
        `echo "rows: $(wc -l < "$DATASET_PATH")"; echo warn >&2; cp '${source}' "$OUTPUT_PATH"`,
      ),
    );
    expect(run.status, run.error ?? "").toBe("succeeded");
    expect(run.result).toMatchObject({ parentVersion: 2, registered: { version: 3 }, exitCode: 0 });
    expect(run.log.map((l) => [l.stream, l.line])).toEqual(
      expect.arrayContaining([
        ["stdout", "rows: 3"],
        ["stderr", "warn"],
      ]),
    );
    const v3 = await db.client.modelVersion.findFirstOrThrow({
      where: { version: 3 },
      include: { parentVersion: true },
    });
    expect(v3).toMatchObject({
      lineageKind: "retrain",
      createdByLabel: expect.stringMatching(/^job:/),
    });
    expect(v3.parentVersion?.version).toBe(2);
  });

  it("a non-zero exit, a run past the limit, or output that is not ONNX fail the run and register nothing", async () => {
    const exit3 = await runOnce(
      { type: "retrain", dataset: "holdout" },
      trainer("echo boom >&2; exit 3"),
    );
    expect(exit3).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/The trainer exited with code 3 .* nothing was registered/),
    });
    expect(exit3.log.some((l) => l.stream === "stderr" && l.line === "boom")).toBe(true);
    const slow = await runOnce(
      { type: "retrain", dataset: "holdout", timeLimitSeconds: 1 },
      trainer("sleep 30"),
    );
    expect(slow).toMatchObject({
      status: "failed",
      error: expect.stringMatching(
        /ran past its time limit of 1 s and was stopped; nothing was registered/,
      ),
    });
    expect(slow.durationMs!).toBeLessThan(25_000);
    const junk = await runOnce(
      { type: "retrain", dataset: "holdout" },
      trainer('echo not-onnx > "$OUTPUT_PATH"'),
    );
    expect(junk.error).toMatch(/not a loadable ONNX model/);
    const nothing = await runOnce({ type: "retrain", dataset: "holdout" }, trainer("true"));
    expect(nothing.error).toMatch(/wrote nothing to OUTPUT_PATH/);
    const noData = await runOnce({ type: "retrain", dataset: "missing" }, trainer("true"));
    expect(noData.error).toMatch(/Dataset "missing" was not found; nothing was trained/);
    const unconfigured = await runOnce({ type: "retrain", dataset: "holdout" });
    expect(unconfigured.error).toMatch(
      /No external trainer is configured: an admin sets MODELDECK_TRAINER_COMMAND/,
    );
    expect(await db.client.modelVersion.count()).toBe(2);
    const production = await db.client.modelAlias.findFirstOrThrow({
      where: { name: "production" },
      include: { version: true },
    });
    expect(production.version.version).toBe(2);
  }, 60_000);
});
