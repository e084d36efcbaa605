/**
 * Evaluation test harness: the demo model seeded the way the product seeds it, the iris
 * CSV registered as a dataset, and small models built with ModelDeck's ONNX writer.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { registerDatasetBytes } from "../../../lib/datasets";
import type { PrismaClient } from "../../../lib/db/generated/client";
import { createLogger } from "../../../lib/log";
import { buildLogisticRegressionModel, encodeModel } from "../../../lib/onnx/build";
import { createModel } from "../../../lib/registry";
import { registerVersionBytes } from "../../../lib/registry/upload";
import type { ArtifactStore } from "../../../lib/storage";
import { trainLogisticRegression } from "../../../lib/training/logistic";
import { seedDemoContent } from "../../../prisma/seed";
import { DEMO_MODEL, parseIris } from "../../../prisma/seed/demo-model";

const repoRoot = path.resolve(import.meta.dirname, "../../..");
export const ADMIN = { ...SYSTEM_ACTOR, role: "admin" as const };
export const USER = { type: "user" as const, id: "u-eval", label: "grace@example.com" };

export const irisCsv = () => readFile(path.join(repoRoot, "prisma/seed/iris.csv"), "utf8");

/** The demo model exactly as the first start seeds it (v1, v2; production → v2). */
export async function seedDemo(db: PrismaClient, store: ArtifactStore): Promise<void> {
  await seedDemoContent(db, store, createLogger("test", "silent"));
}

export async function registerIris(
  db: PrismaClient,
  store: ArtifactStore,
  name = "iris",
  columns: string[] = DEMO_MODEL.features.v2,
) {
  return registerDatasetBytes(db, store, USER, await irisCsv(), {
    name,
    labelColumn: "species",
    mapping: { kind: "tensor", input: "features", columns },
  });
}

/** Iris rows as numbers: features (all four, in file order) and class indices. */
export async function irisRows() {
  const rows = parseIris(await irisCsv());
  const all = DEMO_MODEL.features.v2;
  return { x: rows.map((r) => all.map((f) => r.features[f]!)), y: rows.map((r) => r.label) };
}

/**
 * A 4-input iris classifier that only looks at the features `use` (the others get zero
 * weights), so models of different quality share one input shape.
 */
export async function irisClassifier(use: string[], epochs = 200): Promise<Buffer> {
  const { x, y } = await irisRows();
  const all = DEMO_MODEL.features.v2;
  const idx = use.map((f) => all.indexOf(f));
  const trained = trainLogisticRegression(
    x.map((row) => idx.map((i) => row[i]!)),
    y,
    { classes: 3, epochs, seed: 3 },
  );
  const weights = all.map((f) => {
    const k = use.indexOf(f);
    return k < 0 ? [0, 0, 0] : trained.weights[k]!;
  });
  return buildLogisticRegressionModel({
    weights,
    bias: trained.bias,
    featureNames: all,
    classLabels: DEMO_MODEL.classLabels,
  });
}

/** Always answers `klass` (its bias dominates). */
export function constantClassifier(klass: number): Buffer {
  return buildLogisticRegressionModel({
    weights: Array.from({ length: 4 }, () => [0, 0, 0]),
    bias: [0, 1, 2].map((c) => (c === klass ? 10 : 0)),
    featureNames: DEMO_MODEL.features.v2,
    classLabels: DEMO_MODEL.classLabels,
  });
}

/** y = x·w + b as ONNX: features float32 [batch, F] → prediction float32 [batch, 1]. */
export function linearRegressor(w: number[], b: number): Buffer {
  return encodeModel({
    graph: {
      name: "linear",
      inputs: [{ name: "features", type: "float32", shape: ["batch", w.length] }],
      outputs: [{ name: "prediction", type: "float32", shape: ["batch", 1] }],
      initializers: [
        { name: "W", type: "float32", dims: [w.length, 1], data: w },
        { name: "B", type: "float32", dims: [1], data: [b] },
      ],
      nodes: [
        { op: "MatMul", inputs: ["features", "W"], outputs: ["xw"] },
        { op: "Add", inputs: ["xw", "B"], outputs: ["prediction"] },
      ],
    },
  });
}

export async function modelWithVersions(
  db: PrismaClient,
  store: ArtifactStore,
  name: string,
  task: "classification" | "regression",
  versions: Buffer[],
  extra: { approvalRequired?: boolean } = {},
) {
  await createModel(db, SYSTEM_ACTOR, { name, task, ...extra });
  for (const bytes of versions) {
    await registerVersionBytes(db, store, SYSTEM_ACTOR, bytes, {
      modelName: name,
      lineage: { kind: "upload" },
    });
  }
}
