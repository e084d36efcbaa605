import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeDatasetMatrix,
  encodeDatasetMatrix,
  matrixEvaluationData,
  type LabelCell,
} from "./matrix";
import { loadEvaluationData, scanDataset } from "./parse";
import type { DatasetFormat } from "./types";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "modeldeck-matrix-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let n = 0;
async function file(text: string, ext = "csv"): Promise<string> {
  const p = path.join(dir, `${n++}.${ext}`);
  await writeFile(p, text);
  return p;
}

/** Scans like an upload, encodes, decodes: the binary form of a file. */
async function binaryOf(p: string, format: DatasetFormat, labelColumn: string) {
  const scan = await scanDataset(p, format, { labelColumn, collectMatrix: true });
  expect(scan.ok).toBe(true);
  const m = scan.matrix!;
  const bytes = encodeDatasetMatrix({
    featureColumns: m.featureColumns,
    features: m.features(),
    labels: m.labels,
    labelColumn,
    featuresExact: m.exact,
  });
  return { bytes, decoded: bytes ? decodeDatasetMatrix(bytes) : null, columns: m.featureColumns };
}

describe("dataset matrix (binary form)", () => {
  it("round-trips a CSV: the float32 of every parsed feature, every label's text", async () => {
    const p = await file('a,b,y,c\n1.1,2,cat,3e2\n-4.25,"5",dog,0.1\n7,8,cat,9\n');
    const { bytes, decoded, columns } = await binaryOf(p, "csv", "y");
    expect(columns).toEqual(["a", "b", "c"]);
    expect(bytes!.readUInt32LE(8) % 8).toBe(0);
    const parsed = await loadEvaluationData(p, "csv", columns, "y");
    expect(decoded!.header).toMatchObject({
      rowCount: 3,
      featureColumns: ["a", "b", "c"],
      featureDtype: "float32",
      featuresExact: false, // 1.1 and 0.1 are not float32 numbers
      labelColumn: "y",
      labels: { encoding: "dictionary", values: ["cat", "dog"] },
    });
    expect(decoded!.features).toEqual(Float32Array.from(parsed.features));
    expect(decoded!.labels).toEqual(parsed.labels);

    // As evaluation data: the same view when the columns match, a selection otherwise.
    const same = matrixEvaluationData(decoded!, ["a", "b", "c"], "y", false)!;
    expect(same.features).toBe(decoded!.features);
    const picked = matrixEvaluationData(decoded!, ["c", "a"], "y", false)!;
    const reparsed = await loadEvaluationData(p, "csv", ["c", "a"], "y");
    expect(picked.features).toEqual(Float32Array.from(reparsed.features));
    expect(picked.labels).toEqual(reparsed.labels);
    // Cannot stand in: inexact values for a non-float32 input, unknown column, other label.
    expect(matrixEvaluationData(decoded!, ["a"], "y", true)).toBeNull();
    expect(matrixEvaluationData(decoded!, ["zz"], "y", false)).toBeNull();
    expect(matrixEvaluationData(decoded!, ["a"], "c", false)).toBeNull();
  });

  it("marks values that are exactly float32 as exact, and keeps JSON label types", async () => {
    const lines = [
      { x: 1, z: 0.5, label: 1 },
      { x: -2, z: 0.25, label: true },
      { x: 3, z: 1024, label: "1" },
    ].map((r) => JSON.stringify(r));
    const p = await file(lines.join("\n"), "jsonl");
    const { decoded } = await binaryOf(p, "jsonl", "label");
    expect(decoded!.header.featuresExact).toBe(true);
    expect(decoded!.labels).toEqual([1, true, "1"]);
    expect(matrixEvaluationData(decoded!, ["x", "z"], "label", true)).not.toBeNull();
  });

  it("keeps many distinct labels as text (CSV) or numbers (JSON Lines), exactly", async () => {
    const rows = Array.from({ length: 70_000 }, (_, i) => `${i % 10},${(i / 8).toFixed(3)}`);
    const p = await file(["x,t", ...rows].join("\n"));
    const { decoded } = await binaryOf(p, "csv", "t");
    expect(decoded!.header.labels.encoding).toBe("text");
    const parsed = await loadEvaluationData(p, "csv", ["x"], "t");
    expect(decoded!.labels.length).toBe(parsed.labels.length);
    expect(decoded!.labels.every((l, i) => l === parsed.labels[i])).toBe(true);
    expect(decoded!.labels[4]).toBe("0.500");

    const numbers: LabelCell[] = Array.from({ length: 70_000 }, (_, i) => i / 3);
    const bytes = encodeDatasetMatrix({
      featureColumns: ["x"],
      features: new Float32Array(70_000),
      labels: numbers,
      labelColumn: "t",
      featuresExact: true,
    });
    const back = decodeDatasetMatrix(bytes!);
    expect(back.header.labels.encoding).toBe("number");
    expect(back.labels.length).toBe(numbers.length);
    expect(back.labels.every((l, i) => l === numbers[i])).toBe(true);

    // A mix of types with that many values has no binary form (the file is parsed instead).
    const mixed = numbers.map((v, i) => (i % 2 ? String(v) : v));
    expect(
      encodeDatasetMatrix({
        featureColumns: ["x"],
        features: new Float32Array(70_000),
        labels: mixed,
        labelColumn: "t",
        featuresExact: true,
      }),
    ).toBeNull();
  }, 20_000);

  it("refuses truncated or foreign bytes, and reads unaligned ones by copying", async () => {
    const p = await file("a,y\n1,x\n2,y\n");
    const { bytes } = await binaryOf(p, "csv", "y");
    expect(() => decodeDatasetMatrix(bytes!.subarray(0, bytes!.length - 1))).toThrow(
      /truncated or inconsistent/,
    );
    expect(() => decodeDatasetMatrix(Buffer.from("a,y\n1,x\n2,y\n"))).toThrow(/not a ModelDeck/);
    const shifted = Buffer.alloc(bytes!.length + 1);
    bytes!.copy(shifted, 1);
    const back = decodeDatasetMatrix(shifted.subarray(1));
    expect([...back.features]).toEqual([1, 2]);
    expect(back.labels).toEqual(["x", "y"]);
  });

  it("collects nothing from a file with problems", async () => {
    const p = await file("a,y\n1,x\nabc,y\n");
    const scan = await scanDataset(p, "csv", { labelColumn: "y", collectMatrix: true });
    expect(scan.ok).toBe(false);
    expect(scan.matrix).toBeUndefined();
  });
});
