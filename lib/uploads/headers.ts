import { UploadError } from "./errors";

/** "multipart/form-data; boundary=x" → "multipart/form-data"; missing → null. */
export function mediaTypeOf(contentType: string | null): string | null {
  if (!contentType) return null;
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "" ? null : type;
}

/**
 * The declared body length, or null when the body is chunked. Malformed values are the
 * client's mistake (and Node's parser would normally have refused them already).
 */
export function declaredContentLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  if (value === null) return null;
  const trimmed = value.trim();
  if (!/^\d{1,16}$/.test(trimmed)) {
    throw new UploadError(
      "bad_request",
      "invalid_content_length",
      `The Content-Length header "${value.slice(0, 40)}" is not a byte count.`,
    );
  }
  return Number(trimmed);
}

export const METADATA_HEADER_PREFIX = "x-modeldeck-";
