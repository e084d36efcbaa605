import { describe, expect, it } from "vitest";
import { latencyBucketOf } from "./histogram";
import { rollupDeltas, type RolledUpRequest } from "./rollups";

const A = "00000000-0000-7000-8000-00000000000a";
const B = "00000000-0000-7000-8000-00000000000b";
const at = (minute: number, second = 0) => new Date(Date.UTC(2026, 11, 1, 12, minute, second));

describe("rollupDeltas", () => {
  it("groups interleaved records by model, version and minute, in key order", () => {
    const records: RolledUpRequest[] = [
      { modelId: B, version: 2, status: 200, latencyMs: 4, rows: 3, at: at(1, 5) },
      { modelId: A, version: 10, status: 200, latencyMs: 1, at: at(1, 59) },
      { modelId: A, version: 10, status: 500, latencyMs: 9, at: at(2, 0) },
      { modelId: A, version: 2, status: 404, latencyMs: 0.5, at: at(1, 1) },
      { modelId: B, version: 2, status: 200, latencyMs: 2, rows: 2, at: at(1, 30) },
      { modelId: A, version: 10, status: 200, latencyMs: 3, at: at(1, 0) },
    ];
    const deltas = rollupDeltas(records);
    // Version 2 sorts before 10 (numbers, not text), minutes in time order.
    expect(deltas.map((d) => [d.modelId, d.version, d.minute.toISOString()])).toEqual([
      [A, 2, "2026-12-01T12:01:00.000Z"],
      [A, 10, "2026-12-01T12:01:00.000Z"],
      [A, 10, "2026-12-01T12:02:00.000Z"],
      [B, 2, "2026-12-01T12:01:00.000Z"],
    ]);
    expect(deltas[1]).toMatchObject({
      requests: 2,
      rows: 2,
      errors: 0,
      latencySumMs: 4,
      latencyMaxMs: 3,
    });
    expect(deltas[2]).toMatchObject({ requests: 1, rows: 0, errors: 1, latencyMaxMs: 9 });
    expect(deltas[0]).toMatchObject({ requests: 1, rows: 0, clientErrors: 1 });
    expect(deltas[3]).toMatchObject({ requests: 2, rows: 5, latencySumMs: 6, latencyMaxMs: 4 });
    const buckets = deltas[3]!.latencyBuckets;
    expect(buckets[latencyBucketOf(4)]).toBe(1);
    expect(buckets[latencyBucketOf(2)]).toBe(1);
    expect(buckets.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it("puts records without a time in the minute of `now`", () => {
    const deltas = rollupDeltas(
      [
        { modelId: A, version: 1, status: 200, latencyMs: 1 },
        { modelId: A, version: 1, status: 200, latencyMs: 1, at: at(3, 10) },
        { modelId: A, version: 1, status: 200, latencyMs: 1 },
      ],
      at(3, 40),
    );
    expect(deltas).toHaveLength(1);
    expect(deltas[0]).toMatchObject({ requests: 3, minute: at(3) });
  });
});
