import { describe, expect, it } from "vitest";
import { UploadError } from "./errors";
import { declaredContentLength, mediaTypeOf } from "./headers";

describe("mediaTypeOf", () => {
  it.each([
    ["multipart/form-data; boundary=abc", "multipart/form-data"],
    ["Application/Octet-Stream", "application/octet-stream"],
    ["  text/plain ; charset=utf-8", "text/plain"],
    ["", null],
    [null, null],
    [";boundary=x", null],
  ])("%j → %j", (input, expected) => {
    expect(mediaTypeOf(input)).toBe(expected);
  });
});

describe("declaredContentLength", () => {
  it("reads a byte count, or null for a chunked body", () => {
    expect(declaredContentLength(new Headers({ "content-length": "1234" }))).toBe(1234);
    expect(declaredContentLength(new Headers({ "content-length": " 0 " }))).toBe(0);
    expect(declaredContentLength(new Headers())).toBeNull();
  });

  it.each(["-1", "1e9", "abc", "12, 12", "99999999999999999"])("rejects %j", (value) => {
    const error = (() => {
      try {
        declaredContentLength(new Headers({ "content-length": value }));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UploadError);
    expect((error as UploadError).status).toBe(400);
    expect((error as UploadError).reason).toBe("invalid_content_length");
  });
});
