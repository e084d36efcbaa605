import { describe, expect, it } from "vitest";
import {
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
  addCounts,
  emptyCounts,
  latencyBucketOf,
  quantileOfCounts,
} from "./histogram";

describe("latency histogram", () => {
  it("puts a latency in the bucket whose bounds hold it, bounds included on the upper side", () => {
    expect(latencyBucketOf(0)).toBe(0);
    expect(latencyBucketOf(0.05)).toBe(0);
    expect(latencyBucketOf(0.0501)).toBe(1);
    LATENCY_BOUNDS_MS.forEach((bound, i) => {
      expect(latencyBucketOf(bound)).toBe(i);
      expect(latencyBucketOf(bound * 1.0001)).toBe(Math.min(i + 1, LATENCY_BOUNDS_MS.length));
    });
    expect(latencyBucketOf(1e9)).toBe(LATENCY_BUCKET_COUNT - 1);
    expect(latencyBucketOf(Number.NaN)).toBe(0);
  });

  it("reads percentiles within one bucket width of the exact value", () => {
    // 10,000 latencies log-normally spread around 3 ms
    let seed = 42;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const values: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const z = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
      values.push(3 * Math.exp(0.6 * z));
    }
    const counts = emptyCounts();
    for (const v of values) counts[latencyBucketOf(v)]!++;
    const sorted = [...values].sort((a, b) => a - b);
    const max = sorted.at(-1)!;
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      const estimate = quantileOfCounts(counts, q, max)!;
      expect(Math.abs(estimate / exact - 1)).toBeLessThan(0.25);
    }
    expect(quantileOfCounts(counts, 1, max)).toBeLessThanOrEqual(max);
  });

  it("never reports above the slowest request and is null without data", () => {
    const counts = emptyCounts();
    counts[latencyBucketOf(10)] = 5;
    expect(quantileOfCounts(counts, 0.99, 9.9)).toBeLessThanOrEqual(9.9);
    expect(quantileOfCounts(emptyCounts(), 0.5)).toBeNull();
  });

  it("merges by adding counts, shorter or bigint arrays included", () => {
    expect(addCounts([1, 2, 3], [1n, 1n])).toEqual([2, 3, 3]);
    expect(addCounts([1], [0, 0, 4])).toEqual([1, 0, 4]);
  });
});
