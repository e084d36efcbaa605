import { describe, expect, it } from "vitest";
import { InferenceInputError } from "./inference-error";
import { toHalfBits, type HostTensor, type OipDatatype, type OrtType } from "./protocol";
import { decodeTensorBytes, elementByteSize, encodeTensorBytes } from "./tensor-bytes";

/** Bytes written element by element with DataView's explicit little-endian setters. */
function littleEndian(type: OrtType, values: ReadonlyArray<number | bigint>): Uint8Array {
  const size = elementByteSize(type)!;
  const view = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, i) => {
    const at = i * size;
    switch (type) {
      case "bool":
      case "uint8":
        return view.setUint8(at, v as number);
      case "int8":
        return view.setInt8(at, v as number);
      case "uint16":
      case "float16":
        return view.setUint16(at, v as number, true);
      case "int16":
        return view.setInt16(at, v as number, true);
      case "uint32":
        return view.setUint32(at, v as number, true);
      case "int32":
        return view.setInt32(at, v as number, true);
      case "float32":
        return view.setFloat32(at, v as number, true);
      case "float64":
        return view.setFloat64(at, v as number, true);
      case "int64":
        return view.setBigInt64(at, v as bigint, true);
      case "uint64":
        return view.setBigUint64(at, v as bigint, true);
    }
  });
  return new Uint8Array(view.buffer);
}

/** One case per OIP datatype: values that exercise sign, range ends and fractions. */
const NUMERIC: Array<{
  datatype: OipDatatype;
  type: Exclude<OrtType, "string">;
  values: Array<number | bigint>;
  arrayClass: string;
}> = [
  { datatype: "BOOL", type: "bool", values: [1, 0, 1], arrayClass: "Uint8Array" },
  { datatype: "UINT8", type: "uint8", values: [0, 7, 255], arrayClass: "Uint8Array" },
  { datatype: "INT8", type: "int8", values: [-128, 0, 127], arrayClass: "Int8Array" },
  { datatype: "UINT16", type: "uint16", values: [0, 258, 65535], arrayClass: "Uint16Array" },
  { datatype: "INT16", type: "int16", values: [-32768, -2, 32767], arrayClass: "Int16Array" },
  {
    datatype: "FP16",
    type: "float16",
    values: [toHalfBits(1.5), toHalfBits(-65504), toHalfBits(0.000061)],
    arrayClass: "Uint16Array",
  },
  {
    datatype: "UINT32",
    type: "uint32",
    values: [0, 16909060, 4294967295],
    arrayClass: "Uint32Array",
  },
  {
    datatype: "INT32",
    type: "int32",
    values: [-2147483648, -1, 2147483647],
    arrayClass: "Int32Array",
  },
  {
    datatype: "FP32",
    type: "float32",
    values: [0.5, -3.25, 3.4028234663852886e38],
    arrayClass: "Float32Array",
  },
  {
    datatype: "UINT64",
    type: "uint64",
    values: [0n, 72623859790382856n, 18446744073709551615n],
    arrayClass: "BigUint64Array",
  },
  {
    datatype: "INT64",
    type: "int64",
    values: [-9223372036854775808n, -1n, 9223372036854775807n],
    arrayClass: "BigInt64Array",
  },
  {
    datatype: "FP64",
    type: "float64",
    values: [Math.PI, -1e300, 5e-324],
    arrayClass: "Float64Array",
  },
];

function refusal(fn: () => unknown): InferenceInputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InferenceInputError);
    return error as InferenceInputError;
  }
  throw new Error("expected a refusal");
}

/** `bytes` placed at `offset` inside a larger buffer, as a slice of a request body is. */
function at(offset: number, bytes: Uint8Array): Uint8Array {
  const body = new Uint8Array(offset + bytes.length + 3);
  body.set(bytes, offset);
  return body.subarray(offset, offset + bytes.length);
}

describe("decodeTensorBytes / encodeTensorBytes for every OIP datatype", () => {
  for (const c of NUMERIC) {
    it(`${c.datatype}: little-endian bytes decode to the JSON path's array and encode back`, () => {
      const wire = littleEndian(c.type, c.values);
      const spec = { input: "x", type: c.type, datatype: c.datatype, dims: [1, 3] };
      for (const offset of [0, 1, 8]) {
        const decoded = decodeTensorBytes(spec, at(offset, wire));
        expect(decoded.constructor.name).toBe(c.arrayClass);
        expect(Array.from(decoded as ArrayLike<number | bigint>)).toEqual(c.values);
        const encoded = encodeTensorBytes({ type: c.type, dims: [1, 3], data: decoded });
        expect(Array.from(encoded)).toEqual(Array.from(wire));
      }
    });
  }

  it("FP32 bytes of a JSON request's values give the same floats as JSON would", () => {
    const wire = littleEndian("float32", [5.1, 3.5, 1.4, 0.2]);
    const decoded = decodeTensorBytes(
      { input: "x", type: "float32", datatype: "FP32", dims: [1, 4] },
      wire,
    );
    expect(decoded).toEqual(new Float32Array([5.1, 3.5, 1.4, 0.2]));
  });

  it("decodes aligned bytes as a view and unaligned ones as a copy", () => {
    const wire = littleEndian("float32", [1, 2]);
    const spec = { input: "x", type: "float32" as const, datatype: "FP32" as const, dims: [2] };
    const aligned = at(8, wire);
    const view = decodeTensorBytes(spec, aligned) as Float32Array;
    expect(view.buffer).toBe(aligned.buffer);
    const unaligned = at(3, wire);
    const copy = decodeTensorBytes(spec, unaligned) as Float32Array;
    expect(copy.buffer).not.toBe(unaligned.buffer);
    expect(Array.from(copy)).toEqual([1, 2]);
  });

  it("encodes numeric tensors as a view of their memory (no copy)", () => {
    const data = new Float64Array([1, 2, 3]).subarray(1);
    const bytes = encodeTensorBytes({ type: "float64", dims: [2], data });
    expect(bytes.buffer).toBe(data.buffer);
    expect(bytes.byteOffset).toBe(8);
    expect(bytes.byteLength).toBe(16);
  });

  it("BYTES: 4-byte little-endian length + UTF-8 bytes per element, both ways", () => {
    const strings = ["", "ab", "héllo ☃"];
    const parts: number[] = [];
    for (const s of strings) {
      const utf8 = Buffer.from(s, "utf8");
      parts.push(utf8.length & 0xff, (utf8.length >> 8) & 0xff, 0, 0, ...utf8);
    }
    const wire = new Uint8Array(parts);
    const spec = { input: "text", type: "string" as const, datatype: "BYTES" as const, dims: [3] };
    expect(decodeTensorBytes(spec, at(1, wire))).toEqual(strings);
    const t: HostTensor = { type: "string", dims: [3], data: strings };
    expect(Array.from(encodeTensorBytes(t))).toEqual(parts);
    expect(encodeTensorBytes({ type: "string", dims: [0], data: [] }).byteLength).toBe(0);
  });

  it("decodes an empty tensor from no bytes", () => {
    const spec = { input: "x", type: "float32" as const, datatype: "FP32" as const, dims: [0, 4] };
    expect(decodeTensorBytes(spec, new Uint8Array(0))).toEqual(new Float32Array(0));
  });
});

describe("decodeTensorBytes refusals", () => {
  const fp32 = { input: "features", type: "float32" as const, datatype: "FP32" as const };

  it("names the input, the bytes expected and the bytes got when the length is wrong", () => {
    for (const got of [15, 17, 0]) {
      const e = refusal(() => decodeTensorBytes({ ...fp32, dims: [1, 4] }, new Uint8Array(got)));
      expect(e.status).toBe(400);
      expect(e.code).toBe("bad_data");
      expect(e.message).toBe(
        `Input "features": shape [1,4] of FP32 needs 16 bytes (4 × 4), got ${got}.`,
      );
      expect(e.details).toMatchObject({ input: "features", expected: 16, got });
    }
  });

  it("refuses BOOL bytes other than 0 and 1", () => {
    const e = refusal(() =>
      decodeTensorBytes(
        { input: "mask", type: "bool", datatype: "BOOL", dims: [3] },
        new Uint8Array([1, 0, 2]),
      ),
    );
    expect(e.message).toContain('Input "mask": byte 2 is 2');
  });

  const bytesSpec = (n: number) => ({
    input: "text",
    type: "string" as const,
    datatype: "BYTES" as const,
    dims: [n],
  });

  it("refuses BYTES with fewer bytes than the element count's length prefixes", () => {
    const e = refusal(() => decodeTensorBytes(bytesSpec(2), new Uint8Array([1, 0, 0, 0, 65])));
    expect(e.message).toContain('Input "text"');
    expect(e.message).toContain("at least 8 bytes");
  });

  it("refuses a BYTES length prefix cut off", () => {
    // Element 0 is "", element 1 is 4 bytes; element 2 has only 2 bytes of its length prefix.
    const e = refusal(() =>
      decodeTensorBytes(bytesSpec(3), new Uint8Array([0, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4, 5, 6])),
    );
    expect(e.message).toContain("BYTES element 2 of 3: its 4-byte length prefix is cut off");
  });

  it("refuses a BYTES element longer than the bytes left", () => {
    const e = refusal(() =>
      decodeTensorBytes(bytesSpec(1), new Uint8Array([9, 0, 0, 0, 65, 66, 67])),
    );
    expect(e.message).toBe(
      'Input "text": BYTES element 0 of 1 declares 9 bytes at byte 4, but only 3 remain.',
    );
  });

  it("refuses bytes after the last BYTES element", () => {
    const e = refusal(() =>
      decodeTensorBytes(bytesSpec(1), new Uint8Array([1, 0, 0, 0, 65, 66, 67])),
    );
    expect(e.message).toContain("2 bytes follow the last of the 1 BYTES elements");
  });

  it("refuses BYTES elements that are not UTF-8", () => {
    const e = refusal(() =>
      decodeTensorBytes(bytesSpec(1), new Uint8Array([2, 0, 0, 0, 0xc3, 0x28])),
    );
    expect(e.message).toBe('Input "text": BYTES element 0 is not valid UTF-8 text.');
  });
});
