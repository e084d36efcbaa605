import { describe, expect, it } from "vitest";
import type { OnnxSignature, OnnxValueSignature } from "../onnx/types";
import { checkDatasetFitsModel, type DatasetShape } from "./fit";
import type { ColumnInfo } from "./types";

function value(
  name: string,
  dtype: string,
  shape: OnnxValueSignature["shape"],
): OnnxValueSignature {
  return {
    name,
    kind: "tensor",
    elementType: null,
    dtype: dtype as OnnxValueSignature["dtype"],
    shape,
    type: `tensor(${dtype})`,
    docString: "",
  };
}

function signature(
  inputs: OnnxValueSignature[],
  outputs: OnnxValueSignature[],
  metadata: Record<string, string> = {},
): OnnxSignature {
  return { inputs, outputs, metadata } as unknown as OnnxSignature;
}

const col = (
  name: string,
  type: ColumnInfo["type"],
  values?: ColumnInfo["values"],
): ColumnInfo => ({
  name,
  type,
  nullable: false,
  nullCount: 0,
  ...(values ? { values } : {}),
});

const IRIS_COLUMNS = [
  col("sepal_length", "number"),
  col("sepal_width", "number"),
  col("petal_length", "number"),
  col("petal_width", "number"),
  col("species", "string", ["setosa", "versicolor", "virginica"]),
];
const iris = (columns: string[]): DatasetShape => ({
  columns: IRIS_COLUMNS,
  labelColumn: "species",
  featureMapping: { kind: "tensor", input: "features", columns },
});
const ALL4 = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

const irisModel = (
  features = 4,
  metadata = { class_labels: '["setosa","versicolor","virginica"]' },
) =>
  signature(
    [value("features", "float32", ["batch", features])],
    [value("label", "int64", ["batch"]), value("probabilities", "float32", ["batch", 3])],
    metadata,
  );

describe("checkDatasetFitsModel", () => {
  it("plans the demo model on the iris data: one tensor, label and probability outputs, names", () => {
    const result = checkDatasetFitsModel(iris(ALL4), irisModel(), "classification");
    expect(result).toEqual({
      ok: true,
      plan: {
        task: "classification",
        feeds: [{ input: "features", dtype: "float32", columns: ALL4, rank: 2 }],
        featureColumns: ALL4,
        labelColumn: "species",
        maxBatch: null,
        labelOutput: { name: "label", kind: "index" },
        scoresOutput: { name: "probabilities", probabilities: true },
        valueOutput: null,
        classNames: ["setosa", "versicolor", "virginica"],
        labelEncoding: "name",
        notes: [],
      },
    });
  });

  it("explains a feature-count mismatch", () => {
    const result = checkDatasetFitsModel(iris(ALL4.slice(0, 3)), irisModel(4), "classification");
    expect(result).toEqual({
      ok: false,
      problems: ['dataset maps 3 columns to input "features", but the model expects 4'],
    });
  });

  it("uses a model's only input under another name, and says so", () => {
    const model = signature(
      [value("input", "float32", [null, 4])],
      [value("output_label", "int64", [null])],
      { class_labels: '["setosa","versicolor","virginica"]' },
    );
    const result = checkDatasetFitsModel(iris(ALL4), model, "classification");
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.plan.feeds[0]!.input).toBe("input");
      expect(result.plan.notes[0]).toMatch(/only input is "input"/);
    }
  });

  it("names inputs the dataset does not map and inputs the model does not have", () => {
    const model = signature(
      [value("features", "float32", ["batch", 4]), value("threshold", "float32", ["batch"])],
      [value("label", "int64", ["batch"])],
      { class_labels: '["setosa","versicolor","virginica"]' },
    );
    expect(checkDatasetFitsModel(iris(ALL4), model, "classification")).toEqual({
      ok: false,
      problems: ['the model also needs input "threshold", which the dataset does not map'],
    });
    const named: DatasetShape = {
      columns: IRIS_COLUMNS,
      labelColumn: "species",
      featureMapping: { kind: "named", inputs: { features: "sepal_length", extra: "petal_width" } },
    };
    const problems = checkDatasetFitsModel(named, model, "classification");
    expect(problems.ok).toBe(false);
    if (!problems.ok) {
      expect(problems.problems).toEqual([
        'dataset maps 1 column to input "features", but the model expects 4',
        'the dataset maps column "petal_width" to input "extra", which the model does not have (its inputs: "features", "threshold")',
        'the model needs input "threshold", which the dataset does not map',
      ]);
    }
  });

  it("feeds named [batch] inputs one column each", () => {
    const model = signature(
      [value("a", "float64", ["n"]), value("b", "int64", ["n", 1])],
      [value("y", "float32", ["n", 1])],
    );
    const dataset: DatasetShape = {
      columns: [col("x1", "number"), col("x2", "integer"), col("t", "number")],
      labelColumn: "t",
      featureMapping: { kind: "named", inputs: { a: "x1", b: "x2" } },
    };
    const result = checkDatasetFitsModel(dataset, model, "regression");
    expect(result.ok && result.plan).toMatchObject({
      feeds: [
        { input: "a", dtype: "float64", columns: ["x1"], rank: 1 },
        { input: "b", dtype: "int64", columns: ["x2"], rank: 2 },
      ],
      valueOutput: "y",
    });
  });

  it("refuses string inputs, decimals for integer inputs, fixed batches and rank-3 inputs", () => {
    const dataset: DatasetShape = {
      columns: [col("x", "number"), col("t", "number")],
      labelColumn: "t",
      featureMapping: { kind: "named", inputs: { s: "x" } },
    };
    const out = [value("y", "float32", ["n"])];
    const problemsOf = (input: OnnxValueSignature) => {
      const r = checkDatasetFitsModel(dataset, signature([input], out), "regression");
      return r.ok ? [] : r.problems;
    };
    expect(problemsOf(value("s", "string", ["n"]))).toEqual([
      'input "s" is of type string; dataset columns can feed float32, float64, int32 or int64 inputs',
    ]);
    expect(problemsOf(value("s", "int64", ["n"]))).toEqual([
      'input "s" is int64, but column "x" holds decimal numbers',
    ]);
    expect(problemsOf(value("s", "float32", [8, 1]))).toEqual([
      'input "s" has a fixed batch size of 8; only a free batch dimension or 1 can be fed row by row',
    ]);
    expect(problemsOf(value("s", "float32", ["n", 1, 1]))[0]).toMatch(/has rank 3/);
    const single = checkDatasetFitsModel(
      dataset,
      signature([value("s", "float32", [1, 1])], out),
      "regression",
    );
    expect(single.ok && single.plan.maxBatch).toBe(1);
  });

  it("needs class names for name labels, and known labels", () => {
    const noNames = checkDatasetFitsModel(iris(ALL4), irisModel(4, {} as never), "classification");
    expect(noNames.ok || noNames.problems).toEqual([
      'label column "species" holds names, but the model does not say which class index is which (no class_labels metadata); use integer labels 0, 1, 2…',
    ]);
    const other = checkDatasetFitsModel(
      iris(ALL4),
      irisModel(4, { class_labels: '["setosa","versicolor","other"]' }),
      "classification",
    );
    expect(other.ok || other.problems).toEqual([
      'label column "species" holds "virginica", which the model\'s classes ("setosa", "versicolor", "other") do not include',
    ]);
  });

  it("takes integer labels as class indices and checks their range", () => {
    const dataset = (values: number[]): DatasetShape => ({
      columns: [...IRIS_COLUMNS.slice(0, 4), col("species", "integer", values)],
      labelColumn: "species",
      featureMapping: { kind: "tensor", input: "features", columns: ALL4 },
    });
    const ok = checkDatasetFitsModel(dataset([0, 1, 2]), irisModel(), "classification");
    expect(ok.ok && ok.plan.labelEncoding).toBe("index");
    const bad = checkDatasetFitsModel(dataset([0, 1, 3]), irisModel(), "classification");
    expect(bad.ok || bad.problems).toEqual([
      'label column "species" holds 3, which is not a class index of the model (0…2)',
    ]);
  });

  it("argmaxes scores when there is no label output; compares names with a string label output", () => {
    const logits = signature(
      [value("features", "float32", ["batch", 4])],
      [value("logits", "float32", ["batch", 3])],
      { class_labels: '["setosa","versicolor","virginica"]' },
    );
    const r1 = checkDatasetFitsModel(iris(ALL4), logits, "classification");
    expect(r1.ok && [r1.plan.labelOutput, r1.plan.scoresOutput]).toEqual([
      null,
      { name: "logits", probabilities: false },
    ]);
    const names = signature(
      [value("features", "float32", ["batch", 4])],
      [value("output_label", "string", ["batch"])],
    );
    const r2 = checkDatasetFitsModel(iris(ALL4), names, "classification");
    expect(r2.ok && [r2.plan.labelOutput, r2.plan.labelEncoding]).toEqual([
      { name: "output_label", kind: "name" },
      "name",
    ]);
  });

  it("refuses non-numeric feature columns, a decimal classification label, a text regression target, task other", () => {
    const textFeature: DatasetShape = {
      columns: [col("x", "string"), col("t", "string")],
      labelColumn: "t",
      featureMapping: { kind: "tensor", input: "features", columns: ["x"] },
    };
    const model = signature(
      [value("features", "float32", ["n", 1])],
      [value("y", "float32", ["n"])],
    );
    const r = checkDatasetFitsModel(textFeature, model, "regression");
    expect(r.ok || r.problems).toEqual([
      'column "x" holds string values, not numbers',
      'label column "t" holds string values; a regression target must be numeric',
    ]);
    const decimalLabel: DatasetShape = {
      columns: [...IRIS_COLUMNS.slice(0, 4), col("species", "number")],
      labelColumn: "species",
      featureMapping: { kind: "tensor", input: "features", columns: ALL4 },
    };
    const d = checkDatasetFitsModel(decimalLabel, irisModel(), "classification");
    expect(d.ok || d.problems[0]).toMatch(/holds decimal numbers; a classification label/);
    const other = checkDatasetFitsModel(iris(ALL4), irisModel(), "other");
    expect(other.ok || other.problems[0]).toMatch(/task is “other”/);
  });
});
