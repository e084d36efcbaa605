import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cellToNumber, loadEvaluationData, MAX_LISTED_PROBLEMS, scanDataset } from "./parse";
import type { DatasetFormat, FeatureMapping } from "./types";

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "modeldeck-parse-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(text: string): Promise<string> {
  const p = path.join(dir, `f${n++}`);
  await writeFile(p, text);
  return p;
}

async function scan(
  text: string,
  opts: { format?: DatasetFormat; label?: string; mapping?: FeatureMapping } = {},
) {
  return scanDataset(await file(text), opts.format ?? "csv", {
    labelColumn: opts.label ?? "y",
    mapping: opts.mapping,
  });
}

const lines = (r: { problems: { line: number | null }[] }) => r.problems.map((p) => p.line);

describe("cellToNumber", () => {
  it.each([
    ["1", 1],
    ["-2.5", -2.5],
    ["+.5", 0.5],
    ["1e3", 1000],
    ["3.", 3],
    [7, 7],
  ])("reads %j as %j", (cell, value) => expect(cellToNumber(cell)).toBe(value));
  it.each(["", "abc", "0x10", "Infinity", "NaN", "1,5", "1 2", null, true])("refuses %j", (cell) =>
    expect(cellToNumber(cell as string)).toBeNull(),
  );
});

describe("scanDataset (CSV)", () => {
  it("infers types, nullability, ranges and distinct values, and keeps a preview", async () => {
    const result = await scan("a,b,c,d,y\n1,1.5,x,true,0\n2,2,,FALSE,1\n3,-1e2,z,true,1\n", {
      mapping: { kind: "tensor", input: "features", columns: ["a", "b"] },
    });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.rowCount).toBe(3);
    expect(result.columns).toEqual([
      {
        name: "a",
        type: "integer",
        nullable: false,
        nullCount: 0,
        min: 1,
        max: 3,
        values: [1, 2, 3],
      },
      {
        name: "b",
        type: "number",
        nullable: false,
        nullCount: 0,
        min: -100,
        max: 2,
        values: [1.5, 2, -100],
      },
      { name: "c", type: "string", nullable: true, nullCount: 1, values: ["x", "z"] },
      { name: "d", type: "boolean", nullable: false, nullCount: 0, values: [true, false] },
      { name: "y", type: "integer", nullable: false, nullCount: 0, min: 0, max: 1, values: [0, 1] },
    ]);
    expect(result.preview).toEqual([
      ["1", "1.5", "x", "true", "0"],
      ["2", "2", null, "FALSE", "1"],
      ["3", "-1e2", "z", "true", "1"],
    ]);
  });

  it("defaults the mapping to every column but the label, as one tensor input", async () => {
    const result = await scan("a,y,b\n1,0,2\n");
    expect(result.mapping).toEqual({ kind: "tensor", input: "features", columns: ["a", "b"] });
    expect(result.ok).toBe(true);
  });

  it("reads quoted fields, embedded commas and newlines, a BOM and CRLF line ends", async () => {
    const result = await scan(
      '\uFEFFa,note,y\r\n1,"x, ""quoted""\r\nand more",0\r\n2,plain,1\r\n',
      {
        mapping: { kind: "tensor", input: "f", columns: ["a"] },
      },
    );
    expect(result.ok).toBe(true);
    expect(result.rowCount).toBe(2);
    expect(result.preview[0]![1]).toBe('x, "quoted"\r\nand more');
  });

  it("reports ragged rows, non-numeric features and missing labels with their line numbers", async () => {
    const result = await scan(
      [
        "a,b,y",
        "1,2,0", // 2
        "1,2", // 3 ragged
        "", // 4 empty lines are skipped, but counted
        "x,2,1", // 5 non-numeric
        "1,2,", // 6 missing label
        "1,2,3,4", // 7 ragged
        "1,,1", // 8 empty feature
      ].join("\n"),
    );
    expect(result.ok).toBe(false);
    expect(result.problemCount).toBe(5);
    expect(result.problems).toEqual([
      { line: 3, message: "Line 3 has 2 values, but the header has 3 columns." },
      { line: 5, message: 'Line 5: feature "a" is "x", not a number.' },
      { line: 6, message: 'Line 6: the label "y" is missing.' },
      { line: 7, message: "Line 7 has 4 values, but the header has 3 columns." },
      { line: 8, message: 'Line 8: feature "b" is empty.' },
    ]);
  });

  it("counts a multi-line record at the line it starts on", async () => {
    const result = await scan('a,note,y\n1,"two\nlines",0\nbad,x,1\n', {
      mapping: { kind: "tensor", input: "f", columns: ["a"] },
    });
    expect(lines(result)).toEqual([4]);
  });

  it("reports an unreadable quote and stops trusting the rest of the file", async () => {
    const result = await scan('a,y\n1,0\n"2"x,1\n3,1\n');
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({ line: 3 });
    expect(result.problems[0]!.message).toMatch(
      /^Line 3 cannot be read as CSV: Invalid Closing Quote/,
    );
  });

  it("lists at most 20 problems but counts them all", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => (i % 2 ? `${i},1` : `x${i},1`));
    const result = await scan(["a,y", ...rows].join("\n"));
    expect(result.problemCount).toBe(25);
    expect(result.problems).toHaveLength(MAX_LISTED_PROBLEMS);
    expect(result.problems[0]!.line).toBe(2);
    expect(result.problems.at(-1)!.line).toBe(40);
  });

  it("refuses a header without the label column, unknown or duplicated mapped columns", async () => {
    expect((await scan("a,b\n1,2\n")).problems).toEqual([
      { line: 1, message: 'Line 1: there is no label column "y" (the columns are: a, b).' },
    ]);
    const unknown = await scan("a,y\n1,2\n", {
      mapping: { kind: "tensor", input: "f", columns: ["a", "zz"] },
    });
    expect(unknown.problems[0]!.message).toBe(
      'Line 1: feature column "zz" is not in the file (the columns are: a, y).',
    );
    const labelled = await scan("a,y\n1,2\n", {
      mapping: { kind: "tensor", input: "f", columns: ["a", "y"] },
    });
    expect(labelled.problems[0]!.message).toMatch(/label column "y" is also mapped/);
    const dupes = await scan("a,a,y\n1,2,3\n");
    expect(dupes.problems[0]!.message).toBe('Line 1: the header names "a" more than once.');
  });

  it("refuses an empty file and a header without rows", async () => {
    expect((await scan("")).problems).toEqual([{ line: null, message: "The file has no rows." }]);
    expect((await scan("a,y\n")).problems).toEqual([
      { line: null, message: "The file has a header but no data rows." },
    ]);
  });
});

describe("scanDataset (JSONL)", () => {
  it("reads objects, typed values and nulls", async () => {
    const result = await scan(
      '{"a": 1, "b": 2.5, "y": "cat"}\n\n{"a": 2, "b": null, "y": "dog"}\n{"a": 3, "y": "cat"}\n',
      { format: "jsonl", mapping: { kind: "named", inputs: { x: "a" } } },
    );
    expect(result.problems).toEqual([]);
    expect(result.rowCount).toBe(3);
    expect(result.columns.map((c) => [c.name, c.type, c.nullCount])).toEqual([
      ["a", "integer", 0],
      ["b", "number", 2],
      ["y", "string", 0],
    ]);
    expect(result.preview).toEqual([
      [1, 2.5, "cat"],
      [2, null, "dog"],
      [3, null, "cat"],
    ]);
  });

  it("reports bad JSON, non-objects, unknown keys, nested values and strings as features", async () => {
    const result = await scan(
      [
        '{"a": 1, "y": 0}',
        "{not json}",
        "[1, 2]",
        '{"a": 1, "y": 0, "extra": 1}',
        '{"a": {"x": 1}, "y": 0}',
        '{"a": "abc", "y": 0}',
        '{"a": 2}',
      ].join("\n"),
      { format: "jsonl" },
    );
    expect(lines(result)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(result.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^Line 2 is not valid JSON/),
      "Line 3 is not a JSON object.",
      'Line 4 has key "extra" that the first row does not have.',
      'Line 5 column "a" holds an object or array; values must be numbers, strings, booleans or null.',
      'Line 6: feature "a" is "abc", not a number.',
      'Line 7: the label "y" is missing.',
    ]);
  });
});

describe("loadEvaluationData", () => {
  it("loads the mapped columns row-major, in mapping order, with the labels", async () => {
    const p = await file("a,b,y,c\n1,2,cat,3\n4,5,dog,6\n");
    const data = await loadEvaluationData(p, "csv", ["c", "a"], "y");
    expect(data.rowCount).toBe(2);
    expect([...data.features]).toEqual([3, 1, 6, 4]);
    expect(data.labels).toEqual(["cat", "dog"]);
  });

  it("grows past its first buffer", async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${i},${i % 3}`);
    const p = await file(["a,y", ...rows].join("\n"));
    const data = await loadEvaluationData(p, "csv", ["a"], "y");
    expect(data.rowCount).toBe(5000);
    expect(data.features[4999]).toBe(4999);
  });
});
