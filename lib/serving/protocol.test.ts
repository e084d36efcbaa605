import { describe, expect, it } from "vitest";
import type { OnnxDtype, OnnxSignature, OnnxValueSignature } from "../onnx/types";
import {
  concatBatch,
  encodeOutputs,
  encodeSimpleOutputs,
  fromHalfBits,
  inferResponseText,
  InferenceInputError,
  isBatchable,
  oipDatatypeOf,
  prepareInferRequest,
  prepareSimpleRequest,
  signatureMetadata,
  sliceBatch,
  toHalfBits,
  type HostTensor,
} from "./protocol";

const ELEMENT: Partial<Record<OnnxDtype, OnnxValueSignature["elementType"]>> = {
  float32: "FLOAT",
  float64: "DOUBLE",
  float16: "FLOAT16",
  int64: "INT64",
  int32: "INT32",
  uint32: "UINT32",
  uint8: "UINT8",
  int8: "INT8",
  uint64: "UINT64",
  bool: "BOOL",
  string: "STRING",
};

function tensor(
  name: string,
  dtype: OnnxDtype,
  shape: OnnxValueSignature["shape"],
): OnnxValueSignature {
  return {
    name,
    kind: "tensor",
    elementType: ELEMENT[dtype] ?? "UNDEFINED",
    dtype,
    shape,
    type: `tensor(${dtype})`,
    docString: "",
  };
}

function zipMap(name: string): OnnxValueSignature {
  return {
    name,
    kind: "sequence",
    elementType: null,
    dtype: null,
    shape: null,
    type: "seq(map(int64,tensor(float)))",
    docString: "",
  };
}

function sig(
  inputs: OnnxValueSignature[],
  outputs: OnnxValueSignature[],
  metadata: Record<string, string> = {},
): OnnxSignature {
  return {
    schemaVersion: 1,
    inputs,
    outputs,
    irVersion: 8,
    opsets: [{ domain: "", version: 17 }],
    producerName: "test",
    producerVersion: "",
    domain: "",
    modelVersion: 0,
    docString: "",
    graphName: "g",
    graphDocString: "",
    nodeCount: 1,
    subgraphNodeCount: 0,
    opTypes: {},
    initializerCount: 0,
    parameterCount: 0,
    parameterBytes: 0,
    functionCount: 0,
    metadata,
  };
}

/** The tabular demo shape: features [batch, 4] → label [batch], probabilities [batch, 3]. */
const iris = sig(
  [tensor("features", "float32", ["batch", 4])],
  [tensor("label", "int64", ["batch"]), tensor("probabilities", "float32", ["batch", 3])],
  { feature_names: '["sepal_length","sepal_width","petal_length","petal_width"]' },
);

/** The OIP spec's example model. */
const specModel = sig(
  [tensor("input0", "uint32", [2, 2]), tensor("input1", "bool", [3])],
  [tensor("output0", "float32", [2])],
);

function features(shape: number[], data: unknown[], datatype = "FP32") {
  return { inputs: [{ name: "features", shape, datatype, data }] };
}

/** Runs fn, expects an InferenceInputError and returns it. */
function refusal(fn: () => unknown): InferenceInputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InferenceInputError);
    return e as InferenceInputError;
  }
  throw new Error("expected an InferenceInputError");
}

function expectRefusal(fn: () => unknown, code: string, ...mentions: string[]) {
  const e = refusal(fn);
  expect(e.status).toBe(400);
  expect(e.code).toBe(code);
  for (const m of mentions) expect(e.message).toContain(m);
  return e;
}

describe("oipDatatypeOf", () => {
  it("maps onnxruntime dtypes to OIP datatypes", () => {
    expect(oipDatatypeOf("float32")).toBe("FP32");
    expect(oipDatatypeOf("float16")).toBe("FP16");
    expect(oipDatatypeOf("float64")).toBe("FP64");
    expect(oipDatatypeOf("int64")).toBe("INT64");
    expect(oipDatatypeOf("bool")).toBe("BOOL");
    expect(oipDatatypeOf("string")).toBe("BYTES");
    expect(oipDatatypeOf("bfloat16")).toBeNull();
    expect(oipDatatypeOf("constructor")).toBeNull();
  });
});

describe("prepareInferRequest: the OIP spec example", () => {
  const example = {
    id: "42",
    inputs: [
      { name: "input0", shape: [2, 2], datatype: "UINT32", data: [1, 2, 3, 4] },
      { name: "input1", shape: [3], datatype: "BOOL", data: [true] },
    ],
    outputs: [{ name: "output0" }],
  };

  it("refuses the example as written: input1 has 1 value for shape [3]", () => {
    const e = expectRefusal(
      () => prepareInferRequest(example, specModel),
      "bad_data",
      'Input "input1"',
      "shape [3] needs 3 values, got 1.",
    );
    expect(e.details).toMatchObject({ input: "input1", expected: 3, got: 1 });
  });

  it("accepts the corrected example", () => {
    const fixed = structuredClone(example);
    fixed.inputs[1]!.data = [true, false, true];
    const r = prepareInferRequest(fixed, specModel);
    expect(r.id).toBe("42");
    expect(r.requestedOutputs).toEqual(["output0"]);
    expect(r.batchSize).toBeNull(); // fixed first dims: not batchable
    expect(r.parameters).toBeUndefined();
    expect(r.inputs.input0).toEqual({
      type: "uint32",
      dims: [2, 2],
      data: new Uint32Array([1, 2, 3, 4]),
    });
    expect(r.inputs.input1).toEqual({
      type: "bool",
      dims: [3],
      data: new Uint8Array([1, 0, 1]),
    });
  });
});

describe("prepareInferRequest: good requests", () => {
  it("takes flat data, reports the batch size and passes parameters through", () => {
    const r = prepareInferRequest(
      { ...features([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]), parameters: { trace: true } },
      iris,
    );
    expect(r.batchSize).toBe(2);
    expect(r.requestedOutputs).toBeNull();
    expect(r.id).toBeUndefined();
    expect(r.parameters).toEqual({ trace: true });
    const t = r.inputs.features!;
    expect(t.type).toBe("float32");
    expect(t.dims).toEqual([2, 4]);
    expect(t.data).toEqual(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it("takes nested data matching the shape", () => {
    const r = prepareInferRequest(
      features(
        [2, 4],
        [
          [1, 2, 3, 4],
          [5, 6, 7, 8],
        ],
      ),
      iris,
    );
    expect(r.inputs.features!.data).toEqual(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it("takes nested data of rank 3", () => {
    const m = sig([tensor("x", "int32", ["n", 2, 2])], [tensor("y", "int32", ["n"])]);
    const r = prepareInferRequest(
      {
        inputs: [
          {
            name: "x",
            shape: [1, 2, 2],
            datatype: "INT32",
            data: [
              [
                [1, 2],
                [3, 4],
              ],
            ],
          },
        ],
      },
      m,
    );
    expect(r.inputs.x!.data).toEqual(new Int32Array([1, 2, 3, 4]));
    expect(r.batchSize).toBe(1);
  });

  it("builds int64, uint64, float64, int8, uint8 and string tensors", () => {
    const m = sig(
      [
        tensor("a", "int64", [null]),
        tensor("b", "uint64", [null]),
        tensor("c", "float64", [null]),
        tensor("d", "int8", [null]),
        tensor("e", "uint8", [null]),
        tensor("f", "string", [null]),
      ],
      [tensor("y", "float32", [null])],
    );
    const r = prepareInferRequest(
      {
        inputs: [
          { name: "a", shape: [2], datatype: "INT64", data: [-Number.MAX_SAFE_INTEGER, 7] },
          { name: "b", shape: [2], datatype: "UINT64", data: [0, Number.MAX_SAFE_INTEGER] },
          { name: "c", shape: [2], datatype: "FP64", data: [0.1, -1e300] },
          { name: "d", shape: [2], datatype: "INT8", data: [-128, 127] },
          { name: "e", shape: [2], datatype: "UINT8", data: [0, 255] },
          { name: "f", shape: [2], datatype: "BYTES", data: ["hello", ""] },
        ],
      },
      m,
    );
    expect(r.inputs.a!.data).toEqual(new BigInt64Array([-9007199254740991n, 7n]));
    expect(r.inputs.b!.data).toEqual(new BigUint64Array([0n, 9007199254740991n]));
    expect(r.inputs.c!.data).toEqual(new Float64Array([0.1, -1e300]));
    expect(r.inputs.d!.data).toEqual(new Int8Array([-128, 127]));
    expect(r.inputs.e!.data).toEqual(new Uint8Array([0, 255]));
    expect(r.inputs.f!.data).toEqual(["hello", ""]);
    expect(r.batchSize).toBe(2);
  });

  it("accepts any shape when the model declares none, and scalars", () => {
    const m = sig(
      [tensor("any", "float32", null), tensor("s", "float32", [])],
      [tensor("y", "float32", null)],
    );
    const r = prepareInferRequest(
      {
        inputs: [
          { name: "any", shape: [1, 1, 2], datatype: "FP32", data: [1, 2] },
          { name: "s", shape: [], datatype: "FP32", data: [3] },
        ],
      },
      m,
    );
    expect(r.inputs.any!.dims).toEqual([1, 1, 2]);
    expect(r.inputs.s!.data).toEqual(new Float32Array([3]));
    expect(r.batchSize).toBeNull();
  });

  it("orders the feeds by the signature, whatever the request's order", () => {
    const m = sig(
      [tensor("a", "float32", ["batch", 1]), tensor("b", "float32", ["batch", 1])],
      [tensor("y", "float32", ["batch"])],
    );
    const r = prepareInferRequest(
      {
        inputs: [
          { name: "b", shape: [1, 1], datatype: "FP32", data: [2] },
          { name: "a", shape: [1, 1], datatype: "FP32", data: [1] },
        ],
      },
      m,
    );
    expect(Object.keys(r.inputs)).toEqual(["a", "b"]);
  });
});

describe("prepareInferRequest: malformed requests", () => {
  it.each([
    ["a non-object body", [], "JSON object"],
    ["null", null, "JSON object"],
    ["no inputs", {}, '"inputs" must be a non-empty array'],
    ["empty inputs", { inputs: [] }, '"features" FP32 [batch, 4]'],
    ["an unknown top-level key", { ...features([1, 4], [1, 2, 3, 4]), model: "x" }, '"model"'],
    ["a numeric id", { ...features([1, 4], [1, 2, 3, 4]), id: 42 }, '"id"'],
    ["array parameters", { ...features([1, 4], [1, 2, 3, 4]), parameters: [] }, '"parameters"'],
    ["an input that is not an object", { inputs: [1] }, "inputs[0]"],
    ["an input without name", { inputs: [{ shape: [1], datatype: "FP32", data: [1] }] }, "name"],
  ])("refuses %s", (_, body, mention) => {
    expectRefusal(() => prepareInferRequest(body, iris), "invalid_request", mention);
  });

  it.each([
    ["an unknown key", { contents: [] }, 'unknown field "contents"'],
    ["a missing shape", { shape: undefined }, '"shape"'],
    ["a missing datatype", { datatype: undefined }, '"datatype"'],
    ["missing data", { data: undefined }, '"data"'],
    ["data that is not an array", { data: "1,2,3,4" }, '"data" must be an array'],
  ])("refuses an input with %s, naming it", (_, patch, mention) => {
    const input = { name: "features", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] };
    const body = { inputs: [{ ...input, ...patch }] };
    expectRefusal(
      () => prepareInferRequest(body, iris),
      "invalid_request",
      'Input "features"',
      mention,
    );
  });

  it.each([
    ["negative", [-1, 4]],
    ["fractional", [1.5, 4]],
    ["string", ["1", 4]],
    ["more than 8", [1, 1, 1, 1, 1, 1, 1, 1, 1]],
  ])("refuses a %s shape dimension", (_, shape) => {
    expectRefusal(
      () => prepareInferRequest(features(shape as number[], []), iris),
      "bad_shape",
      'Input "features"',
    );
  });

  it("refuses duplicate inputs", () => {
    const body = {
      inputs: [features([1, 4], [1, 2, 3, 4]).inputs[0], features([1, 4], [1, 2, 3, 4]).inputs[0]],
    };
    expectRefusal(
      () => prepareInferRequest(body, iris),
      "invalid_request",
      'Input "features"',
      "more than once",
    );
  });

  it("refuses binary_data_size on an input whose data is JSON (no binary part)", () => {
    const body = features([1, 4], []);
    (body.inputs[0] as Record<string, unknown>).parameters = { binary_data_size: 16 };
    expectRefusal(
      () => prepareInferRequest(body, iris),
      "invalid_request",
      'Input "features"',
      "Inference-Header-Content-Length",
    );
  });

  it("allows input parameters otherwise", () => {
    const body = features([1, 4], [1, 2, 3, 4]);
    (body.inputs[0] as Record<string, unknown>).parameters = { note: "x" };
    expect(prepareInferRequest(body, iris).batchSize).toBe(1);
  });
});

describe("prepareInferRequest: inputs against the model", () => {
  const two = sig(
    [tensor("a", "float32", ["batch", 2]), tensor("b", "int64", ["batch"])],
    [tensor("y", "float32", ["batch"])],
  );

  it("names a missing input and lists what the model expects", () => {
    const e = expectRefusal(
      () =>
        prepareInferRequest(
          { inputs: [{ name: "a", shape: [1, 2], datatype: "FP32", data: [1, 2] }] },
          two,
        ),
      "missing_input",
      'Input "b" is missing',
      '"a" FP32 [batch, 2], "b" INT64 [batch]',
    );
    expect(e.details).toEqual({ inputs: ["b"] });
  });

  it("names an unknown input and lists what the model expects", () => {
    expectRefusal(
      () =>
        prepareInferRequest(
          {
            inputs: [
              ...features([1, 4], [1, 2, 3, 4]).inputs,
              { name: "extra", shape: [1], datatype: "FP32", data: [1] },
            ],
          },
          iris,
        ),
      "unknown_input",
      'Input "extra" is not an input of this model',
      '"features" FP32 [batch, 4]',
    );
  });

  it("refuses a datatype the model does not take", () => {
    const e = expectRefusal(
      () => prepareInferRequest(features([1, 4], [1, 2, 3, 4], "FP64"), iris),
      "wrong_datatype",
    );
    expect(e.message).toBe(
      'Input "features": datatype FP64 does not match the model, which expects FP32.',
    );
  });

  it("refuses a fixed dimension that does not fit", () => {
    const e = expectRefusal(
      () => prepareInferRequest(features([2, 3], [1, 2, 3, 4, 5, 6]), iris),
      "bad_shape",
    );
    expect(e.message).toBe(
      'Input "features": shape [2,3] does not fit the model\'s [batch, 4] (dimension 1 must be 4).',
    );
  });

  it("refuses a rank that does not fit", () => {
    expectRefusal(
      () => prepareInferRequest(features([8], [1, 2, 3, 4, 5, 6, 7, 8]), iris),
      "bad_shape",
      'Input "features"',
      "has 1 dimension, but the model's [batch, 4] has 2",
    );
  });

  it("refuses a data length that does not fit the shape", () => {
    const e = expectRefusal(
      () => prepareInferRequest(features([2, 4], [1, 2, 3, 4, 5, 6, 7]), iris),
      "bad_data",
    );
    expect(e.message).toBe('Input "features": shape [2,4] needs 8 values, got 7.');
  });

  it("refuses nested data that does not match the shape", () => {
    expectRefusal(
      () =>
        prepareInferRequest(
          features(
            [2, 4],
            [
              [1, 2, 3, 4],
              [5, 6, 7],
            ],
          ),
          iris,
        ),
      "bad_data",
      'Input "features"',
      "data[1] has 3 elements, expected 4",
    );
    expectRefusal(
      () => prepareInferRequest(features([2, 4], [[1, 2, 3, 4, 5, 6, 7, 8]]), iris),
      "bad_data",
      'Input "features"',
      "data has 1 elements, expected 2",
    );
    expectRefusal(
      () => prepareInferRequest(features([2, 4], [[1, 2, 3, 4], 5]), iris),
      "bad_data",
      "data[1] is 5, expected an array of 4 elements",
    );
  });

  it("refuses nested data inside flat data", () => {
    expectRefusal(
      () => prepareInferRequest(features([1, 4], [1, [2], 3, 4]), iris),
      "bad_data",
      'Input "features": value at index 1 is an array',
    );
  });

  it("requires inputs that share a dimension name to agree, naming both", () => {
    const e = expectRefusal(
      () =>
        prepareInferRequest(
          {
            inputs: [
              { name: "a", shape: [2, 2], datatype: "FP32", data: [1, 2, 3, 4] },
              { name: "b", shape: [3], datatype: "INT64", data: [1, 2, 3] },
            ],
          },
          two,
        ),
      "bad_shape",
      'Input "b"',
      'input "a"',
      '"batch"',
    );
    expect(e.details).toMatchObject({ input: "b", otherInput: "a", sizes: [2, 3] });
  });

  it("accepts inputs that share a dimension name when they agree", () => {
    const r = prepareInferRequest(
      {
        inputs: [
          { name: "a", shape: [3, 2], datatype: "FP32", data: [1, 2, 3, 4, 5, 6] },
          { name: "b", shape: [3], datatype: "INT64", data: [1, 2, 3] },
        ],
      },
      two,
    );
    expect(r.batchSize).toBe(3);
  });

  it("checks a dimension name used twice within one input", () => {
    const square = sig([tensor("m", "float32", ["n", "n"])], [tensor("y", "float32", ["n"])]);
    expectRefusal(
      () =>
        prepareInferRequest(
          { inputs: [{ name: "m", shape: [2, 3], datatype: "FP32", data: [1, 2, 3, 4, 5, 6] }] },
          square,
        ),
      "bad_shape",
      'Input "m": dimension 1 ("n") is 3, but its dimension 0 has "n" = 2',
    );
  });

  it("requires one batch size across inputs with differently named batch dims", () => {
    const m = sig(
      [tensor("a", "float32", ["N", 1]), tensor("b", "float32", [null, 1])],
      [tensor("y", "float32", ["N"])],
    );
    expectRefusal(
      () =>
        prepareInferRequest(
          {
            inputs: [
              { name: "a", shape: [1, 1], datatype: "FP32", data: [1] },
              { name: "b", shape: [2, 1], datatype: "FP32", data: [1, 2] },
            ],
          },
          m,
        ),
      "bad_shape",
      'Input "b": batch size (dimension 0) is 2, but input "a" has 1',
    );
  });

  it("refuses a batch of zero rows", () => {
    expectRefusal(
      () => prepareInferRequest(features([0, 4], []), iris),
      "bad_shape",
      'Input "features"',
      "batch size",
    );
  });

  it("allows zero-size tensors when the model is not batchable", () => {
    const m = sig([tensor("x", "float32", [null])], [tensor("y", "float32", [])]);
    const r = prepareInferRequest(
      { inputs: [{ name: "x", shape: [0], datatype: "FP32", data: [] }] },
      m,
    );
    expect(r.inputs.x!.data).toEqual(new Float32Array(0));
  });

  it("refuses models with non-tensor inputs", () => {
    const m = sig([zipMap("rows")], [tensor("y", "float32", ["batch"])]);
    const e = refusal(() => prepareInferRequest(features([1, 4], [1, 2, 3, 4]), m));
    expect(e.status).toBe(400);
    expect(e.code).toBe("unsupported_model");
    expect(e.message).toContain('input "rows" is a sequence');
  });
});

describe("prepareInferRequest: element values", () => {
  it.each([
    [
      "Infinity (JSON 1e400)",
      JSON.parse("[1, 1e400, 3, 4]") as unknown[],
      "non_finite",
      "value at index 1 is Infinity",
    ],
    ["null", [1, 2, null, 4], "non_finite", "value at index 2 is null"],
    ['the string "NaN"', [1, 2, 3, "NaN"], "non_finite", 'value at index 3 is "NaN"'],
    ["a float32 overflow", [1e39, 2, 3, 4], "non_finite", "outside the FP32 range"],
    [
      "a numeric string",
      ["1", 2, 3, 4],
      "bad_data",
      'value at index 0 is "1" (a string); FP32 data must be numbers',
    ],
    ["a boolean", [true, 2, 3, 4], "bad_data", "value at index 0 is true (a boolean)"],
  ])("refuses FP32 %s", (_, data, code, mention) => {
    const e = expectRefusal(
      () => prepareInferRequest(features([1, 4], data), iris),
      code,
      'Input "features"',
      mention,
    );
    expect(e.details).toHaveProperty("index");
  });

  const ints = (dtype: OnnxDtype) =>
    sig([tensor("ids", dtype, [null])], [tensor("y", "float32", [null])]);
  const intBody = (datatype: string, data: unknown[]) => ({
    inputs: [{ name: "ids", shape: [data.length], datatype, data }],
  });

  it.each([
    ["int32", "INT32", [1.5], "bad_data", "must be integers"],
    [
      "int32",
      "INT32",
      [2147483648],
      "bad_data",
      "outside the INT32 range [-2147483648, 2147483647]",
    ],
    ["uint8", "UINT8", [256], "bad_data", "outside the UINT8 range [0, 255]"],
    ["uint32", "UINT32", [-1], "bad_data", "outside the UINT32 range"],
    ["int8", "INT8", [-129], "bad_data", "outside the INT8 range"],
    ["int64", "INT64", [2 ** 53], "bad_data", "outside the INT64 range"],
    ["int64", "INT64", ["12"], "bad_data", "not strings"],
    ["uint64", "UINT64", [-1], "bad_data", "outside the UINT64 range"],
    ["int64", "INT64", [Infinity], "non_finite", "value at index 0 is Infinity"],
  ] as const)("refuses %s value %j", (dtype, datatype, data, code, mention) => {
    expectRefusal(
      () => prepareInferRequest(intBody(datatype, [...data]), ints(dtype)),
      code,
      'Input "ids"',
      mention,
    );
  });

  it("takes booleans only for BOOL", () => {
    expectRefusal(
      () => prepareInferRequest(intBody("BOOL", [true, 1]), ints("bool")),
      "bad_data",
      'Input "ids": value at index 1 is 1 (a number); BOOL data must be true or false.',
    );
  });

  it("takes strings only for BYTES", () => {
    expectRefusal(
      () => prepareInferRequest(intBody("BYTES", ["a", 3]), ints("string")),
      "bad_data",
      'Input "ids": value at index 1 is 3 (a number); BYTES data must be strings.',
    );
  });
});

describe("raw tensor bytes in data (binary transports)", () => {
  const fp32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

  it("decodes a Uint8Array as little-endian tensor bytes after the datatype and shape checks", () => {
    const body = {
      inputs: [
        {
          name: "features",
          shape: [2, 4],
          datatype: "FP32",
          parameters: { binary_data_size: 32 },
          data: fp32([1, 2, 3, 4, 5, 6, 7, 8]),
        },
      ],
    };
    const r = prepareInferRequest(body, iris);
    expect(r.batchSize).toBe(2);
    expect(r.inputs.features).toEqual({
      type: "float32",
      dims: [2, 4],
      data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]),
    });
  });

  it("takes raw and JSON inputs in one request (the spec's example model)", () => {
    const input0 = new Uint8Array(new Uint32Array([1, 2, 3, 4]).buffer);
    const r = prepareInferRequest(
      {
        inputs: [
          { name: "input0", shape: [2, 2], datatype: "UINT32", data: input0 },
          { name: "input1", shape: [3], datatype: "BOOL", data: [true, false, true] },
        ],
      },
      specModel,
    );
    expect(r.inputs.input0!.data).toEqual(new Uint32Array([1, 2, 3, 4]));
    expect(r.inputs.input1!.data).toEqual(new Uint8Array([1, 0, 1]));
  });

  it("checks datatype and shape before the bytes, and names the input on a length mismatch", () => {
    const raw = (datatype: string, shape: number[], data: Uint8Array) => ({
      inputs: [{ name: "features", shape, datatype, data }],
    });
    expectRefusal(
      () => prepareInferRequest(raw("FP64", [1, 4], new Uint8Array(3)), iris),
      "wrong_datatype",
    );
    expectRefusal(() => prepareInferRequest(raw("FP32", [1, 5], fp32([1])), iris), "bad_shape");
    expectRefusal(
      () => prepareInferRequest(raw("FP32", [1, 4], fp32([1, 2, 3])), iris),
      "bad_data",
      'Input "features": shape [1,4] of FP32 needs 16 bytes (4 × 4), got 12.',
    );
  });
});

describe("requested outputs", () => {
  const body = (outputs: unknown) => ({ ...features([1, 4], [1, 2, 3, 4]), outputs });

  it("returns the names asked for", () => {
    expect(prepareInferRequest(body([{ name: "probabilities" }]), iris).requestedOutputs).toEqual([
      "probabilities",
    ]);
  });

  it("leaves binary_data on outputs to the transport (it changes the encoding, not the output)", () => {
    const r = prepareInferRequest(
      body([{ name: "label", parameters: { binary_data: true } }]),
      iris,
    );
    expect(r.requestedOutputs).toEqual(["label"]);
  });

  it("names an unknown output and lists those available", () => {
    expectRefusal(
      () => prepareInferRequest(body([{ name: "score" }]), iris),
      "unknown_output",
      'Output "score"',
      '"label", "probabilities"',
    );
  });

  it("refuses duplicates, an empty list, bare strings and unknown keys", () => {
    expectRefusal(
      () => prepareInferRequest(body([{ name: "label" }, { name: "label" }]), iris),
      "invalid_request",
      'Output "label"',
    );
    expectRefusal(() => prepareInferRequest(body([]), iris), "invalid_request", '"outputs"');
    expectRefusal(
      () => prepareInferRequest(body(["label"]), iris),
      "invalid_request",
      "outputs[0]",
    );
    expectRefusal(
      () => prepareInferRequest(body([{ name: "label", as: "x" }]), iris),
      "invalid_request",
      '"as"',
    );
  });

  it("refuses a non-tensor output", () => {
    const m = sig(
      [tensor("features", "float32", ["batch", 4])],
      [tensor("label", "int64", ["batch"]), zipMap("output_probability")],
    );
    expectRefusal(
      () => prepareInferRequest(body([{ name: "output_probability" }]), m),
      "unsupported_output",
      'Output "output_probability"',
    );
  });
});

describe("isBatchable", () => {
  it.each([
    ["symbolic first dims everywhere", iris, true],
    [
      "null first dims",
      sig([tensor("x", "float32", [null, 2])], [tensor("y", "float32", [null])]),
      true,
    ],
    [
      "a fixed first input dim",
      sig([tensor("x", "float32", [1, 2])], [tensor("y", "float32", ["b"])]),
      false,
    ],
    [
      "a fixed first output dim",
      sig([tensor("x", "float32", ["b", 2])], [tensor("y", "float32", [1])]),
      false,
    ],
    [
      "an undeclared input shape",
      sig([tensor("x", "float32", null)], [tensor("y", "float32", ["b"])]),
      false,
    ],
    ["a scalar output", sig([tensor("x", "float32", ["b"])], [tensor("y", "float32", [])]), false],
    ["a ZipMap output", sig([tensor("x", "float32", ["b", 2])], [zipMap("p")]), false],
    ["the spec example model", specModel, false],
  ])("%s", (_, signature, expected) => {
    expect(isBatchable(signature)).toBe(expected);
  });
});

describe("FP16", () => {
  it("round-trips every finite half value", () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // Inf / NaN
      if (toHalfBits(fromHalfBits(h)) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it("rounds midpoints between neighbours to the even one, and near-midpoints to the nearer", () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x7bff; h++) {
      const lo = fromHalfBits(h);
      const hi = fromHalfBits(h + 1);
      const mid = (lo + hi) / 2;
      const even = h % 2 === 0 ? h : h + 1;
      const eps = (hi - lo) / 1024;
      if (
        toHalfBits(mid) !== even ||
        toHalfBits(mid - eps) !== h ||
        toHalfBits(mid + eps) !== h + 1 ||
        toHalfBits(-mid) !== (even | 0x8000)
      ) {
        wrong.push(h);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("rounds to nearest, ties to even", () => {
    // 1 + 2^-11 is halfway between 1 (0x3c00) and 1 + 2^-10 (0x3c01): ties to the even 0x3c00.
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 2 ** -11 + 2 ** -30)).toBe(0x3c01);
    // 1 + 3·2^-11 is halfway between 0x3c01 and 0x3c02: ties to the even 0x3c02.
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // Subnormals: half of the smallest subnormal ties to 0, a bit more rounds up.
    expect(toHalfBits(2 ** -25)).toBe(0);
    expect(toHalfBits(2 ** -25 * 1.0001)).toBe(1);
    expect(toHalfBits(3 * 2 ** -25)).toBe(2);
    expect(toHalfBits(-0)).toBe(0x8000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00);
    expect(toHalfBits(0.1)).toBe(0x2e66);
    expect(fromHalfBits(0x3555)).toBeCloseTo(1 / 3, 3);
  });

  it("converts FP16 requests to half bits and refuses values beyond ±65504", () => {
    const m = sig([tensor("x", "float16", ["b"])], [tensor("y", "float16", ["b"])]);
    const body = (data: unknown[]) => ({
      inputs: [{ name: "x", shape: [data.length], datatype: "FP16", data }],
    });
    const r = prepareInferRequest(body([1, -2, 0.5, 65504]), m);
    expect(r.inputs.x!.data).toEqual(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff]));
    expectRefusal(
      () => prepareInferRequest(body([70000]), m),
      "non_finite",
      'Input "x"',
      "FP16 range",
    );
    // and back out through the response encoder
    const [out] = encodeOutputs(
      { y: { type: "float16", dims: [4], data: r.inputs.x!.data } },
      null,
    );
    expect(out).toEqual({ name: "y", shape: [4], datatype: "FP16", data: [1, -2, 0.5, 65504] });
  });
});

describe("encodeOutputs", () => {
  const outputs: Record<string, HostTensor> = {
    label: { type: "int64", dims: [2], data: new BigInt64Array([1n, 2n]) },
    probabilities: {
      type: "float32",
      dims: [2, 2],
      data: new Float32Array([0.25, 0.75, 0.5, 0.5]),
    },
    flags: { type: "bool", dims: [2], data: new Uint8Array([1, 0]) },
    names: { type: "string", dims: [2], data: ["a", "b"] },
  };

  it("encodes every output as flat JSON values", () => {
    expect(encodeOutputs(outputs, null)).toEqual([
      { name: "label", shape: [2], datatype: "INT64", data: [1, 2] },
      { name: "probabilities", shape: [2, 2], datatype: "FP32", data: [0.25, 0.75, 0.5, 0.5] },
      { name: "flags", shape: [2], datatype: "BOOL", data: [true, false] },
      { name: "names", shape: [2], datatype: "BYTES", data: ["a", "b"] },
    ]);
  });

  it("encodes only the requested outputs, in the requested order", () => {
    expect(encodeOutputs(outputs, ["names", "label"]).map((o) => o.name)).toEqual([
      "names",
      "label",
    ]);
  });
});

describe("concatBatch / sliceBatch", () => {
  const part = (rows: number, start: number): Record<string, HostTensor> => ({
    x: {
      type: "float32",
      dims: [rows, 2],
      data: Float32Array.from({ length: rows * 2 }, (_, i) => start + i),
    },
    id: {
      type: "int64",
      dims: [rows],
      data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(start + i)),
    },
    s: {
      type: "string",
      dims: [rows],
      data: Array.from({ length: rows }, (_, i) => `r${start + i}`),
    },
  });

  it("concatenates along dim 0 and slices back to the same parts", () => {
    const parts = [part(1, 0), part(3, 10), part(2, 20)];
    const batch = concatBatch(parts);
    expect(batch.x!.dims).toEqual([6, 2]);
    expect(batch.x!.data).toBeInstanceOf(Float32Array);
    expect(Array.from(batch.x!.data as Float32Array)).toEqual([
      0, 1, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23,
    ]);
    expect(batch.id!.data).toEqual(new BigInt64Array([0n, 10n, 11n, 12n, 20n, 21n]));
    expect(batch.s!.data).toEqual(["r0", "r10", "r11", "r12", "r20", "r21"]);

    let offset = 0;
    for (const p of parts) {
      const rows = p.x!.dims[0]!;
      const back = sliceBatch(batch, offset, rows, 6);
      expect(back.x!.dims).toEqual(p.x!.dims);
      expect(back.x!.data).toEqual(p.x!.data);
      expect(back.id!.data).toEqual(p.id!.data);
      expect(back.s!.data).toEqual(p.s!.data);
      offset += rows;
    }
  });

  it("returns a single part as it is", () => {
    const p = part(2, 0);
    expect(concatBatch([p])).toBe(p);
  });

  it("passes outputs without the batch dimension whole", () => {
    const outputs: Record<string, HostTensor> = {
      y: { type: "float32", dims: [4], data: new Float32Array([1, 2, 3, 4]) },
      classes: { type: "string", dims: [3], data: ["a", "b", "c"] },
    };
    const s = sliceBatch(outputs, 1, 2, 4);
    expect(s.y).toEqual({ type: "float32", dims: [2], data: new Float32Array([2, 3]) });
    expect(s.classes).toBe(outputs.classes);
  });

  it("refuses parts that differ", () => {
    const a = part(1, 0);
    const b = part(1, 0);
    b.x = { type: "float32", dims: [1, 3], data: new Float32Array(3) };
    expect(() => concatBatch([a, b])).toThrow(/dimension 1/);
  });
});

describe("prepareSimpleRequest", () => {
  it("takes rows of numbers", () => {
    const r = prepareSimpleRequest(
      {
        id: "r1",
        rows: [
          [5.1, 3.5, 1.4, 0.2],
          [6.2, 2.9, 4.3, 1.3],
        ],
      },
      iris,
    );
    expect(r.id).toBe("r1");
    expect(r.batchSize).toBe(2);
    expect(r.requestedOutputs).toBeNull();
    expect(r.inputs.features!.dims).toEqual([2, 4]);
    expect(r.inputs.features!.data).toEqual(
      new Float32Array([5.1, 3.5, 1.4, 0.2, 6.2, 2.9, 4.3, 1.3]),
    );
  });

  it("takes rows of objects keyed by the model's feature names", () => {
    const r = prepareSimpleRequest(
      {
        rows: [{ petal_width: 0.2, sepal_length: 5.1, petal_length: 1.4, sepal_width: 3.5 }],
        outputs: ["label"],
      },
      iris,
    );
    expect(r.inputs.features!.data).toEqual(new Float32Array([5.1, 3.5, 1.4, 0.2]));
    expect(r.requestedOutputs).toEqual(["label"]);
  });

  it("names missing and unknown feature keys", () => {
    expectRefusal(
      () =>
        prepareSimpleRequest(
          { rows: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal: 0.2 }] },
          iris,
        ),
      "bad_data",
      'Input "features": rows[0] has missing "petal_width" and unknown "petal"',
    );
  });

  it("refuses object rows when the model has no feature names", () => {
    const plain = { ...iris, metadata: {} };
    expectRefusal(
      () => prepareSimpleRequest({ rows: [{ a: 1 }] }, plain),
      "invalid_request",
      "no feature_names metadata",
    );
  });

  it("refuses rows of the wrong length or type, naming row and feature", () => {
    expectRefusal(
      () => prepareSimpleRequest({ rows: [[1, 2, 3]] }, iris),
      "bad_data",
      "rows[0] has 3 values, expected 4",
    );
    expectRefusal(
      () =>
        prepareSimpleRequest(
          {
            rows: [
              [1, 2, 3, 4],
              [1, "x", 3, 4],
            ],
          },
          iris,
        ),
      "bad_data",
      "rows[1][1]",
    );
    expectRefusal(
      () =>
        prepareSimpleRequest(
          { rows: [{ sepal_length: 5.1, sepal_width: null, petal_length: 1.4, petal_width: 0.2 }] },
          iris,
        ),
      "non_finite",
      'rows[0]["sepal_width"] is null',
    );
    expectRefusal(() => prepareSimpleRequest({ rows: [] }, iris), "invalid_request", '"rows"');
    expectRefusal(() => prepareSimpleRequest({ rows: [5] }, iris), "bad_data", "rows[0]");
    expectRefusal(
      () => prepareSimpleRequest({ rows: [[1, 2, 3, 4]], extra: 1 }, iris),
      "invalid_request",
      '"extra"',
    );
  });

  it("refuses too many rows with 413", () => {
    const rows = Array.from({ length: 100_001 }, () => [1, 2, 3, 4]);
    const e = refusal(() => prepareSimpleRequest({ rows }, iris));
    expect(e.status).toBe(413);
    expect(e.code).toBe("too_many_rows");
  });

  it("respects a fixed row count", () => {
    const one = sig([tensor("x", "float64", [1, 2])], [tensor("y", "float64", [1])]);
    const r = prepareSimpleRequest({ rows: [[1, 2]] }, one);
    expect(r.batchSize).toBeNull();
    expect(r.inputs.x!.data).toEqual(new Float64Array([1, 2]));
    expectRefusal(
      () =>
        prepareSimpleRequest(
          {
            rows: [
              [1, 2],
              [3, 4],
            ],
          },
          one,
        ),
      "bad_shape",
      "exactly 1 row",
    );
  });

  it.each([
    ["two inputs", specModel],
    ["a rank-1 input", sig([tensor("x", "float32", ["b"])], [tensor("y", "float32", ["b"])])],
    [
      "a dynamic feature dim",
      sig([tensor("x", "float32", ["b", "f"])], [tensor("y", "float32", ["b"])]),
    ],
    ["a string input", sig([tensor("x", "string", ["b", 2])], [tensor("y", "float32", ["b"])])],
  ])("refuses models with %s, pointing to /infer", (_, m) => {
    expectRefusal(
      () => prepareSimpleRequest({ rows: [[1, 2]] }, m),
      "unsupported_model",
      "[batch, F]",
      "/infer",
    );
  });
});

describe("inferResponseText", () => {
  const outputs: Record<string, HostTensor> = {
    f32: {
      type: "float32",
      dims: [2, 3],
      data: new Float32Array([0.1, -0, NaN, Infinity, 1e-7, 3]),
    },
    f64: { type: "float64", dims: [2], data: new Float64Array([Math.PI, -1.5e300]) },
    f16: { type: "float16", dims: [2], data: new Uint16Array([toHalfBits(1.5), 0x7c00]) },
    i64: { type: "int64", dims: [2], data: new BigInt64Array([-3n, 9007199254740993n]) },
    u8: { type: "uint8", dims: [1], data: new Uint8Array([255]) },
    b: { type: "bool", dims: [3], data: new Uint8Array([1, 0, 2]) },
    s: { type: "string", dims: [2], data: ['a "quoted"\nline', "\u0000é"] },
    empty: { type: "float32", dims: [0, 4], data: new Float32Array(0) },
  };
  const expected = (
    parameters: Record<string, unknown> | undefined,
    requested: string[] | null,
    id = "req-1",
  ) =>
    JSON.stringify({
      model_name: 'm"1',
      model_version: "7",
      id,
      ...(parameters ? { parameters } : {}),
      outputs: encodeOutputs(outputs, requested),
    });

  it("is exactly the JSON of the encoded outputs, for every datatype", () => {
    const text = inferResponseText('m"1', "7", "req-1", undefined, outputs, null);
    expect(text).toBe(expected(undefined, null));
    expect(JSON.parse(text).outputs[0].data).toEqual([
      Math.fround(0.1),
      0,
      null,
      null,
      Math.fround(1e-7),
      3,
    ]);
  });

  it("keeps the request's parameters and the requested outputs in their order", () => {
    const parameters = { priority: 1, tag: "x" };
    expect(inferResponseText('m"1', "7", "id\\2", parameters, outputs, ["s", "f32"])).toBe(
      expected(parameters, ["s", "f32"], "id\\2"),
    );
  });
});

describe("encodeSimpleOutputs", () => {
  it("gives one object per row: scalars for [N], arrays for [N, k]", () => {
    const outputs: Record<string, HostTensor> = {
      label: { type: "int64", dims: [2], data: new BigInt64Array([0n, 2n]) },
      probabilities: {
        type: "float32",
        dims: [2, 2],
        data: new Float32Array([0.75, 0.25, 0.5, 0.5]),
      },
      cube: { type: "int32", dims: [2, 1, 2], data: new Int32Array([1, 2, 3, 4]) },
      classes: { type: "string", dims: [3], data: ["a", "b", "c"] },
    };
    expect(encodeSimpleOutputs(outputs, null, 2)).toEqual([
      { label: 0, probabilities: [0.75, 0.25], cube: [[1, 2]], classes: ["a", "b", "c"] },
      { label: 2, probabilities: [0.5, 0.5], cube: [[3, 4]], classes: ["a", "b", "c"] },
    ]);
    expect(encodeSimpleOutputs(outputs, ["label"], 2)).toEqual([{ label: 0 }, { label: 2 }]);
  });
});

describe("signatureMetadata", () => {
  it("describes inputs and outputs in OIP terms, dynamic dims as -1", () => {
    const m = sig(
      [tensor("features", "float32", ["batch", 4]), tensor("any", "int64", null)],
      [tensor("label", "int64", [null]), zipMap("output_probability")],
    );
    expect(signatureMetadata(m)).toEqual({
      inputs: [
        { name: "features", datatype: "FP32", shape: [-1, 4] },
        { name: "any", datatype: "INT64", shape: [-1] },
      ],
      outputs: [
        { name: "label", datatype: "INT64", shape: [-1] },
        { name: "output_probability", datatype: "seq(map(int64,tensor(float)))", shape: [] },
      ],
    });
  });
});
