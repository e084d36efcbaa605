import { describe, expect, it } from "vitest";
import {
  customRangeProblem,
  parseInstant,
  parseTimeRange,
  parseVersions,
  resolveTimeRange,
  withTimeRange,
  withVersions,
} from "./time-range";

const params = (query: string) => new URLSearchParams(query);
const t = Date.parse("2026-12-01T10:00:00Z");

describe("time range in the URL", () => {
  it("defaults to the last 24 hours and ignores what it cannot read", () => {
    expect(parseTimeRange(params(""))).toEqual({ kind: "preset", key: "24h" });
    expect(parseTimeRange(params("range=2w"))).toEqual({ kind: "preset", key: "24h" });
    expect(parseTimeRange(params("range=custom&from=yesterday&to=2026-12-01T10:00Z"))).toEqual({
      kind: "preset",
      key: "24h",
    });
  });

  it("reads presets relative to now and custom ranges as given", () => {
    expect(resolveTimeRange(parseTimeRange(params("range=7d")), t)).toEqual({
      fromMs: t - 7 * 86_400_000,
      toMs: t,
    });
    const custom = parseTimeRange(
      params("range=custom&from=2026-11-30T08:00:00Z&to=2026-12-01T10:00:00Z"),
    );
    expect(resolveTimeRange(custom, 0)).toEqual({
      fromMs: Date.parse("2026-11-30T08:00:00Z"),
      toMs: t,
    });
  });

  it("round-trips through the params, keeping others and dropping the default", () => {
    const custom = { kind: "custom" as const, fromMs: t - 3_600_000, toMs: t };
    const next = withTimeRange(params("versions=2,3"), custom);
    expect(next.toString()).toBe(
      "versions=2%2C3&range=custom&from=2026-12-01T09%3A00%3A00Z&to=2026-12-01T10%3A00%3A00Z",
    );
    expect(parseTimeRange(next)).toEqual(custom);
    expect(withTimeRange(next, { kind: "preset", key: "24h" }).toString()).toBe("versions=2%2C3");
    expect(withTimeRange(next, { kind: "preset", key: "1h" }).get("range")).toBe("1h");
  });

  it("refuses custom ranges that are reversed, empty or too long", () => {
    expect(customRangeProblem(t, t - 1)).toMatch(/after/);
    expect(customRangeProblem(t, t + 30_000)).toMatch(/one minute/);
    expect(customRangeProblem(t, t + 401 * 86_400_000)).toMatch(/400 days/);
    expect(customRangeProblem(t - 60_000, t)).toBeNull();
  });

  it("reads datetime-local text as UTC and ISO text with its zone", () => {
    expect(parseInstant("2026-12-01T10:00")).toBe(t);
    expect(parseInstant("2026-12-01T11:00:00+01:00")).toBe(t);
    expect(parseInstant("12/01/2026")).toBeNull();
    expect(parseInstant("")).toBeNull();
  });
});

describe("version selection in the URL", () => {
  it("is null for all, a sorted unique list otherwise", () => {
    expect(parseVersions(params(""))).toBeNull();
    expect(parseVersions(params("versions=3,1,3,x,-2"))).toEqual([1, 3]);
    expect(withVersions(params("range=1h"), [3, 1]).toString()).toBe("range=1h&versions=1%2C3");
    expect(withVersions(params("versions=1"), null).toString()).toBe("");
  });
});
