import { describe, expect, it } from "vitest";
import {
  autoStepSeconds,
  bucketCount,
  formatStep,
  MAX_POINTS,
  parseStepSeconds,
  stepProblem,
  TARGET_POINTS,
} from "./steps";

const H = 3600_000;
const D = 24 * H;

describe("steps", () => {
  it("parses and formats durations", () => {
    expect(parseStepSeconds("5m")).toBe(300);
    expect(parseStepSeconds("3600")).toBe(3600);
    expect(parseStepSeconds("1d")).toBe(86_400);
    expect(parseStepSeconds("5 minutes")).toBeNull();
    expect(formatStep(1800)).toBe("30m");
    expect(formatStep(7200)).toBe("2h");
  });
  it("chooses the finest step that keeps the points bounded", () => {
    const to = Date.UTC(2026, 11, 1);
    expect(autoStepSeconds(to - H, to)).toBe(60);
    expect(autoStepSeconds(to - D, to)).toBe(300);
    expect(autoStepSeconds(to - 7 * D, to)).toBe(1800);
    expect(autoStepSeconds(to - 30 * D, to)).toBe(7200);
    for (const days of [1, 7, 30, 90, 400]) {
      expect(
        bucketCount(to - days * D, to, autoStepSeconds(to - days * D, to)),
      ).toBeLessThanOrEqual(TARGET_POINTS);
    }
  });
  it("counts the buckets a range touches, aligned to the epoch", () => {
    expect(bucketCount(0, 3600_000, 900)).toBe(4);
    expect(bucketCount(60_000, 3600_000 + 1, 900)).toBe(5);
  });
  it("rejects steps that are not whole minutes or give too many points", () => {
    const to = Date.UTC(2026, 11, 1);
    expect(stepProblem(90, to - H, to)).toMatch(/whole number of minutes/);
    expect(stepProblem(30, to - H, to)).toMatch(/between/);
    expect(stepProblem(60, to - 30 * D, to)).toMatch(new RegExp(`at most ${MAX_POINTS}`));
    expect(stepProblem(3600, to - 30 * D, to)).toBeNull();
  });
});
