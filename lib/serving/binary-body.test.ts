import type http from "node:http";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  binaryOutputsOf,
  readBinaryInferBody,
  encodeOutputsWithBinary,
  loggedBinaryInputs,
  splitBinaryBody,
} from "./binary-body";
import { InferenceInputError } from "./inference-error";
import type { HostTensor, PreparedRequest } from "./protocol";

/** A binary request body: JSON header text, then the given byte runs; and the header's value. */
function framed(request: unknown, ...parts: number[][]): { body: Buffer; header: string } {
  const json = Buffer.from(JSON.stringify(request), "utf8");
  return {
    body: Buffer.concat([json, ...parts.map((p) => Buffer.from(p))]),
    header: `${json.length}`,
  };
}

function refusal(fn: () => unknown): InferenceInputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InferenceInputError);
    return error as InferenceInputError;
  }
  throw new Error("expected a refusal");
}

const input = (name: string, size?: number, extra: Record<string, unknown> = {}) => ({
  name,
  shape: [1],
  datatype: "UINT8",
  ...(size === undefined ? {} : { parameters: { binary_data_size: size } }),
  ...extra,
});

describe("splitBinaryBody", () => {
  it("gives each binary input a view of its bytes, in the order of inputs; JSON inputs stay", () => {
    const { body, header } = framed(
      { inputs: [input("a", 2), input("b", undefined, { data: [7] }), input("c", 3)] },
      [1, 2],
      [3, 4, 5],
    );
    const request = splitBinaryBody(body, header) as {
      inputs: Array<{ data: unknown }>;
    };
    const [a, b, c] = request.inputs;
    expect(a!.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(a!.data as Uint8Array)).toEqual([1, 2]);
    expect((a!.data as Uint8Array).buffer).toBe(body.buffer); // a view, not a copy
    expect(b!.data).toEqual([7]);
    expect(Array.from(c!.data as Uint8Array)).toEqual([3, 4, 5]);
  });

  it("takes a JSON header with multi-byte UTF-8 (the length is in bytes)", () => {
    const { body, header } = framed({ id: "é☃", inputs: [input("a", 1)] }, [9]);
    const request = splitBinaryBody(body, header) as {
      id: string;
      inputs: Array<{ data: unknown }>;
    };
    expect(request.id).toBe("é☃");
    expect(Array.from(request.inputs[0]!.data as Uint8Array)).toEqual([9]);
  });

  it("takes a zero-size binary input and a body that is all JSON", () => {
    const { body, header } = framed({ inputs: [input("a", 0)] });
    const request = splitBinaryBody(body, header) as { inputs: Array<{ data: Uint8Array }> };
    expect(request.inputs[0]!.data.byteLength).toBe(0);
  });

  it("refuses a header length that is not a non-negative integer", () => {
    const { body } = framed({ inputs: [] });
    for (const bad of ["-1", "abc", "1.5", "", "12, 12", "1e3"]) {
      const e = refusal(() => splitBinaryBody(body, bad));
      expect(e.status).toBe(400);
      expect(e.code).toBe("bad_header_length");
      expect(e.message).toContain("Inference-Header-Content-Length must be");
    }
  });

  it("refuses a header length of 0 (a raw request without JSON)", () => {
    const e = refusal(() => splitBinaryBody(Buffer.from([1, 2, 3, 4]), "0"));
    expect(e.code).toBe("bad_header_length");
    expect(e.message).toContain("is 0 (a raw request without JSON), which is not supported");
  });

  it("refuses a header length over the body's length", () => {
    const { body } = framed({ inputs: [] });
    const e = refusal(() => splitBinaryBody(body, String(body.length + 1)));
    expect(e.message).toBe(
      `Inference-Header-Content-Length is ${body.length + 1}, but the body has only ${body.length} bytes.`,
    );
  });

  it("refuses a header length that cuts the JSON short", () => {
    const { body, header } = framed({ inputs: [input("a", 1)] }, [1]);
    const e = refusal(() => splitBinaryBody(body, String(Number(header) - 1)));
    expect(e.code).toBe("malformed_json");
    expect(e.message).toContain(`The JSON request (the first ${Number(header) - 1} bytes)`);
  });

  it("refuses missing bytes, naming the input, its size and what is left", () => {
    const { body, header } = framed({ inputs: [input("a", 2), input("b", 4)] }, [1, 2], [3]);
    const e = refusal(() => splitBinaryBody(body, header));
    expect(e.code).toBe("missing_binary_data");
    expect(e.message).toContain('Input "b": "binary_data_size" is 4, but only 1 bytes');
  });

  it("refuses bytes left over after the inputs", () => {
    const { body, header } = framed({ inputs: [input("a", 2)] }, [1, 2, 3, 4]);
    const e = refusal(() => splitBinaryBody(body, header));
    expect(e.code).toBe("trailing_binary_data");
    expect(e.message).toContain("4 bytes after the");
    expect(e.message).toContain("add up to 2; 2 bytes are left over");
  });

  it("refuses data and binary_data_size together, and a size that is not a byte count", () => {
    const both = framed({ inputs: [input("a", 1, { data: [1] })] }, [1]);
    expect(refusal(() => splitBinaryBody(both.body, both.header)).message).toContain(
      'Input "a" has both "data" and "binary_data_size"',
    );
    for (const size of [-1, 1.5, "4", null]) {
      const bad = framed({ inputs: [input("a", size as number)] }, [1]);
      expect(refusal(() => splitBinaryBody(bad.body, bad.header)).message).toContain(
        'Input "a": "binary_data_size" must be a non-negative integer',
      );
    }
  });
});

describe("binaryOutputsOf", () => {
  it("is null (all JSON) unless something asks for binary", () => {
    expect(binaryOutputsOf({ inputs: [] })).toBeNull();
    expect(binaryOutputsOf({ outputs: [{ name: "y" }] })).toBeNull();
    expect(binaryOutputsOf({ parameters: { binary_data_output: false } })).toBeNull();
  });

  it("binary_data_output makes every output binary unless one says binary_data: false", () => {
    const isBinary = binaryOutputsOf({
      parameters: { binary_data_output: true },
      outputs: [{ name: "y", parameters: { binary_data: false } }, { name: "z" }],
    })!;
    expect(isBinary("y")).toBe(false);
    expect(isBinary("z")).toBe(true);
    expect(isBinary("other")).toBe(true);
  });

  it("binary_data: true on one output makes only that one binary", () => {
    const isBinary = binaryOutputsOf({
      outputs: [{ name: "y", parameters: { binary_data: true } }, { name: "z" }],
    })!;
    expect(isBinary("y")).toBe(true);
    expect(isBinary("z")).toBe(false);
  });

  it("refuses flags that are not booleans", () => {
    expect(
      refusal(() => binaryOutputsOf({ parameters: { binary_data_output: "yes" } })).message,
    ).toContain('"parameters.binary_data_output" must be true or false');
    expect(
      refusal(() => binaryOutputsOf({ outputs: [{ name: "y", parameters: { binary_data: 1 } }] }))
        .message,
    ).toContain('Output "y": "parameters.binary_data" must be true or false');
  });
});

describe("encodeOutputsWithBinary", () => {
  const outputs: Record<string, HostTensor> = {
    label: { type: "int64", dims: [2], data: new BigInt64Array([1n, 2n]) },
    probabilities: { type: "float32", dims: [2, 2], data: new Float32Array([0.25, 0.75, 1, 0]) },
  };

  it("binary outputs carry binary_data_size and no data; their bytes follow in output order", () => {
    const r = encodeOutputsWithBinary(outputs, null, (n) => n === "probabilities");
    expect(r.outputs).toEqual([
      { name: "label", shape: [2], datatype: "INT64", data: [1, 2] },
      {
        name: "probabilities",
        shape: [2, 2],
        datatype: "FP32",
        parameters: { binary_data_size: 16 },
      },
    ]);
    expect(r.tensors).toHaveLength(1);
    expect(Buffer.from(r.tensors[0]!).readFloatLE(4)).toBe(0.75);
  });

  it("gives no tensors when nothing ends up binary", () => {
    expect(encodeOutputsWithBinary(outputs, ["label"], () => false).tensors).toEqual([]);
  });
});

describe("loggedBinaryInputs", () => {
  const prepared = (data: Float32Array): PreparedRequest => ({
    id: undefined,
    inputs: { x: { type: "float32", dims: [1, data.length], data } },
    requestedOutputs: null,
    batchSize: 1,
    parameters: undefined,
  });

  it("logs a binary request's inputs as the JSON form would carry them", () => {
    const { body, header } = framed(
      {
        inputs: [
          { name: "x", shape: [1, 2], datatype: "FP32", parameters: { binary_data_size: 8 } },
        ],
      },
      Array.from(new Uint8Array(new Float32Array([0.5, 2]).buffer)),
    );
    const request = splitBinaryBody(body, header);
    expect(loggedBinaryInputs(request, prepared(new Float32Array([0.5, 2])), 1000)).toEqual([
      { name: "x", shape: [1, 2], datatype: "FP32", data: [0.5, 2] },
    ]);
  });

  it("is undefined for a JSON request and null for one too large to log", () => {
    expect(loggedBinaryInputs({ inputs: [] }, null, 1000)).toBeUndefined();
    const { body, header } = framed(
      {
        inputs: [
          { name: "x", shape: [1, 600], datatype: "FP32", parameters: { binary_data_size: 2400 } },
        ],
      },
      Array.from(new Uint8Array(2400)),
    );
    const request = splitBinaryBody(body, header);
    expect(loggedBinaryInputs(request, prepared(new Float32Array(600)), 1000)).toBeNull();
  });
});

describe("readBinaryInferBody", () => {
  /** A request stream with these headers delivering `body` in chunks of `chunk` bytes. */
  function request(body: Buffer, headers: Record<string, string>, chunk = 5): http.IncomingMessage {
    const parts: Buffer[] = [];
    for (let at = 0; at < body.length; at += chunk) parts.push(body.subarray(at, at + chunk));
    return Object.assign(Readable.from(parts), { headers }) as unknown as http.IncomingMessage;
  }

  it("places the binary part on an 8-byte boundary, so tensors decode as views", async () => {
    for (const id of ["a", "ab", "abc"]) {
      const { body, header } = framed(
        { id, inputs: [input("a", 8)] },
        Array.from(new Uint8Array(new Float64Array([Math.PI]).buffer)),
      );
      const req = request(body, {
        "inference-header-content-length": header,
        "content-length": String(body.length),
      });
      const parsed = (await readBinaryInferBody(req, 1024)) as {
        inputs: Array<{ data: Uint8Array }>;
      };
      const data = parsed.inputs[0]!.data;
      expect(data.byteOffset % 8).toBe(0);
      expect(new Float64Array(data.buffer, data.byteOffset, 1)[0]).toBe(Math.PI);
    }
  });

  it("reads a body without Content-Length, and refuses one over the limit", async () => {
    const { body, header } = framed({ inputs: [input("a", 3)] }, [1, 2, 3]);
    const parsed = (await readBinaryInferBody(
      request(body, { "inference-header-content-length": header }),
      1024,
    )) as { inputs: Array<{ data: Uint8Array }> };
    expect(Array.from(parsed.inputs[0]!.data)).toEqual([1, 2, 3]);
    await expect(
      readBinaryInferBody(request(body, { "inference-header-content-length": header }), 10),
    ).rejects.toMatchObject({ status: 413, code: "payload_too_large" });
  });
});
