/**
 * Drift end to end on the real database: a dataset registered and evaluated the way the
 * product does it, served inputs written through the serving process's prediction-log sink,
 * and the scores compared with values computed independently by SciPy
 * (lib/monitoring/fixtures/drift-reference.json; tolerances as in drift-stats.test.ts).
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "../../../app/api/v1/models/[name]/drift/route";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import { registerDatasetBytes } from "../../../lib/datasets";
import { evaluateVersion } from "../../../lib/evaluation";
import {
  currentDriftScore,
  latestDriftSnapshot,
  listDriftSnapshots,
  snapshotDrift,
} from "../../../lib/monitoring/drift";
import fixture from "../../../lib/monitoring/fixtures/drift-reference.json";
import { postgresPredictionSink, type PredictionRecord } from "../../../lib/serving/prediction-log";
import { LocalArtifactStore } from "../../../lib/storage";
import { linearRegressor, modelWithVersions, USER } from "../evaluation/harness";
import { truncateAll, useTestDatabase } from "../helpers/db";
import { tempRoot } from "../storage/harness";

const close = (actual: number, expected: number, rel: number, abs = 1e-12) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(abs, rel * Math.abs(expected)));
const closePValue = (actual: number, expected: number) =>
  expected < 1e-6
    ? expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-12)
    : close(actual, expected, 1e-6);

const ds = fixture.dataset;
const col = (name: string) =>
  [...ds.numeric, ...ds.categorical].find((c) => c.name === `dataset/${name}`)!;
const FEATURES = ds.columns.map((c) => c.name);
const MODEL = "drift-fixture";

describe("drift on the real database, against SciPy's values", () => {
  const db = useTestDatabase({ truncate: false });
  let store: LocalArtifactStore;
  let cleanup: () => Promise<void>;
  let modelId: string;
  const now = new Date();

  beforeAll(async () => {
    await truncateAll(db.url);
    const t = await tempRoot();
    cleanup = t.cleanup;
    store = new LocalArtifactStore({ root: path.join(t.dir, "artifacts"), durable: false });

    // Reference: the fixture's 600 reference rows as a CSV dataset, evaluated on v1.
    await modelWithVersions(db.client, store, MODEL, "regression", [linearRegressor([1, 1, 1], 0)]);
    const refRows = col("x_shift").reference.length;
    const csv = [
      [...FEATURES, "y"].join(","),
      ...Array.from({ length: refRows }, (_, r) =>
        [...FEATURES.map((f) => String(col(f).reference[r])), "0"].join(","),
      ),
    ].join("\n");
    await registerDatasetBytes(db.client, store, USER, csv, {
      name: MODEL,
      labelColumn: "y",
      mapping: { kind: "tensor", input: "features", columns: FEATURES },
    });
    const evaluation = await evaluateVersion(db.client, store, USER, {
      modelName: MODEL,
      version: 1,
      datasetName: MODEL,
    });
    expect(evaluation.status).toBe("succeeded");
    const model = await db.client.model.findUniqueOrThrow({ where: { name: MODEL } });
    modelId = model.id;
    const version = await db.client.modelVersion.findFirstOrThrow({ where: { modelId } });

    // Current: the fixture's 400 current rows as served requests of 1–8 rows, alternating the
    // OIP tensor form (flat and nested data) and the /predict rows form, within the last hour.
    const curRows = col("x_shift").current.length;
    const rowAt = (r: number) => FEATURES.map((f) => col(f).current[r]!);
    const records: PredictionRecord[] = [];
    const base = {
      modelId,
      model: MODEL,
      versionId: version.id,
      version: 1,
      alias: "production",
      status: 200,
      latencyMs: 1,
    };
    const sizes = [1, 2, 3, 5, 8];
    for (let r = 0, k = 0; r < curRows; k++) {
      const n = Math.min(sizes[k % sizes.length]!, curRows - r);
      const rows = Array.from({ length: n }, (_, i) => rowAt(r + i));
      const inputs =
        k % 3 === 0
          ? [{ name: "features", shape: [n, 3], datatype: "FP32", data: rows.flat() }]
          : k % 3 === 1
            ? [{ name: "features", shape: [n, 3], datatype: "FP32", data: rows }]
            : rows;
      records.push({
        ...base,
        requestId: randomUUID(),
        rows: n,
        inputs: JSON.stringify(inputs),
        at: new Date(now.getTime() - 60_000 - k * 1000),
      });
      r += n;
    }
    // Not sampled (no inputs), another tensor name (skipped), and hugely shifted rows before
    // the window: none of them may count.
    records.push({ ...base, requestId: randomUUID(), rows: 1, inputs: null, at: now });
    records.push({
      ...base,
      requestId: randomUUID(),
      rows: 1,
      inputs: JSON.stringify([{ name: "other", shape: [1, 3], datatype: "FP32", data: [9, 9, 9] }]),
      at: now,
    });
    for (let i = 0; i < 100; i++) {
      records.push({
        ...base,
        requestId: randomUUID(),
        rows: 1,
        inputs: JSON.stringify([
          { name: "features", shape: [1, 3], datatype: "FP32", data: [50, 50, 7] },
        ]),
        at: new Date(now.getTime() - 2 * 3_600_000),
      });
    }
    const sink = postgresPredictionSink(db.url);
    await sink.insert(records, "test-serving");
    await sink.end();
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it("per-feature PSI, KS and chi-square equal SciPy's; the score is the share drifted", async () => {
    const result = await currentDriftScore(db.client, {
      modelId,
      windowMs: 3_600_000,
      now,
      store,
    });
    expect(result.problem).toBeNull();
    expect(result.reference).toMatchObject({
      dataset: MODEL,
      datasetVersion: 1,
      rowCount: 600,
      evaluatedVersion: 1,
      basis: "latest",
    });
    expect(result.sample).toMatchObject({ rows: 400, skipped: 1, truncated: false });
    expect(result.features.map((f) => [f.feature, f.kind, f.statistic, f.status])).toEqual([
      ["x_shift", "numeric", "psi", "drifted"],
      ["x_stable", "numeric", "psi", "ok"],
      ["cat", "categorical", "chi_square", "drifted"],
    ]);
    for (const f of result.features) {
      expect(f.referenceRows).toBe(600);
      expect(f.currentRows).toBe(400);
      const c = col(f.feature);
      if (f.kind === "numeric") {
        const e = (c as (typeof ds.numeric)[number]).expected;
        close(f.psi!, e.psi, 1e-9);
        close(f.score!, e.psi, 1e-9);
        expect(f.ks!.method).toBe(e.ks.method);
        close(f.ks!.statistic, e.ks.statistic, 1e-12);
        closePValue(f.ks!.pValue, e.ks.pValue);
        close(f.currentMean!, e.currentMean, 1e-9);
      } else {
        const e = (c as (typeof ds.categorical)[number]).expected;
        expect(f.chiSquare!.dof).toBe(e.dof);
        close(f.chiSquare!.statistic, e.statistic, 1e-9);
        closePValue(f.chiSquare!.pValue, e.pValue);
      }
    }
    close(result.score!, ds.expectedScore, 1e-12);
    expect(result).toMatchObject({ driftedFeatures: 2, measuredFeatures: 3, featureCount: 3 });

    // The reference was computed once and stored.
    expect(await db.client.driftReference.count()).toBe(1);
  });

  it("a window without enough sampled inputs is 'not enough data', not a score of 0", async () => {
    const result = await currentDriftScore(db.client, {
      modelId,
      windowMs: 3_600_000,
      now: new Date(now.getTime() + 5 * 3_600_000),
      store,
    });
    expect(result.score).toBeNull();
    expect(result.features.every((f) => f.status === "insufficient_data" && f.score === null)).toBe(
      true,
    );
  });

  it("the snapshot task stores what currentDriftScore measures", async () => {
    expect(await snapshotDrift(db.client, { at: now, store })).toBe(1);
    const latest = await latestDriftSnapshot(db.client, { modelId });
    expect(latest).toMatchObject({ windowMs: 3_600_000, driftedFeatures: 2, featureCount: 3 });
    close(latest!.score!, ds.expectedScore, 1e-12);
    expect(latest!.sampleRows).toBe(400);
    expect(latest!.features).toHaveLength(3);
    const series = await listDriftSnapshots(db.client, {
      modelId,
      from: new Date(now.getTime() - 60_000),
      to: now,
    });
    expect(series.map((s) => s.at)).toEqual([now.toISOString()]);
  });

  describe("GET /api/v1/models/{name}/drift", () => {
    let token: string;
    beforeAll(async () => {
      process.env.BETTER_AUTH_SECRET ??= "integration-test-secret-".padEnd(48, "x");
      token = (
        await createApiToken(db.client, SYSTEM_ACTOR, { name: "drift-viewer", role: "viewer" })
      ).secret;
    });
    const call = (name: string, query = "", auth = true) =>
      GET(
        new Request(`http://localhost/api/v1/models/${name}/drift${query}`, {
          headers: auth ? { authorization: `Bearer ${token}` } : {},
        }),
        { params: Promise.resolve({ name }) },
      );

    it("answers a viewer with the live measurement and the stored history", async () => {
      const response = await call(MODEL, "?window=1h&version=1");
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        drift: { score: number; version: number; windowMs: number; features: { status: string }[] };
        history: { score: number }[];
      };
      expect(body.drift.version).toBe(1);
      expect(body.drift.windowMs).toBe(3_600_000);
      expect(body.drift.features.map((f) => f.status)).toEqual(["drifted", "ok", "drifted"]);
      close(body.drift.score, ds.expectedScore, 1e-12);
      expect(body.history).toHaveLength(1);
    });

    it.each([
      ["?window=2x", "window"],
      ["?window=1m", "window"],
      ["?window=31d", "window"],
      ["?version=0", "version"],
      ["?limit=5", "limit"],
    ])("400 with the field named for %s", async (query, field) => {
      const response = await call(MODEL, query);
      expect(response.status).toBe(400);
      const body = (await response.json()) as {
        error: { code: string; details: { fields: { field: string }[] } };
      };
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.details.fields.map((f) => f.field)).toContain(`query.${field}`);
    });

    it("404 for an unknown model or version, 401 without a token", async () => {
      const unknown = await call("no-such-model");
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");
      expect((await call(MODEL, "?version=9")).status).toBe(404);
      expect((await call(MODEL, "", false)).status).toBe(401);
    });
  });
});
