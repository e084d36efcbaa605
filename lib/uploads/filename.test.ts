import { describe, expect, it } from "vitest";
import { MAX_FILENAME_LENGTH, sanitizeFilename } from "./filename";

describe("sanitizeFilename", () => {
  it.each([
    ["model.onnx", "model.onnx"],
    ["../../etc/passwd", "passwd"],
    ["..\\..\\windows\\system32\\model.onnx", "model.onnx"],
    ["C:\\Users\\me\\model.onnx", "model.onnx"],
    ["C:model.onnx", "model.onnx"],
    ["/absolute/path/model.onnx", "model.onnx"],
    ["dir/", "dir"],
    ["a\u0000b\u0007c\u001b[31m.onnx", "abc[31m.onnx"],
    ["evil\u202Excod.onnx", "evilxcod.onnx"],
    ["zero\u200Bwidth.onnx", "zerowidth.onnx"],
    ["  spaced.onnx  ", "spaced.onnx"],
    ["模型 v2.onnx", "模型 v2.onnx"],
    ["e\u0301.onnx", "é.onnx"], // NFC
    ["..", null],
    [".", null],
    ["../..", null],
    ["", null],
    ["\u0000\u0001", null],
    [null, null],
    [undefined, null],
  ])("%j → %j", (input, expected) => {
    expect(sanitizeFilename(input)).toBe(expected);
  });

  it("limits the length and keeps the extension", () => {
    const name = sanitizeFilename(`${"a".repeat(500)}.onnx`)!;
    expect([...name].length).toBe(MAX_FILENAME_LENGTH);
    expect(name.endsWith(".onnx")).toBe(true);
  });

  it("cuts by code points, never inside a surrogate pair", () => {
    const name = sanitizeFilename("😀".repeat(300))!;
    expect([...name].length).toBe(MAX_FILENAME_LENGTH);
    expect(name).toBe("😀".repeat(MAX_FILENAME_LENGTH));
  });
});
