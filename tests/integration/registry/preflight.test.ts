import { chmod, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { encodeModel } from "../../../lib/onnx/build";
import type { OnnxSignature } from "../../../lib/onnx/types";
import {
  approvePromotion,
  archiveVersion,
  createModel,
  getAlias,
  getVersion,
} from "../../../lib/registry";
import {
  preflightArtifact,
  preflightVersion,
  promoteAlias,
  type PreflightResult,
} from "../../../lib/registry/preflight";
import { registerVersionBytes } from "../../../lib/registry/upload";
import { LocalArtifactStore } from "../../../lib/storage";
import { tempRoot } from "../storage/harness";
import { useRegistryDb } from "./fixtures";

/** y = x·w: features float32 [batch, 2] → prediction float32 [batch, 1]. */
function linear(w: [number, number]): Buffer {
  return encodeModel({
    graph: {
      name: "linear",
      inputs: [{ name: "features", type: "float32", shape: ["batch", 2] }],
      outputs: [{ name: "prediction", type: "float32", shape: ["batch", 1] }],
      initializers: [{ name: "W", type: "float32", dims: [2, 1], data: w }],
      nodes: [{ op: "MatMul", inputs: ["features", "W"], outputs: ["prediction"] }],
    },
  });
}

/** The same signature, but its node is in an operator domain onnxruntime does not know. */
const unknownDomain = encodeModel({
  graph: {
    name: "linear",
    inputs: [{ name: "features", type: "float32", shape: ["batch", 2] }],
    outputs: [{ name: "prediction", type: "float32", shape: ["batch", 1] }],
    nodes: [
      {
        op: "Score",
        domain: "com.example.private",
        inputs: ["features"],
        outputs: ["prediction"],
      },
    ],
  },
  opsets: [
    { domain: "", version: 17 },
    { domain: "com.example.private", version: 1 },
  ],
});

/** x float32 [n] reshaped to [2, 2]: loads fine, runs only when n = 4. */
const reshapeToFour = encodeModel({
  graph: {
    name: "reshape",
    inputs: [{ name: "x", type: "float32", shape: ["n"] }],
    outputs: [{ name: "y", type: "float32", shape: [2, 2] }],
    initializers: [{ name: "shape", type: "int64", dims: [2], data: [2n, 2n] }],
    nodes: [{ op: "Reshape", inputs: ["x", "shape"], outputs: ["y"] }],
  },
});

const sample = (n: number) => ({
  inputs: [
    { name: "x", shape: [n], datatype: "FP32", data: Array.from({ length: n }, (_, i) => i) },
  ],
});

describe("promotion pre-flight", () => {
  const t = useRegistryDb();
  const db = () => t.db.client;
  let store: LocalArtifactStore;
  let root: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    const temp = await tempRoot();
    root = path.join(temp.dir, "artifacts");
    store = new LocalArtifactStore({ root, durable: false });
    cleanup = temp.cleanup;
  });
  afterEach(() => cleanup());

  /** Model `name` with a good v1 and v2, and v3 whose stored file onnxruntime cannot load. */
  async function modelWithBrokenV3(name: string, extra: { approvalRequired?: boolean } = {}) {
    const admin = await t.seedActor("admin");
    await createModel(db(), admin, { name, task: "regression", ...extra });
    for (const bytes of [linear([1, 2]), linear([3, 4]), linear([5, 6])]) {
      await registerVersionBytes(db(), store, admin, bytes, {
        modelName: name,
        lineage: { kind: "upload" },
      });
    }
    // Upload refuses such a model, so the test puts it in place of v3's (valid) file.
    const v3 = await getVersion(db(), name, 3);
    const file = path.join(root, v3.storageKey);
    await chmod(file, 0o644);
    await writeFile(file, unknownDomain);
    return { admin, file };
  }

  it("a version that loads passes, and its promotion carries the pre-flight into the answer and the audit entry", async () => {
    const { admin } = await modelWithBrokenV3("good");
    const preflight = await preflightVersion(db(), store, { modelName: "good", version: 2 });
    expect(preflight).toMatchObject({
      model: "good",
      version: 2,
      outcome: "passed",
      stage: null,
      sampleRequest: "none",
      overridden: false,
    });
    expect(preflight.loadMs).toBeGreaterThanOrEqual(0);
    expect(preflight.message).toMatch(/^onnxruntime loaded it in \d+ ms \(it has no sample/);

    const moved = await t.oneAudit("alias.move", () =>
      promoteAlias(db(), store, admin, {
        modelName: "good",
        alias: "production",
        version: 2,
        expectedVersion: null,
      }),
    );
    expect(moved).toMatchObject({
      outcome: "moved",
      alias: { version: 2 },
      preflight: { outcome: "passed", version: 2, overridden: false },
    });
    expect((await t.auditRows()).at(-1)!.after).toMatchObject({
      version: 2,
      preflight: { outcome: "passed", stage: null, sampleRequest: "none", overridden: false },
    });

    // Already there: nothing to check, nothing written.
    expect(
      await promoteAlias(db(), store, admin, {
        modelName: "good",
        alias: "production",
        version: 2,
      }),
    ).toMatchObject({ outcome: "unchanged", preflight: null });
  });

  it("a version onnxruntime cannot load is refused with the reason; with the override it moves, audited", async () => {
    const { admin } = await modelWithBrokenV3("broken");
    await promoteAlias(db(), store, admin, {
      modelName: "broken",
      alias: "production",
      version: 1,
    });

    const preflight = await preflightVersion(db(), store, { modelName: "broken", version: 3 });
    expect(preflight).toMatchObject({ outcome: "failed", stage: "load", loadMs: null });
    expect(preflight.message).toMatch(
      /^onnxruntime cannot load this model: .*com\.example\.private/,
    );
    expect(preflight.message).not.toContain(root); // no server paths

    const refused = await t.refused(422, () =>
      promoteAlias(db(), store, admin, {
        modelName: "broken",
        alias: "production",
        version: 3,
        expectedVersion: 1,
      }),
    );
    expect(refused.code).toBe("unprocessable");
    expect(refused.message).toMatch(
      /^Version 3 of model broken failed its pre-flight, so production was not moved: onnxruntime cannot load this model: .*To promote it anyway, confirm the override/,
    );
    expect((refused.details as { preflight: PreflightResult }).preflight).toMatchObject({
      outcome: "failed",
      stage: "load",
    });
    expect((await getAlias(db(), "broken", "production")).version).toBe(1);

    const forced = await t.oneAudit("alias.move", () =>
      promoteAlias(db(), store, admin, {
        modelName: "broken",
        alias: "production",
        version: 3,
        expectedVersion: 1,
        override: true,
        reason: "the serving fleet has the plugin",
      }),
    );
    expect(forced).toMatchObject({
      outcome: "moved",
      alias: { version: 3 },
      preflight: { outcome: "failed", stage: "load", overridden: true },
    });
    expect((await t.auditRows()).at(-1)).toMatchObject({
      action: "alias.move",
      before: { version: 1 },
      after: {
        version: 3,
        reason: "the serving fleet has the plugin",
        preflight: {
          outcome: "failed",
          stage: "load",
          overridden: true,
          message: expect.stringMatching(/^onnxruntime cannot load this model/),
        },
      },
    });
  });

  it("checks the cheap things first: a stale expectedVersion or an archived version is a 409, an unknown one a 404", async () => {
    const { admin } = await modelWithBrokenV3("stale");
    await promoteAlias(db(), store, admin, { modelName: "stale", alias: "staging", version: 1 });
    const stale = await t.refused(409, () =>
      promoteAlias(db(), store, admin, {
        modelName: "stale",
        alias: "staging",
        version: 3,
        expectedVersion: 2,
      }),
    );
    expect(stale.message).toMatch(/points at v1, not v2/);
    await archiveVersion(db(), admin, { modelName: "stale", version: 2 });
    await t.refused(409, () =>
      promoteAlias(db(), store, admin, { modelName: "stale", alias: "staging", version: 2 }),
    );
    await t.refused(404, () =>
      promoteAlias(db(), store, admin, { modelName: "stale", alias: "staging", version: 9 }),
    );
  });

  it("a model that needs approval: the request is refused too unless overridden, and approval still moves it", async () => {
    const { admin } = await modelWithBrokenV3("guarded", { approvalRequired: true });
    const other = await t.seedActor("admin", "approver");
    await t.refused(422, () =>
      promoteAlias(db(), store, admin, { modelName: "guarded", alias: "production", version: 3 }),
    );
    expect(await db().promotionRequest.count()).toBe(0);
    const requested = await t.oneAudit("promotion.request", () =>
      promoteAlias(db(), store, admin, {
        modelName: "guarded",
        alias: "production",
        version: 3,
        override: true,
      }),
    );
    expect(requested).toMatchObject({
      outcome: "requested",
      preflight: { outcome: "failed", overridden: true },
    });
    expect((await t.auditRows()).at(-1)!.after).toMatchObject({
      status: "pending",
      preflight: { outcome: "failed", overridden: true },
    });
    if (requested.outcome !== "requested") throw new Error("unreachable");
    const approved = await approvePromotion(db(), other, { requestId: requested.request.id });
    expect(approved.alias.version).toBe(3);
  });

  it("runs the stored sample request: one that fits and runs passes, one that fails at run time or does not fit fails", async () => {
    const target = {
      model: "reshape",
      version: 1,
      storageKey: "",
      signature: {
        inputs: [{ name: "x", kind: "tensor", dtype: "float32", shape: ["n"] }],
        outputs: [{ name: "y", kind: "tensor", dtype: "float32", shape: [2, 2] }],
      } as unknown as OnnxSignature,
      sampleRequest: null as unknown,
    };
    const admin = await t.seedActor("admin");
    await createModel(db(), admin, { name: "reshape", task: "other" });
    const version = await registerVersionBytes(db(), store, admin, reshapeToFour, {
      modelName: "reshape",
      lineage: { kind: "upload" },
    });
    target.storageKey = version.storageKey;
    target.signature = version.signature as unknown as OnnxSignature;

    expect(await preflightArtifact(store, { ...target, sampleRequest: sample(4) })).toMatchObject({
      outcome: "passed",
      sampleRequest: "ran",
      stage: null,
    });
    const fails = await preflightArtifact(store, { ...target, sampleRequest: sample(3) });
    expect(fails).toMatchObject({ outcome: "failed", stage: "sample", sampleRequest: "failed" });
    expect(fails.message).toMatch(/^It loads, but its stored sample request fails: .+/);
    // The load check reports a failing sample as its error, without the load time.
    expect(fails.loadMs).toBeNull();

    const misfit = await preflightArtifact(store, {
      ...target,
      sampleRequest: { inputs: [{ name: "z", shape: [4], datatype: "FP32", data: [1, 2, 3, 4] }] },
    });
    expect(misfit).toMatchObject({ outcome: "failed", stage: "sample" });
    expect(misfit.message).toMatch(/^Its stored sample request does not fit the model: /);

    // And an artifact that is gone fails at the first step.
    await rm(path.join(root, version.storageKey), { force: true });
    expect(await preflightArtifact(store, target)).toMatchObject({
      outcome: "failed",
      stage: "artifact",
    });
  });

  it("answers 404 for an unknown model or version", async () => {
    await expect(
      preflightVersion(db(), store, { modelName: "nope", version: 1 }),
    ).rejects.toBeInstanceOf(ApiError);
    const admin = await t.seedActor("admin");
    await createModel(db(), admin, { name: "empty", task: "other" });
    await expect(
      preflightVersion(db(), store, { modelName: "empty", version: 1 }),
    ).rejects.toMatchObject({ status: 404 });
  });
});
