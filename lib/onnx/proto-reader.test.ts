import { describe, expect, it } from "vitest";
import { bufferSource, LEN, ProtoCursor, VARINT, WireError } from "./proto-reader";

const cursor = (bytes: number[] | Buffer, window?: number) =>
  new ProtoCursor(bufferSource(Buffer.from(bytes)), window);

function wireError(run: () => unknown): WireError {
  try {
    run();
  } catch (error) {
    if (error instanceof WireError) return error;
    throw error;
  }
  throw new Error("expected a WireError");
}

describe("ProtoCursor", () => {
  it("decodes varints: small, multi-byte, 2^53 − 1 and negative int64", () => {
    const c = cursor([
      0x00,
      0x96,
      0x01, // 150
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x0f, // 2^53 − 1
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x01, // −1 as int64
      0xfe,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x01, // −2
    ]);
    expect(c.varint()).toBe(0);
    expect(c.varint()).toBe(150);
    expect(c.varint()).toBe(2 ** 53 - 1);
    expect(c.varint()).toBe(-1);
    expect(c.varint()).toBe(-2);
    expect(c.pos).toBe(c.size);
  });

  it("refuses varints longer than 10 bytes and invalid tags", () => {
    expect(wireError(() => cursor(new Array(11).fill(0x80)).varint()).kind).toBe("malformed");
    // Field number 0.
    expect(wireError(() => cursor([0x00]).header(1)).message).toBe("invalid field number 0");
    // Wire type 3 (start group): never used by ONNX, typical of random bytes.
    expect(wireError(() => cursor([0x0b]).header(1)).message).toBe("invalid wire type 3");
  });

  it("reads headers and tells truncation from overruns", () => {
    const c = cursor([0x0a, 0x03, 0x61, 0x62, 0x63, 0x10, 0x05]);
    const h = c.header(7);
    expect(h).toMatchObject({ field: 1, wire: LEN, start: 0, length: 3, cut: false });
    expect(c.string(h.length, 100)).toBe("abc");
    expect(c.header(7)).toMatchObject({ field: 2, wire: VARINT });
    expect(c.varint()).toBe(5);

    // A length past the end of the file, at the top level: let through (the caller descends to
    // find where the file stops), and reading or skipping it is "eof".
    const cut = cursor([0x0a, 0x10, 0x61]);
    const ch = cut.header(3);
    expect(ch.cut).toBe(true);
    expect(wireError(() => cut.skip(ch.length)).kind).toBe("eof");

    // The same inside a message that ends before the file does: malformed.
    const inner = cursor([0x0a, 0x10, 0x61, 0x62]);
    expect(wireError(() => inner.header(3)).kind).toBe("malformed");
  });

  it("reads strings longer than its window and cuts them at the cap", () => {
    const text = "ä".repeat(100);
    const bytes = Buffer.from(text);
    const c = cursor(bytes, 16);
    expect(c.string(bytes.length, 1000)).toBe(text);
    const d = cursor(bytes, 16);
    expect(d.string(bytes.length, 10)).toBe("äääää…");
    expect(d.pos).toBe(bytes.length);
  });
});
