import { ApiError, type ErrorCode } from "../api/errors";

export type UploadErrorReason =
  | "unsupported_media_type"
  | "invalid_content_length"
  | "missing_file"
  | "unexpected_file_field"
  | "too_many_files"
  | "too_large"
  | "field_too_large"
  | "too_many_fields"
  | "duplicate_field"
  | "unknown_field"
  | "malformed"
  | "invalid_filename"
  | "aborted";

/**
 * A problem with the upload that the client can fix. It is an `ApiError`, so the route
 * wrapper already turns it into the API's error body and status; `reason` lets a route
 * or a test tell the cases apart without parsing messages (it is also in `details`).
 */
export class UploadError extends ApiError {
  constructor(
    code: Extract<
      ErrorCode,
      "bad_request" | "validation_failed" | "payload_too_large" | "unsupported_media_type"
    >,
    readonly reason: UploadErrorReason,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, { reason, ...details });
    this.name = "UploadError";
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export function fileTooLarge(limitBytes: number): UploadError {
  return new UploadError(
    "payload_too_large",
    "too_large",
    `The file is larger than the upload limit of ${formatBytes(limitBytes)}.`,
    { limitBytes },
  );
}

export function uploadAborted(cause?: unknown): UploadError {
  return new UploadError(
    "bad_request",
    "aborted",
    "The upload was interrupted before the whole file arrived; nothing was stored.",
    {},
    { cause },
  );
}

/** Human units for messages: "2 GiB", "512 MiB", "1.5 KiB", "300 bytes". */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${bytes} bytes`;
  const rounded = Math.round(value * 10) / 10;
  return `${rounded} ${units[unit]} (${bytes} bytes)`;
}
