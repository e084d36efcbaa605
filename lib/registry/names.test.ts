import { describe, expect, it } from "vitest";
import {
  aliasNameSchema,
  canChangeAlias,
  isProtectedAlias,
  modelNameSchema,
  tagsSchema,
} from "./names";
import { summariseSignature } from "./versions";

describe("registry names", () => {
  it("accepts URL-safe slugs only", () => {
    for (const ok of ["a", "0", "fraud-detector", "iris_v2.1", "x".repeat(63)]) {
      expect(modelNameSchema.safeParse(ok).success, ok).toBe(true);
    }
    for (const bad of ["", "A", "-a", "_a", ".a", "a/b", "a b", "x".repeat(64), "ü"]) {
      expect(modelNameSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it("reserves `latest` as an alias name and protects production and staging", () => {
    expect(aliasNameSchema.safeParse("latest").success).toBe(false);
    expect(aliasNameSchema.safeParse("challenger").success).toBe(true);
    expect(isProtectedAlias("production")).toBe(true);
    expect(isProtectedAlias("staging")).toBe(true);
    expect(isProtectedAlias("challenger")).toBe(false);
    expect(canChangeAlias("viewer", "challenger")).toBe(false);
    expect(canChangeAlias("operator", "production")).toBe(true);
    expect(canChangeAlias("admin", "staging")).toBe(true);
    expect(canChangeAlias("nobody", "challenger")).toBe(false);
  });

  it("normalises tags: trimmed, lower-case, de-duplicated; no commas", () => {
    expect(tagsSchema.parse([" NLP", "nlp", "Vision "])).toEqual(["nlp", "vision"]);
    expect(tagsSchema.safeParse(["a,b"]).success).toBe(false);
    expect(tagsSchema.safeParse([" "]).success).toBe(false);
    expect(tagsSchema.safeParse(Array.from({ length: 21 }, (_, i) => `t${i}`)).success).toBe(false);
  });
});

describe("summariseSignature", () => {
  it("reads counts and the default-domain opset from common shapes, else null", () => {
    expect(
      summariseSignature({
        inputs: [{}, {}],
        outputs: [{}],
        opsetImports: [
          { domain: "ai.onnx.ml", version: 3 },
          { domain: "", version: 17 },
        ],
      }),
    ).toEqual({ opset: 17, inputCount: 2, outputCount: 1 });
    expect(summariseSignature({ opsets: [{ domain: "", version: 21 }] }).opset).toBe(21);
    expect(summariseSignature({ opset: 12, inputs: [] })).toEqual({
      opset: 12,
      inputCount: 0,
      outputCount: null,
    });
    expect(summariseSignature({ opset_import: [{ domain: "ai.onnx", version: "15" }] })).toEqual({
      opset: 15,
      inputCount: null,
      outputCount: null,
    });
    expect(summariseSignature({ anything: true })).toEqual({
      opset: null,
      inputCount: null,
      outputCount: null,
    });
  });
});
