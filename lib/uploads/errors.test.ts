import { describe, expect, it } from "vitest";
import { ApiError, errorBody } from "../api/errors";
import { UploadError, fileTooLarge, formatBytes } from "./errors";

describe("UploadError", () => {
  it("is an ApiError, so route wrappers map it without glue", () => {
    const error = fileTooLarge(2 * 1024 ** 3);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(413);
    expect(error.reason).toBe("too_large");
    expect(errorBody(error)).toEqual({
      error: {
        code: "payload_too_large",
        message: "The file is larger than the upload limit of 2 GiB (2147483648 bytes).",
        details: { reason: "too_large", limitBytes: 2147483648 },
      },
    });
  });

  it("keeps the reason in details for API clients", () => {
    const error = new UploadError("unsupported_media_type", "unsupported_media_type", "No.");
    expect(error.status).toBe(415);
    expect(error.details).toEqual({ reason: "unsupported_media_type" });
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 bytes"],
    [1023, "1023 bytes"],
    [1536, "1.5 KiB (1536 bytes)"],
    [1024 * 1024, "1 MiB (1048576 bytes)"],
  ])("%d → %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
