import { describe, expect, it } from "vitest";
import { describeFileKind } from "./sniff";

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(
    parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))),
  );

describe("describeFileKind", () => {
  it.each([
    [
      bytes("PK\x03\x04", [0x14, 0]),
      "a ZIP archive (PyTorch .pt and Keras .keras files are ZIP archives)",
    ],
    [bytes([0x1f, 0x8b, 8, 0]), "a gzip-compressed file"],
    [bytes([0x14, 0, 0, 0], "ORTM", [0, 0]), "an ONNX Runtime (.ort) model, not an .onnx file"],
    [bytes([0x18, 0, 0, 0], "TFL3"), "a TensorFlow Lite model"],
    [bytes([0x89], "HDF\r\n"), "an HDF5 file (such as a Keras .h5 model)"],
    [bytes([0x80, 0x04, 0x95]), "a Python pickle"],
    [bytes("GGUF", [3, 0, 0, 0]), "a GGUF model"],
    [bytes([0x40, 0, 0, 0, 0, 0, 0, 0], '{"w":{}}'), "a safetensors file"],
    [Buffer.from("just some words\nand lines\n"), "a text file"],
    [Buffer.from("  [1, 2, 3]"), "a JSON text file"],
    [Buffer.from("<!DOCTYPE html>"), "an HTML or XML text file"],
    [Buffer.from("ir_version: 8\n"), "ONNX's text format, not the binary .onnx format"],
    // UTF-8 cut in the middle of a character by the sample's end is still text.
    [Buffer.from("größe").subarray(0, 3), "a text file"],
  ])("%#: %s", (head, expected) => {
    expect(describeFileKind(head)).toBe(expected);
  });

  it("recognises nothing in ONNX or arbitrary binary data", () => {
    expect(describeFileKind(bytes([0x08, 0x08, 0x12, 0x07], "pytorch"))).toBeNull();
    expect(describeFileKind(bytes([0x00, 0x01, 0xfe, 0xff]))).toBeNull();
    expect(describeFileKind(new Uint8Array())).toBeNull();
  });
});
