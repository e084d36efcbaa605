import { describe, expect, it } from "vitest";
import { newRequestId, requestIdTime } from "../serving/request-id";
import {
  DAY_MS,
  dayPartition,
  daysToEnsure,
  expiredDays,
  partitionDay,
  partitionName,
  requestIdLowerBound,
} from "./partitions";

const DEC_7 = Date.UTC(2026, 11, 7);

describe("prediction log partitions", () => {
  it("bounds request ids by the millisecond they were made", () => {
    const ms = DEC_7 + 12_345;
    const bound = requestIdLowerBound(ms);
    expect(bound).toBe(
      `${ms.toString(16).padStart(12, "0").slice(0, 8)}-${ms.toString(16).padStart(12, "0").slice(8)}-0000-0000-000000000000`,
    );
    // Postgres compares UUIDs bytewise, which for lowercase hex text is string order.
    for (let i = 0; i < 200; i++) {
      expect(newRequestId(ms - 1) < bound).toBe(true);
      expect(newRequestId(ms) >= bound).toBe(true);
      expect(newRequestId(ms) < requestIdLowerBound(ms + 1)).toBe(true);
    }
    expect(requestIdTime(newRequestId(ms))).toBe(ms);
  });

  it("gives each UTC day one partition whose id range is exactly that day", () => {
    const p = dayPartition("prediction_log", DEC_7 + 23 * 3600_000);
    expect(p).toMatchObject({
      name: "prediction_log_p20261207",
      from: new Date(DEC_7),
      to: new Date(DEC_7 + DAY_MS),
      lowerId: requestIdLowerBound(DEC_7),
      upperId: requestIdLowerBound(DEC_7 + DAY_MS),
    });
    const lastOfDay = newRequestId(DEC_7 + DAY_MS - 1);
    const firstOfNext = newRequestId(DEC_7 + DAY_MS);
    expect(lastOfDay >= p.lowerId && lastOfDay < p.upperId).toBe(true);
    expect(firstOfNext >= p.upperId).toBe(true);
    expect(dayPartition("prediction_feedback", DEC_7).name).toBe("prediction_feedback_p20261207");
  });

  it("reads a day back from a partition name and nothing else", () => {
    expect(partitionDay("prediction_log", partitionName("prediction_log", DEC_7 + 5))).toBe(DEC_7);
    expect(partitionDay("prediction_log", "prediction_log_default")).toBeNull();
    expect(partitionDay("prediction_log", "prediction_log_p20261332")).toBeNull();
    expect(partitionDay("prediction_log", "prediction_feedback_p20261207")).toBeNull();
    expect(partitionDay("prediction_feedback", "prediction_feedback_p20261207")).toBe(DEC_7);
  });

  it("keeps yesterday to a week ahead, plus retained days that have stragglers", () => {
    const now = DEC_7 + 3600_000;
    const plain = daysToEnsure(now, 7, { days: [], cutoffMs: now - 30 * DAY_MS });
    expect(plain).toEqual(Array.from({ length: 9 }, (_, i) => DEC_7 + (i - 1) * DAY_MS));
    const withStragglers = daysToEnsure(now, 7, {
      days: [
        DEC_7 - 10 * DAY_MS, // retained: gets its partition
        DEC_7 - 40 * DAY_MS, // past retention: deleted where it is
        DEC_7 + 400 * DAY_MS, // far ahead (an id that is no UUIDv7): stays in the default
        DEC_7 + 2 * DAY_MS, // already wanted
      ],
      cutoffMs: now - 30 * DAY_MS,
    });
    expect(withStragglers).toEqual([DEC_7 - 10 * DAY_MS, ...plain]);
  });

  it("expires a day only once all of it is past the cutoff", () => {
    const days = [DEC_7 - 2 * DAY_MS, DEC_7, DEC_7 - DAY_MS, DEC_7 - 3 * DAY_MS];
    expect(expiredDays(days, DEC_7 - DAY_MS)).toEqual([DEC_7 - 3 * DAY_MS, DEC_7 - 2 * DAY_MS]);
    expect(expiredDays(days, DEC_7 - DAY_MS - 1)).toEqual([DEC_7 - 3 * DAY_MS]);
    expect(expiredDays(days, DEC_7 - 10 * DAY_MS)).toEqual([]);
  });
});
