import { describe, expect, it } from "vitest";
import { describeAction, jobActionSchema, maxAttemptsFor, retryDelayMs } from "./action-schema";

describe("job actions", () => {
  it("parses each action type with its defaults", () => {
    expect(jobActionSchema.parse({ type: "import", directory: "incoming" })).toEqual({
      type: "import",
      directory: "incoming",
    });
    expect(jobActionSchema.parse({ type: "evaluate-and-promote", dataset: "iris" })).toEqual({
      type: "evaluate-and-promote",
      dataset: "iris",
      candidates: "newer-than-production",
    });
    expect(jobActionSchema.parse({ type: "retrain", dataset: "iris" })).toMatchObject({
      trainer: "external",
      timeLimitSeconds: 1800,
      thenEvaluate: false,
    });
  });

  it("refuses import directories that could leave the imports directory", () => {
    for (const bad of [
      "/etc",
      "../x",
      "a/../../b",
      "a/..",
      "..",
      "\\\\server\\share",
      "C:\\x",
      "",
    ]) {
      expect(jobActionSchema.safeParse({ type: "import", directory: bad }).success, bad).toBe(
        false,
      );
    }
    for (const ok of ["incoming", "team-a/exports", "a..b"]) {
      expect(jobActionSchema.safeParse({ type: "import", directory: ok }).success, ok).toBe(true);
    }
  });

  it("refuses unknown types, unknown fields and commands in a job", () => {
    expect(jobActionSchema.safeParse({ type: "shell", command: "rm -rf /" }).success).toBe(false);
    expect(
      jobActionSchema.safeParse({ type: "retrain", dataset: "iris", command: "sleep 1" }).success,
    ).toBe(false);
  });

  it("retries imports only, with a doubling backoff", () => {
    expect(maxAttemptsFor({ type: "import", directory: "x" })).toBe(3);
    expect(
      maxAttemptsFor({ type: "evaluate-and-promote", dataset: "x", candidates: "challenger" }),
    ).toBe(1);
    expect([2, 3, 4].map((a) => retryDelayMs(a, 5000))).toEqual([5000, 10000, 20000]);
    expect(retryDelayMs(30, 5000)).toBe(300_000);
  });

  it("describes actions in one line", () => {
    expect(describeAction({ type: "import", directory: "incoming" })).toBe(
      "Import .onnx files from imports/incoming",
    );
  });
});
