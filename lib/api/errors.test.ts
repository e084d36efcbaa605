import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiError, describeZodIssues, errorBody, validationError } from "./errors";

const schema = z
  .object({
    email: z.email(),
    name: z.string().min(1),
    nested: z.object({ n: z.number() }).optional(),
  })
  .strict();

describe("validation errors", () => {
  it("names missing fields as required", () => {
    const result = schema.safeParse({ name: "x" });
    expect(result.success).toBe(false);
    expect(describeZodIssues(result.error!)).toEqual([{ field: "email", message: "is required" }]);
  });

  it("names each unknown field", () => {
    const result = schema.safeParse({ email: "a@b.co", name: "x", role: "admin", extra: 1 });
    expect(describeZodIssues(result.error!)).toEqual([
      { field: "role", message: "is not a recognised field" },
      { field: "extra", message: "is not a recognised field" },
    ]);
  });

  it("uses dotted paths for nested fields and a prefix for query/path input", () => {
    const result = schema.safeParse({ email: "a@b.co", name: "x", nested: { n: "1" } });
    const [problem] = describeZodIssues(result.error!, "query");
    expect(problem!.field).toBe("query.nested.n");
  });

  it("builds a 400 whose message lists every problem", () => {
    const result = schema.safeParse({ email: "nope" });
    const error = validationError(result.error!);
    expect(error.status).toBe(400);
    expect(error.code).toBe("validation_failed");
    expect(error.message).toMatch(/email .*; name is required/);
    expect(errorBody(error)).toEqual({
      error: {
        code: "validation_failed",
        message: error.message,
        details: { fields: expect.any(Array) },
      },
    });
  });

  it("maps codes to statuses", () => {
    expect(new ApiError("unauthenticated", "x").status).toBe(401);
    expect(new ApiError("forbidden", "x").status).toBe(403);
    expect(new ApiError("csrf_rejected", "x").status).toBe(403);
    expect(new ApiError("conflict", "x").status).toBe(409);
    expect(new ApiError("payload_too_large", "x").status).toBe(413);
    expect(errorBody(new ApiError("not_found", "gone"))).toEqual({
      error: { code: "not_found", message: "gone" },
    });
  });
});
