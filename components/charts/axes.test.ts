import { describe, expect, it } from "vitest";
import { timeDomain, timeTickFormatter, timeTicks, valueAxis, valueDomain } from "./axes";

const t = Date.parse("2026-12-01T10:05:30Z");

describe("timeDomain", () => {
  it("centres a lone point in a two-minute window", () => {
    expect(timeDomain([t])).toEqual([t - 60_000, t + 60_000]);
  });
  it("pads a span by 8% on each side", () => {
    const day = 86_400_000;
    expect(timeDomain([t + day, t, t + day / 2])).toEqual([t - day * 0.08, t + day * 1.08]);
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

describe("timeTicks", () => {
  it("puts round seconds on a span of a few seconds", () => {
    const start = Date.parse("2026-12-01T11:59:21.700Z");
    expect(timeTicks([start, start + 3_000]).map((x) => new Date(x).toISOString())).toEqual([
      "2026-12-01T11:59:22.000Z",
      "2026-12-01T11:59:23.000Z",
      "2026-12-01T11:59:24.000Z",
    ]);
  });
  it("uses whole hours on a day", () => {
    const start = Date.parse("2026-12-01T00:10:00Z");
    const ticks = timeTicks([start, start + 86_400_000]);
    expect(ticks.length).toBeLessThanOrEqual(6);
    expect(ticks.every((x) => x % (6 * 3_600_000) === 0)).toBe(true);
  });
});

describe("valueAxis", () => {
  it("round ticks around the data, inside the bounds of a fraction", () => {
    expect(valueAxis([0.3333, 0.9733], [0, 1])).toEqual({
      domain: [0.2, 1],
      ticks: [0.2, 0.4, 0.6, 0.8, 1],
    });
  });
  it("opens a flat series by 1% of its value", () => {
    const { domain, ticks } = valueAxis([2]);
    expect(domain[0]).toBeLessThan(1.98);
    expect(domain[1]).toBeGreaterThan(2.02);
    expect(ticks[0]).toBe(domain[0]);
    expect(ticks[ticks.length - 1]).toBe(domain[1]);
  });
  it("steps of 2.5 × 10ⁿ when they fit best", () => {
    // span 0.07 + 10% each side = 0.084 over 4 intervals: 0.021 → step 0.025.
    expect(valueAxis([0.05, 0.12], [0, Infinity])).toEqual({
      domain: [0.025, 0.15],
      ticks: [0.025, 0.05, 0.075, 0.1, 0.125, 0.15],
    });
  });
});

describe("valueDomain", () => {
  it("adds 10% headroom on both sides, inside the bounds", () => {
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
