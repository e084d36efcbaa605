import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import {
  evaluateAndPromote,
  getEvaluation,
  getGate,
  setGate,
  type ClassificationMetrics,
} from "../../../lib/evaluation";
import { getAliasHistory, getModel, setAlias, updateModel } from "../../../lib/registry";
import { buildLogisticRegressionModel } from "../../../lib/onnx/build";
import { LocalArtifactStore } from "../../../lib/storage";
import { DEMO_MODEL } from "../../../prisma/seed/demo-model";
import { useTestDatabase } from "../helpers/db";
import { tempRoot } from "../storage/harness";
import {
  ADMIN,
  constantClassifier,
  irisClassifier,
  modelWithVersions,
  registerIris,
  USER,
} from "./harness";

const JOB = { type: "system" as const, label: "job:nightly-refresh" };

describe("lib/evaluation: evaluateAndPromote and the gate", () => {
  const db = useTestDatabase();
  let store: LocalArtifactStore;
  let cleanup: () => Promise<void>;
  let lines: string[];
  const log = (line: string) => lines.push(line);

  beforeEach(async () => {
    const t = await tempRoot();
    store = new LocalArtifactStore({ root: path.join(t.dir, "artifacts"), durable: false });
    cleanup = t.cleanup;
    lines = [];
  });
  afterEach(() => cleanup());

  /** v1 sepal-only (production), v2 always "setosa", v3 all four features. */
  async function threeVersions(name = "iris-gate", extra: { approvalRequired?: boolean } = {}) {
    await modelWithVersions(db.client, store, name, "classification", [
      await irisClassifier(["sepal_length", "sepal_width"]),
      constantClassifier(0),
      await irisClassifier(DEMO_MODEL.features.v2),
    ]);
    await setAlias(db.client, ADMIN, { modelName: name, alias: "production", version: 1 });
    if (extra.approvalRequired) {
      await updateModel(db.client, ADMIN, name, { approvalRequired: true });
    }
    await registerIris(db.client, store);
  }

  it("promotes the best candidate that passes the gate, naming the evaluation and the metric", async () => {
    await threeVersions();
    await setGate(db.client, USER, "iris-gate", {
      primaryMetric: "accuracy",
      minAbsoluteImprovement: 0.05,
      minRelativeImprovementPct: 2,
      minDatasetRows: 100,
    });
    const result = await evaluateAndPromote(db.client, store, {
      modelName: "iris-gate",
      datasetName: "iris",
      candidates: "newer-than-production",
      actor: JOB,
      log,
      trigger: { kind: "job", ref: "run-42" },
    });
    expect(result.decision).toBe("promoted");
    expect(result.promotedVersion).toBe(3);
    expect(result.productionVersion).toBe(1);
    expect(result.evaluations).toHaveLength(3);
    expect(result.dataset).toEqual({ name: "iris", version: 1 });
    expect(result.gate).toMatchObject({ primaryMetric: "accuracy", isDefault: false });
    expect(result.criteria.map((c) => [c.version, c.pass])).toEqual([
      [2, false],
      [3, true],
    ]);
    const v2 = result.criteria[0]!.criteria.find((c) => !c.pass)!;
    expect(v2.name).toBe("absoluteImprovement");
    expect(v2.message).toMatch(/is worse than production v1/);
    for (const c of result.criteria[1]!.criteria) {
      expect(c).toMatchObject({ pass: true });
      expect(typeof c.message).toBe("string");
    }
    expect((await getModel(db.client, "iris-gate")).productionVersion).toBe(3);

    const [productionEval, , winnerEval] = await Promise.all(
      result.evaluations.map((id) => getEvaluation(db.client, id)),
    );
    expect(productionEval).toMatchObject({ version: 1, trigger: "job", triggerRef: "run-42" });
    expect(winnerEval).toMatchObject({ version: 3, status: "succeeded" });
    const history = await getAliasHistory(db.client, "iris-gate", "production", { limit: 1 });
    expect(history[0]).toMatchObject({
      kind: "promote",
      fromVersion: { version: 1 },
      toVersion: { version: 3 },
      actor: { type: "system", label: "job:nightly-refresh" },
    });
    const before = (productionEval!.metrics as ClassificationMetrics).accuracy.toFixed(4);
    const after = (winnerEval!.metrics as ClassificationMetrics).accuracy.toFixed(4);
    expect(history[0]!.reason).toBe(
      `Evaluate-and-promote: evaluation ${winnerEval!.id} on iris v1: Accuracy ${before} (v1) → ${after} (v3); gate passed.`,
    );
    expect(lines.some((l) => /^v3: Accuracy 0\.\d+, p95 [\d.]+ ms \(evaluation /.test(l))).toBe(
      true,
    );
    expect(lines.at(-1)).toBe("production → v3");
  });

  it("a manual promotion between the run's read of production and its move wins: the run records a conflict", async () => {
    await threeVersions();
    const manual = { ...ADMIN, label: "ada@example.com" };
    const result = await evaluateAndPromote(db.client, store, {
      modelName: "iris-gate",
      datasetName: "iris",
      candidates: "newer-than-production",
      actor: JOB,
      log,
      // The gate has chosen v3 over production v1; a person promotes v2 right now.
      beforeMove: async () => {
        await setAlias(db.client, manual, {
          modelName: "iris-gate",
          alias: "production",
          version: 2,
          reason: "hotfix",
        });
      },
    });
    expect(result).toMatchObject({
      decision: "conflict",
      code: "production_moved",
      promotedVersion: null,
      productionVersion: 1,
      conflict: { winnerVersion: 3, expectedVersion: 1, currentVersion: 2 },
      promotionRequestId: null,
    });
    expect(result.evaluations).toHaveLength(3);
    expect(result.reason).toBe(
      "The gate chose v3, but production moved from v1 to v2 while this run evaluated; nothing was changed.",
    );
    expect(lines.at(-1)).toBe(result.reason);
    expect((await getModel(db.client, "iris-gate")).productionVersion).toBe(2);
    const history = await getAliasHistory(db.client, "iris-gate", "production");
    expect(history.map((h) => [h.toVersion?.version, h.actor.label])).toEqual([
      [2, "ada@example.com"],
      [1, ADMIN.label],
    ]);
    const moves = await db.client.auditEntry.findMany({ where: { action: "alias.move" } });
    expect(moves.map((m) => m.actorLabel)).not.toContain(JOB.label);
  });

  it("says why nothing was evaluated, from the decision's code", async () => {
    await threeVersions();
    await setAlias(db.client, ADMIN, { modelName: "iris-gate", alias: "production", version: 3 });
    const result = await evaluateAndPromote(db.client, store, {
      modelName: "iris-gate",
      datasetName: "iris",
      candidates: "newer-than-production",
      actor: JOB,
      log,
    });
    expect(result).toMatchObject({ decision: "kept", code: "no_candidates", evaluations: [] });
    expect(result.reason).toBe("No version is newer than production; production stays on v3.");
  });

  it("a gate failure never promotes: production and its history stay as they were", async () => {
    await threeVersions();
    await setGate(db.client, USER, "iris-gate", {
      primaryMetric: "accuracy",
      minAbsoluteImprovement: 0.9,
    });
    const historyBefore = await getAliasHistory(db.client, "iris-gate", "production");
    const result = await evaluateAndPromote(db.client, store, {
      modelName: "iris-gate",
      datasetName: "iris",
      candidates: "newer-than-production",
      actor: JOB,
      log,
    });
    expect(result).toMatchObject({ decision: "kept", promotedVersion: null, productionVersion: 1 });
    expect(result.criteria.every((c) => !c.pass)).toBe(true);
    expect(result.reason).toMatch(
      /^No candidate passes the gate \(v2: .*; v3: Accuracy improves by only/,
    );
    expect(result.reason).toMatch(/production stays on v1\.$/);
    expect((await getModel(db.client, "iris-gate")).productionVersion).toBe(1);
    expect(await getAliasHistory(db.client, "iris-gate", "production")).toEqual(historyBefore);

    // Too small a dataset fails the gate even for the better candidate.
    await setGate(db.client, USER, "iris-gate", { primaryMetric: "f1Macro", minDatasetRows: 1000 });
    const tooFew = await evaluateAndPromote(db.client, store, {
      modelName: "iris-gate",
      datasetName: "iris",
      candidates: "newer-than-production",
      actor: JOB,
      log,
    });
    expect(tooFew.decision).toBe("kept");
    expect(tooFew.criteria[1]!.criteria.find((c) => c.name === "minDatasetRows")).toMatchObject({
      value: 150,
      threshold: 1000,
      pass: false,
    });
  });

  it("challenger mode evaluates the challenger alias only", async () => {
    await threeVersions();
    const none = await evaluateAndPromote(db.client, store, {
      modelName: "iris-gate",
      datasetName: "iris",
      candidates: "challenger",
      actor: JOB,
      log,
    });
    expect(none).toMatchObject({ decision: "kept", evaluations: [] });
    expect(none.reason).toBe("No challenger to evaluate; production stays on v1.");

    await setAlias(db.client, ADMIN, { modelName: "iris-gate", alias: "challenger", version: 2 });
    const bad = await evaluateAndPromote(db.client, store, {
      modelName: "iris-gate",
      datasetName: "iris",
      candidates: "challenger",
      actor: JOB,
      log,
    });
    expect(bad.decision).toBe("kept");
    expect(bad.criteria.map((c) => c.version)).toEqual([2]);
    expect(bad.gate.isDefault).toBe(true);

    await setAlias(db.client, ADMIN, { modelName: "iris-gate", alias: "challenger", version: 3 });
    const good = await evaluateAndPromote(db.client, store, {
      modelName: "iris-gate",
      datasetName: "iris",
      candidates: "challenger",
      actor: JOB,
      log,
    });
    expect(good).toMatchObject({ decision: "promoted", promotedVersion: 3 });
  });

  it("with no production, promotes the best candidate; a candidate the dataset does not fit fails", async () => {
    await modelWithVersions(db.client, store, "fresh", "classification", [
      constantClassifier(1),
      await irisClassifier(DEMO_MODEL.features.v2),
      // Two inputs wide: the 4-column dataset cannot feed it.
      buildLogisticRegressionModel({
        weights: [
          [1, 0, 0],
          [0, 1, 0],
        ],
        bias: [0, 0, 0],
        classLabels: DEMO_MODEL.classLabels,
      }),
    ]);
    await registerIris(db.client, store);
    const result = await evaluateAndPromote(db.client, store, {
      modelName: "fresh",
      datasetName: "iris",
      candidates: "newer-than-production",
      actor: JOB,
      log,
    });
    expect(result).toMatchObject({
      decision: "promoted",
      promotedVersion: 2,
      productionVersion: null,
    });
    expect(result.reason).toMatch(/^Promote v2 \(best of 2 passing candidates\): Accuracy/);
    expect(result.evaluations).toHaveLength(2);
    const misfit = result.criteria.find((c) => c.version === 3)!;
    expect(misfit.pass).toBe(false);
    expect(misfit.criteria[0]!.message).toMatch(
      /^v3's evaluation failed: Dataset iris v1 cannot be scored by fresh v3: Dataset maps 4 columns to input "features", but the model expects 2\.$/,
    );
  });

  it("a model that needs approval gets a pending request instead of a move", async () => {
    await threeVersions("guarded", { approvalRequired: true });
    const result = await evaluateAndPromote(db.client, store, {
      modelName: "guarded",
      datasetName: "iris",
      candidates: "newer-than-production",
      actor: JOB,
      log,
    });
    expect(result.decision).toBe("kept");
    expect(result.promotionRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.reason).toMatch(/requires approval: promotion request .* is pending/);
    expect((await getModel(db.client, "guarded")).productionVersion).toBe(1);
  });

  it("a cancelled run promotes nothing", async () => {
    await threeVersions();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("job stopped")), 100);
    await expect(
      evaluateAndPromote(db.client, store, {
        modelName: "iris-gate",
        datasetName: "iris",
        candidates: "newer-than-production",
        actor: JOB,
        log,
        signal: controller.signal,
      }),
    ).rejects.toThrow(/job stopped/);
    expect((await getModel(db.client, "iris-gate")).productionVersion).toBe(1);
  });

  it("stores a gate per model, audited, with defaults and task checks", async () => {
    await modelWithVersions(db.client, store, "reg", "regression", []);
    expect(await getGate(db.client, "reg")).toMatchObject({
      primaryMetric: "rmse",
      direction: "lower",
      isDefault: true,
      updatedBy: null,
    });
    const set = await setGate(db.client, USER, "reg", {
      primaryMetric: "r2",
      minAbsoluteImprovement: 0.01,
      maxLatencyRegressionPct: 25,
    });
    expect(set).toMatchObject({
      model: "reg",
      primaryMetric: "r2",
      direction: "higher",
      minAbsoluteImprovement: 0.01,
      minRelativeImprovementPct: 0,
      maxLatencyRegressionPct: 25,
      minDatasetRows: 0,
      isDefault: false,
      updatedBy: { type: "user", label: USER.label },
    });
    const audit = await db.client.auditEntry.findMany({ where: { action: "gate.update" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      before: { model: "reg", gate: null },
      after: { model: "reg", gate: { primaryMetric: "r2", direction: "higher" } },
    });
    const wrongTask = await setGate(db.client, USER, "reg", { primaryMetric: "accuracy" }).catch(
      (e: unknown) => e as ApiError,
    );
    expect(wrongTask).toMatchObject({ status: 400 });
    expect((wrongTask as ApiError).message).toMatch(
      /accuracy is a classification metric, but reg is a regression model/,
    );
    await expect(
      setGate(db.client, USER, "reg", { primaryMetric: "mae", minDatasetRows: -3 }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(getGate(db.client, "nope")).rejects.toMatchObject({ status: 404 });
    expect(await db.client.auditEntry.count({ where: { action: "gate.update" } })).toBe(1);
  });
});
