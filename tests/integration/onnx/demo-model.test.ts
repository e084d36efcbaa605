/**
 * The seeded demo model: two real ONNX versions trained by ModelDeck, checked by its inspector,
 * and run by onnxruntime with the predictions the TypeScript trainer expects.
 */
import { readFile } from "node:fs/promises";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildDemoModelVersions,
  DEMO_MODEL,
  parseIris,
  type DemoModelVersions,
} from "../../../prisma/seed/demo-model";
import { compareSignatures } from "../../../lib/onnx/compare";
import { parseOnnxBytes } from "../../../lib/onnx/parse";

let demo: DemoModelVersions;
beforeAll(async () => {
  demo = await buildDemoModelVersions();
});

describe("the Iris data set shipped in prisma/seed", () => {
  it("is Fisher's data: 150 rows, 50 per species, and the known per-species means", async () => {
    const csv = await readFile("prisma/seed/iris.csv", "utf8");
    expect(demo.dataset).toBe(csv);
    expect(csv.split("\n")[0]).toBe("sepal_length,sepal_width,petal_length,petal_width,species");
    const rows = parseIris(csv);
    expect(rows).toHaveLength(150);
    const means = DEMO_MODEL.classLabels.map((_, label) => {
      const of = rows.filter((r) => r.label === label);
      expect(of).toHaveLength(50);
      return ["sepal_length", "sepal_width", "petal_length", "petal_width"].map(
        (c) => Math.round((of.reduce((s, r) => s + r.features[c]!, 0) / 50) * 1000) / 1000,
      );
    });
    // R: aggregate(. ~ Species, iris, mean)
    expect(means).toEqual([
      [5.006, 3.428, 1.462, 0.246],
      [5.936, 2.77, 4.26, 1.326],
      [6.588, 2.974, 5.552, 2.026],
    ]);
    // Rows 35 and 38 as Fisher published them (the UCI copy has them wrong).
    expect(csv.split("\n")[35]).toBe("4.9,3.1,1.5,0.2,setosa");
    expect(csv.split("\n")[38]).toBe("4.9,3.6,1.4,0.1,setosa");
  });
});

describe("buildDemoModelVersions", () => {
  it("gives two inspected versions: v1 on sepals, v2 on all four features and better", () => {
    const { v1, v2 } = demo.signatures;
    expect(v1.inputs).toEqual([
      expect.objectContaining({ name: "features", dtype: "float32", shape: ["batch", 2] }),
    ]);
    expect(v2.inputs).toEqual([
      expect.objectContaining({ name: "features", dtype: "float32", shape: ["batch", 4] }),
    ]);
    for (const s of [v1, v2]) {
      expect(s.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual([
        ["label", "int64", ["batch"]],
        ["probabilities", "float32", ["batch", 3]],
      ]);
      expect(s).toMatchObject({
        opsets: [{ domain: "", version: 17 }],
        producerName: "modeldeck",
        opTypes: { Add: 1, ArgMax: 1, MatMul: 1, Softmax: 1 },
      });
      expect(JSON.parse(s.metadata.class_labels!)).toEqual(["setosa", "versicolor", "virginica"]);
    }
    expect(v1.modelVersion).toBe(1);
    expect(v2.modelVersion).toBe(2);
    expect(JSON.parse(v2.metadata.feature_names!)).toEqual(DEMO_MODEL.features.v2);

    const { metrics } = demo;
    expect(metrics.v1.trainRows + metrics.v1.testRows).toBe(150);
    expect(metrics.v1.testRows).toBe(30);
    expect(metrics.v2.testAccuracy).toBeGreaterThan(metrics.v1.testAccuracy);
    expect(metrics.v2.trainAccuracy).toBeGreaterThan(metrics.v1.trainAccuracy);
    expect(metrics.v2.testAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(metrics.v1.testAccuracy).toBeLessThan(0.95);

    const diff = compareSignatures(v1, v2);
    expect(diff.sameInterface).toBe(false);
    expect(diff.inputs.changed).toEqual([
      expect.objectContaining({ name: "features", changes: ["shape"] }),
    ]);
  });

  it("is deterministic: the same bytes (and sha256) on every start", async () => {
    const again = await buildDemoModelVersions();
    expect(again.v1.equals(demo.v1)).toBe(true);
    expect(again.v2.equals(demo.v2)).toBe(true);
    expect(again.metrics).toEqual(demo.metrics);
  });

  it("runs in onnxruntime with the trainer's predictions, on every row", async () => {
    const rows = parseIris(demo.dataset);
    for (const [name, bytes] of [
      ["v1", demo.v1],
      ["v2", demo.v2],
    ] as const) {
      const features = DEMO_MODEL.features[name];
      const data = Float32Array.from(rows.flatMap((r) => features.map((f) => r.features[f]!)));
      const session = await ort.InferenceSession.create(bytes);
      try {
        const out = await session.run({
          features: new ort.Tensor("float32", data, [rows.length, features.length]),
        });
        expect(out.label!.type).toBe("int64");
        expect(out.label!.dims).toEqual([150]);
        expect(out.probabilities!.dims).toEqual([150, 3]);
        const labels = Array.from(out.label!.data as BigInt64Array, Number);
        const probs = out.probabilities!.data as Float32Array;
        // Rows sum to 1 and the label is the most probable class.
        for (let i = 0; i < rows.length; i++) {
          const p = [probs[i * 3]!, probs[i * 3 + 1]!, probs[i * 3 + 2]!];
          expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 5);
          expect(p.indexOf(Math.max(...p))).toBe(labels[i]);
        }
        const accuracyAll = labels.filter((l, i) => l === rows[i]!.label).length / rows.length;
        const m = demo.metrics[name];
        const expected = (m.trainAccuracy * m.trainRows + m.testAccuracy * m.testRows) / 150;
        expect(accuracyAll).toBeCloseTo(expected, 10);
      } finally {
        await session.release();
      }
    }
    // The registry would store exactly what the inspector reads from the bytes.
    expect((await parseOnnxBytes(demo.v2)).signature).toEqual(demo.signatures.v2);
  });
});
