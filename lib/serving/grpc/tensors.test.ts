import { describe, expect, it } from "vitest";
import { InferenceInputError } from "../inference-error";
import type { HostTensor } from "../protocol";
import {
  encodeInferOutputs,
  neutralInferRequest,
  plainParameters,
  protocolParameters,
} from "./tensors";

const refusal = (f: () => unknown): InferenceInputError => {
  try {
    f();
  } catch (error) {
    if (error instanceof InferenceInputError) return error;
    throw error;
  }
  throw new Error("not refused");
};

describe("neutralInferRequest", () => {
  it("typed contents become data arrays; shapes from int64 strings become numbers", () => {
    expect(
      neutralInferRequest({
        model_name: "m",
        id: "r1",
        inputs: [
          {
            name: "x",
            datatype: "FP32",
            shape: ["1", "2"],
            contents: { fp32_contents: [1.5, 2] },
          },
          {
            name: "s",
            datatype: "BYTES",
            shape: ["1"],
            contents: { bytes_contents: [Buffer.from("hé")] },
          },
        ],
        outputs: [{ name: "y" }],
      }),
    ).toEqual({
      id: "r1",
      inputs: [
        { name: "x", shape: [1, 2], datatype: "FP32", data: [1.5, 2] },
        { name: "s", shape: [1], datatype: "BYTES", data: ["hé"] },
      ],
      outputs: [{ name: "y" }],
    });
  });

  it("INT64 and UINT64 contents become exact little-endian bytes, counted in values", () => {
    const { inputs } = neutralInferRequest({
      inputs: [
        {
          name: "i",
          datatype: "INT64",
          shape: ["2"],
          contents: { int64_contents: ["-9223372036854775808", "9007199254740993"] },
        },
        {
          name: "u",
          datatype: "UINT64",
          shape: ["1"],
          contents: { uint64_contents: ["18446744073709551615"] },
        },
      ],
    });
    const bytes = inputs[0]!.data as Uint8Array;
    const view = new BigInt64Array(bytes.buffer, bytes.byteOffset, 2);
    expect([...view]).toEqual([-(2n ** 63n), 2n ** 53n + 1n]);
    const u = inputs[1]!.data as Uint8Array;
    expect(new BigUint64Array(u.buffer, u.byteOffset, 1)[0]).toBe(2n ** 64n - 1n);
    expect(
      refusal(() =>
        neutralInferRequest({
          inputs: [
            { name: "i", datatype: "INT64", shape: ["3"], contents: { int64_contents: ["1"] } },
          ],
        }),
      ).message,
    ).toBe('Input "i": shape [3] needs 3 values, got 1.');
  });

  it("raw contents pass through as bytes, one per input; mixing or miscounting is refused", () => {
    const raw = Buffer.from([1, 2, 3, 4]);
    expect(
      neutralInferRequest({
        inputs: [{ name: "x", datatype: "FP32", shape: ["1"] }],
        raw_input_contents: [raw],
      }).inputs[0]!.data,
    ).toBe(raw);
    expect(
      refusal(() =>
        neutralInferRequest({
          inputs: [
            { name: "x", datatype: "FP32", shape: ["1"] },
            { name: "y", datatype: "FP32", shape: ["1"] },
          ],
          raw_input_contents: [raw],
        }),
      ).message,
    ).toMatch(/raw_input_contents has 1 entry but the request has 2 inputs/);
    expect(
      refusal(() =>
        neutralInferRequest({
          inputs: [{ name: "x", datatype: "FP32", shape: ["1"], contents: { fp32_contents: [1] } }],
          raw_input_contents: [raw],
        }),
      ).message,
    ).toMatch(/Input "x": has typed contents, but the request sends raw_input_contents/);
  });

  it("refuses values in the wrong field, and typed FP16", () => {
    expect(
      refusal(() =>
        neutralInferRequest({
          inputs: [
            { name: "x", datatype: "INT32", shape: ["1"], contents: { fp32_contents: [1] } },
          ],
        }),
      ).message,
    ).toBe(
      'Input "x": datatype INT32 takes its values in int_contents, but fp32_contents was given.',
    );
    expect(
      refusal(() =>
        neutralInferRequest({
          inputs: [{ name: "h", datatype: "FP16", shape: ["1"], contents: { fp32_contents: [1] } }],
        }),
      ).message,
    ).toMatch(/FP16 has no typed contents field.*raw_input_contents/);
  });

  it("parameters map to the JSON form and back", () => {
    const plain = plainParameters({
      a: { parameter_choice: "bool_param", bool_param: true },
      b: { parameter_choice: "int64_param", int64_param: "42" },
      c: { parameter_choice: "string_param", string_param: "x" },
    });
    expect(plain).toEqual({ a: true, b: 42, c: "x" });
    expect(protocolParameters(plain)).toEqual({
      a: { bool_param: true },
      b: { int64_param: 42 },
      c: { string_param: "x" },
    });
    expect(plainParameters({})).toBeUndefined();
  });
});

describe("encodeInferOutputs", () => {
  const probs: HostTensor = { type: "float32", dims: [1, 2], data: new Float32Array([0.25, 0.75]) };
  const label: HostTensor = { type: "int64", dims: [1], data: new BigInt64Array([2n ** 60n]) };
  const half: HostTensor = { type: "float16", dims: [1], data: new Uint16Array([0x3c00]) };

  it("typed contents, int64 as exact decimal strings, in the requested order", () => {
    expect(encodeInferOutputs({ probs, label }, ["label", "probs"], false)).toEqual({
      outputs: [
        {
          name: "label",
          datatype: "INT64",
          shape: [1],
          contents: { int64_contents: ["1152921504606846976"] },
        },
        {
          name: "probs",
          datatype: "FP32",
          shape: [1, 2],
          contents: { fp32_contents: [0.25, 0.75] },
        },
      ],
    });
  });

  it("raw when asked, and for every output as soon as one is FP16 (it has no typed field)", () => {
    const raw = encodeInferOutputs({ probs }, null, true);
    expect(raw.outputs[0]!.contents).toBeUndefined();
    expect(Buffer.from(raw.raw_output_contents![0]!)).toEqual(
      Buffer.from(new Float32Array([0.25, 0.75]).buffer),
    );
    const withHalf = encodeInferOutputs({ probs, half }, null, false);
    expect(withHalf.outputs.every((o) => o.contents === undefined)).toBe(true);
    expect(withHalf.raw_output_contents!.map((b) => Buffer.from(b).toString("hex"))).toEqual([
      Buffer.from(new Float32Array([0.25, 0.75]).buffer).toString("hex"),
      "003c",
    ]);
  });
});
