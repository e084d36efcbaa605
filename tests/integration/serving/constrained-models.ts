/**
 * Valid ONNX models whose graphs constrain the *values* or lengths of their inputs, so the
 * synthetic warm-up request (zeros, dynamic dimensions set to 1) fails on them although
 * onnxruntime runs them correctly on proper inputs. Each comes with a request it answers.
 */
import { encodeModel, type GraphSpec } from "../../../lib/onnx/build";
import type { SampleRequest } from "../../../lib/serving/sample-request";

export type ConstrainedModel = {
  /** What constrains it, for test names. */
  what: string;
  name: string;
  bytes: Buffer;
  /** A request it answers (Open Inference Protocol). */
  request: SampleRequest;
  /** A request that fits the signature but that onnxruntime refuses (for a failing sample). */
  refused: SampleRequest;
};

const f32 = (name: string, shape: number[], data: number[]) => ({
  name,
  shape,
  datatype: "FP32",
  data,
});
const i64 = (name: string, data: number[]) => ({
  name,
  shape: [data.length],
  datatype: "INT64",
  data,
});

/** (a) A reflect Pad of 4 on a dynamic axis: the axis must be at least 5 long. */
function reflectPad(): ConstrainedModel {
  return {
    what: "a dynamic axis that must be at least 5 long (reflect Pad)",
    name: "reflect-pad",
    bytes: encodeModel({
      graph: {
        name: "reflect_pad",
        inputs: [{ name: "samples", type: "float32", shape: [1, "length"] }],
        outputs: [{ name: "padded", type: "float32", shape: [1, null] }],
        initializers: [{ name: "pads", type: "int64", dims: [4], data: [0n, 4n, 0n, 4n] }],
        nodes: [
          {
            op: "Pad",
            inputs: ["samples", "pads"],
            outputs: ["padded"],
            attributes: { mode: { s: "reflect" } },
          },
        ],
      },
    }),
    request: { inputs: [f32("samples", [1, 6], [1, 2, 3, 4, 5, 6])] },
    refused: { inputs: [f32("samples", [1, 2], [1, 2])] },
  };
}

/** (b) Expand fed an int64 shape tensor as an input. */
function expandToShape(): ConstrainedModel {
  return {
    what: "a shape tensor as input (Expand)",
    name: "expand-shape",
    bytes: encodeModel({
      graph: {
        name: "expand_to_shape",
        inputs: [
          { name: "row", type: "float32", shape: [1, 3] },
          { name: "shape", type: "int64", shape: [2] },
        ],
        outputs: [{ name: "expanded", type: "float32", shape: [null, 3] }],
        nodes: [{ op: "Expand", inputs: ["row", "shape"], outputs: ["expanded"] }],
      },
    }),
    request: { inputs: [f32("row", [1, 3], [1, 2, 3]), i64("shape", [4, 3])] },
    refused: { inputs: [f32("row", [1, 3], [1, 2, 3]), i64("shape", [2, 2])] },
  };
}

/** (c) Split whose split sizes are an input (opset 13+). */
function splitBySizes(): ConstrainedModel {
  return {
    what: "split sizes as an input (Split)",
    name: "split-sizes",
    bytes: encodeModel({
      graph: {
        name: "split_by_sizes",
        inputs: [
          { name: "values", type: "float32", shape: [1, "n"] },
          { name: "sizes", type: "int64", shape: [2] },
        ],
        outputs: [
          { name: "head", type: "float32", shape: [1, null] },
          { name: "tail", type: "float32", shape: [1, null] },
        ],
        nodes: [
          {
            op: "Split",
            inputs: ["values", "sizes"],
            outputs: ["head", "tail"],
            attributes: { axis: { i: 1 } },
          },
        ],
      },
    }),
    request: { inputs: [f32("values", [1, 5], [1, 2, 3, 4, 5]), i64("sizes", [2, 3])] },
    refused: { inputs: [f32("values", [1, 5], [1, 2, 3, 4, 5]), i64("sizes", [2, 2])] },
  };
}

/**
 * (d) An If on the sign of the input's sum whose branches reshape it into 3 rows (then) or 2
 * rows (else): each branch needs a length its row count divides.
 */
function branchesByLength(): ConstrainedModel {
  const branch = (name: string, rows: number): GraphSpec => ({
    name,
    inputs: [],
    outputs: [{ name: `${name}_rows`, type: "float32", shape: null }],
    initializers: [{ name: `${name}_shape`, type: "int64", dims: [2], data: [BigInt(rows), -1n] }],
    nodes: [{ op: "Reshape", inputs: ["values", `${name}_shape`], outputs: [`${name}_rows`] }],
  });
  return {
    what: "an If whose branches need different input lengths",
    name: "if-lengths",
    bytes: encodeModel({
      graph: {
        name: "branches_by_length",
        inputs: [{ name: "values", type: "float32", shape: [1, "n"] }],
        outputs: [{ name: "rows", type: "float32", shape: [null, null] }],
        initializers: [{ name: "zero", type: "float32", dims: [], data: [0] }],
        nodes: [
          {
            op: "ReduceSum",
            inputs: ["values"],
            outputs: ["total"],
            attributes: { keepdims: { i: 0 } },
          },
          { op: "Greater", inputs: ["total", "zero"], outputs: ["positive"] },
          {
            op: "If",
            inputs: ["positive"],
            outputs: ["rows"],
            attributes: {
              then_branch: { g: branch("then", 3) },
              else_branch: { g: branch("else", 2) },
            },
          },
        ],
      },
    }),
    // Negative sum: the else branch, 2 rows of 2.
    request: { inputs: [f32("values", [1, 4], [-1, -2, -3, -4])] },
    // Positive sum of 4 values: the then branch cannot make 3 rows of them.
    refused: { inputs: [f32("values", [1, 4], [1, 2, 3, 4])] },
  };
}

export const CONSTRAINED_MODELS: ConstrainedModel[] = [
  reflectPad(),
  expandToShape(),
  splitBySizes(),
  branchesByLength(),
];

/**
 * A model onnxruntime cannot create a session for: its one node is in an operator domain no
 * runtime knows (upload refuses it, so tests write it over a stored artifact).
 */
export function unknownDomainModel(): Buffer {
  return encodeModel({
    opsets: [
      { domain: "", version: 17 },
      { domain: "org.example.unknown", version: 1 },
    ],
    graph: {
      name: "unknown_domain",
      inputs: [{ name: "features", type: "float32", shape: ["batch", 4] }],
      outputs: [{ name: "out", type: "float32", shape: ["batch", 4] }],
      nodes: [
        { op: "Mystery", domain: "org.example.unknown", inputs: ["features"], outputs: ["out"] },
      ],
    },
  });
}
