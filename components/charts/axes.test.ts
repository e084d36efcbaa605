import { describe, expect, it } from "vitest";
import { timeDomain, timeTickFormatter, valueDomain } from "./axes";

const t = Date.parse("2026-12-01T10:05:30Z");

describe("timeDomain", () => {
  it("centres a lone point in a two-minute window", () => {
    expect(timeDomain([t])).toEqual([t - 60_000, t + 60_000]);
  });
  it("pads a span by 5% on each side", () => {
    const day = 86_400_000;
    expect(timeDomain([t + day, t, t + day / 2])).toEqual([t - day * 0.05, t + day * 1.05]);
  });
  it("has a harmless domain when there is nothing", () => {
    expect(timeDomain([])).toEqual([0, 1]);
  });
});

describe("timeTickFormatter", () => {
  it.each([
    [5 * 60_000, "10:05:30"],
    [86_400_000, "10:05"],
    [30 * 86_400_000, "12-01 10:05"],
    [400 * 86_400_000, "2026-12-01"],
  ])("a span of %i ms labels as %s (UTC)", (span, label) => {
    expect(timeTickFormatter([t - span / 2, t + span / 2])(t)).toBe(label);
  });
});

describe("valueDomain", () => {
  it("adds 10% headroom on both sides", () => {
    const [lo, hi] = valueDomain([0.3, 0.9]);
    expect(lo).toBeCloseTo(0.24, 12);
    expect(hi).toBeCloseTo(0.96, 12);
  });
  it("stays inside the bounds of a fraction", () => {
    const [lo, hi] = valueDomain([0.3, 1], [0, 1]);
    expect(lo).toBeCloseTo(0.23, 12);
    expect(hi).toBe(1);
  });
  it("opens a flat series by 1% of its value", () => {
    const [lo, hi] = valueDomain([2]);
    expect(lo).toBeCloseTo(1.98, 12);
    expect(hi).toBeCloseTo(2.02, 12);
  });
});
