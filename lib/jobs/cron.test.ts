import { describe, expect, it } from "vitest";
import {
  describeSchedule,
  firesAt,
  formatInZone,
  isValidTimezone,
  nextFireTimes,
  scheduleInWords,
  validateCron,
  validateSchedule,
} from "./cron";

describe("cron schedules", () => {
  it("accepts 5-field, 6-field (seconds) and nickname expressions", () => {
    for (const ok of ["*/5 * * * *", "0 3 * * 1-5", "* * * * * *", "30 0 9 * * MON", "@daily"]) {
      expect(validateCron(ok), ok).toEqual([]);
    }
  });

  it("names the cron field that is wrong", () => {
    expect(validateCron("61 * * * *")[0]).toMatch(/minutes field \("61"\)/);
    expect(validateCron("0 25 * * *")[0]).toMatch(/hours field/);
    expect(validateCron("0 0 * 13 *")[0]).toMatch(/month field/);
    expect(validateCron("a b c")[0]).toMatch(/not a cron expression: expected 5 or 6 fields/);
    expect(validateCron("")).toEqual(["must not be empty"]);
    expect(validateCron("* * * * * * *")[0]).toMatch(/expected 5 or 6 fields but got 7/);
  });

  it("reports schedule and time zone problems by field", () => {
    expect(validateSchedule("61 * * * *", "Mars/Olympus")).toEqual([
      { field: "schedule", message: expect.stringMatching(/minutes/) },
      { field: "timezone", message: expect.stringMatching(/not a known IANA time zone/) },
    ]);
    expect(validateSchedule("0 3 * * *", "Europe/Berlin")).toEqual([]);
    expect(isValidTimezone("UTC")).toBe(true);
    expect(isValidTimezone("")).toBe(false);
  });

  it("computes fire times in the job's time zone, across a DST change", () => {
    // Europe/Berlin leaves summer time on 2026-10-25: 03:00 local is 01:00Z before, 02:00Z after.
    const from = new Date("2026-10-23T12:00:00Z");
    const times = nextFireTimes("0 3 * * *", "Europe/Berlin", 4, from).map((d) => d.toISOString());
    expect(times).toEqual([
      "2026-10-24T01:00:00.000Z",
      "2026-10-25T02:00:00.000Z",
      "2026-10-26T02:00:00.000Z",
      "2026-10-27T02:00:00.000Z",
    ]);
    expect(formatInZone(new Date("2026-10-24T01:00:00Z"), "Europe/Berlin")).toBe(
      "2026-10-24 03:00:00 CEST",
    );
  });

  it("says a schedule in words and describes it for the form", () => {
    expect(scheduleInWords("0 3 * * 1-5")).toBe("At 03:00, Monday through Friday");
    expect(scheduleInWords("* * * * * *")).toBe("Every second");
    const d = describeSchedule("*/15 * * * *", "UTC", new Date("2026-01-01T00:07:00Z"));
    expect(d).toMatchObject({
      valid: true,
      description: "Every 15 minutes",
      nextRuns: [
        "2026-01-01T00:15:00.000Z",
        "2026-01-01T00:30:00.000Z",
        "2026-01-01T00:45:00.000Z",
        "2026-01-01T01:00:00.000Z",
        "2026-01-01T01:15:00.000Z",
      ],
    });
    const bad = describeSchedule("0 0 31 2 *", "UTC");
    expect(bad.valid).toBe(false);
  });

  it("tells whether an instant is a fire time", () => {
    expect(firesAt("0 3 * * *", "Europe/Berlin", new Date("2026-10-24T01:00:00Z"))).toBe(true);
    expect(firesAt("0 3 * * *", "UTC", new Date("2026-10-24T01:00:00Z"))).toBe(false);
    expect(firesAt("* * * * * *", "UTC", new Date("2026-10-24T01:00:07Z"))).toBe(true);
  });
});
