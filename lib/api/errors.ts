import type { z } from "zod";

/**
 * Every API error leaves the server as `{"error":{"code","message","details"}}` with a
 * status that says whose fault it was. Domain code throws `ApiError`s (or subclasses);
 * route wrappers turn them into responses, so no handler formats errors by hand.
 */
export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "outbound_refused"
  | "unauthenticated"
  | "forbidden"
  | "csrf_rejected"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "unprocessable"
  | "rate_limited"
  | "internal"
  | "bad_gateway"
  | "service_unavailable";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  /** A URL the server would contact is refused by the outbound-request policy (lib/net). */
  outbound_refused: 400,
  unauthenticated: 401,
  forbidden: 403,
  csrf_rejected: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  /** A process the web app calls on the request's behalf (serving) failed or timed out. */
  bad_gateway: 502,
  /** That process is not reachable at all. */
  service_unavailable: 503,
};

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = STATUS[code];
  }
}

export const notFound = (what: string) => new ApiError("not_found", `${what} was not found.`);
export const conflict = (message: string, details?: unknown) =>
  new ApiError("conflict", message, details);
export const forbidden = (message = "You do not have permission to do this.") =>
  new ApiError("forbidden", message);

export type FieldProblem = { field: string; message: string };

/** Flattens zod issues into `field: message` pairs; unknown keys become one problem each. */
export function describeZodIssues(error: z.ZodError, root?: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    const base = [root, ...issue.path.map(String)].filter(Boolean).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        problems.push({
          field: base ? `${base}.${key}` : key,
          message: "is not a recognised field",
        });
      }
      continue;
    }
    const isMissing = issue.code === "invalid_type" && issue.message.includes("received undefined");
    problems.push({
      field: base || "(root)",
      message: isMissing ? "is required" : issue.message,
    });
  }
  return problems;
}

export function validationError(error: z.ZodError, root?: string): ApiError {
  const problems = describeZodIssues(error, root);
  const summary = problems.map((p) => `${p.field} ${p.message}`).join("; ");
  return new ApiError("validation_failed", `Invalid request: ${summary}.`, { fields: problems });
}

export function errorBody(error: ApiError) {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details !== undefined ? { details: error.details } : {}),
    },
  };
}
