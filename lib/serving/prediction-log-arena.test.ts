import { describe, expect, it } from "vitest";
import { rollupDeltas } from "../monitoring/rollups";
import {
  PREDICTION_LOG_COLUMNS,
  PredictionLogArena,
  PredictionLogBatch,
  type PredictionRecord,
} from "./prediction-log-arena";

const NOW = Date.UTC(2026, 11, 7, 20, 0, 30, 123);
const record = (i: number, extra: Partial<PredictionRecord> = {}): PredictionRecord => ({
  requestId: `0190b5c5-0000-7000-8000-${String(i).padStart(12, "0")}`,
  modelId: "11111111-1111-7111-8111-111111111111",
  model: "iris",
  versionId: "22222222-2222-7222-8222-222222222222",
  version: 3,
  status: 200,
  latencyMs: 1.5,
  rows: 1,
  ...extra,
});
const idOf = (i: number) => record(i).requestId;

/** The COPY text of a batch as rows of named columns (unescaped as PostgreSQL would). */
function rowsOf(batch: PredictionLogBatch): Record<string, string | null>[] {
  const text = Buffer.concat(batch.copyChunks()).toString("utf8");
  expect(text.endsWith("\n") || text === "").toBe(true);
  return text
    .split("\n")
    .slice(0, -1)
    .map((line) => {
      const fields = line.split("\t");
      expect(fields).toHaveLength(PREDICTION_LOG_COLUMNS.length);
      return Object.fromEntries(
        PREDICTION_LOG_COLUMNS.map((c, i) => [
          c,
          fields[i] === "\\N"
            ? null
            : fields[i]!.replace(/\\(.)/g, (_, ch: string) =>
                ch === "t" ? "\t" : ch === "n" ? "\n" : ch === "r" ? "\r" : ch,
              ),
        ]),
      );
    });
}

describe("PredictionLogArena", () => {
  it("writes durations to the microsecond, as short decimals", () => {
    const arena = new PredictionLogArena("inst");
    const cases: Array<[number, string]> = [
      [5.734871000000001, "5.735"],
      [0.25, "0.25"],
      [0.0004, "0"],
      [0.0051, "0.005"],
      [12.05, "12.05"],
      [1000, "1000"],
      [-1.5, "-1.5"],
      [1e300, "1e+300"],
    ];
    cases.forEach(([ms], i) => arena.append(record(i, { latencyMs: ms, queueMs: ms }), NOW));
    const rows = rowsOf(arena.batch(cases.length));
    expect(rows.map((r) => r.latencyMs)).toEqual(cases.map(([, text]) => text));
    expect(rows.map((r) => r.queueMs)).toEqual(cases.map(([, text]) => text));
  });

  it("keeps each record as its COPY line, escaped, request id first, at the record's time", () => {
    const arena = new PredictionLogArena("inst\t1");
    arena.append(
      record(0, {
        model: "a\\b",
        alias: "production",
        error: "bad\ninput\r\tx",
        queueMs: 0.25,
        inputs: '{"x":"é ☃"}',
      }),
      NOW,
    );
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    arena.append(record(1, { at, versionId: null, version: null, latencyMs: NaN }), NOW);
    const [first, second] = rowsOf(arena.batch(2));
    expect(first).toMatchObject({
      requestId: idOf(0),
      at: new Date(NOW).toISOString(),
      model: "a\\b",
      alias: "production",
      error: "bad\ninput\r\tx",
      queueMs: "0.25",
      computeMs: null,
      inputs: '{"x":"é ☃"}',
      instanceId: "inst\t1",
    });
    expect(second).toMatchObject({
      at: at.toISOString(),
      versionId: null,
      version: null,
      latencyMs: null,
    });
    expect(arena.batch(2).requestIds()).toEqual([idOf(0), idOf(1)]);
  });

  it("starts a new segment when one is full (bytes or records) and reads ranges across them", () => {
    const arena = new PredictionLogArena("i", 1024, 4); // a line is about 200 bytes
    for (let i = 0; i < 23; i++) arena.append(record(i), NOW);
    expect(arena.length).toBe(23);
    expect(arena.segmentCount).toBe(6); // 4 records a segment (5 would not fit 1 KiB anyway)
    const all = arena.batch(100);
    expect(all.length).toBe(23);
    expect(all.copyChunks()).toHaveLength(6);
    expect(all.requestIds()).toEqual(Array.from({ length: 23 }, (_, i) => idOf(i)));
    expect(rowsOf(all).map((r) => r.requestId)).toEqual(all.requestIds());

    const middle = all.slice(3, 13);
    expect(middle.length).toBe(10);
    expect(middle.requestIds()).toEqual(Array.from({ length: 10 }, (_, i) => idOf(i + 3)));
    expect(rowsOf(middle).map((r) => r.requestId)).toEqual(middle.requestIds());
    const inner = middle.slice(5);
    expect(inner.requestIds()).toEqual(Array.from({ length: 5 }, (_, i) => idOf(i + 8)));
    expect(middle.slice(4, 4).length).toBe(0);
  });

  it("gives a line larger than a segment a segment of its own, in order", () => {
    const arena = new PredictionLogArena("i", 1024, 16);
    arena.append(record(0), NOW);
    arena.append(record(1, { inputs: "☃".repeat(2000) }), NOW); // 6,000 bytes
    arena.append(record(2), NOW);
    expect(arena.segmentCount).toBe(3);
    const rows = rowsOf(arena.batch(3));
    expect(rows.map((r) => r.requestId)).toEqual([idOf(0), idOf(1), idOf(2)]);
    expect(rows[1]!.inputs).toBe("☃".repeat(2000));
    arena.discard(2); // the huge segment goes, the record after it stays
    expect(arena.batch(5).requestIds()).toEqual([idOf(2)]);
  });

  it("fills a segment with multi-byte text up to its last byte without splitting a line", () => {
    const arena = new PredictionLogArena("i", 1024, 64);
    for (let i = 0; i < 20; i++) arena.append(record(i, { error: "é".repeat(i * 7) }), NOW);
    const rows = rowsOf(arena.batch(20));
    expect(rows.map((r) => r.error)).toEqual(
      Array.from({ length: 20 }, (_, i) => (i === 0 ? "" : "é".repeat(i * 7))),
    );
  });

  it("computes the rollup deltas of exactly a batch's records, any sub-range", () => {
    const arena = new PredictionLogArena("i", 2048, 8);
    const records: PredictionRecord[] = [];
    for (let i = 0; i < 30; i++) {
      const r = record(i, {
        modelId: i % 3 === 0 ? "33333333-3333-7333-8333-333333333333" : record(0).modelId,
        version: i % 3 === 0 ? 1 : 3,
        status: i % 7 === 0 ? 500 : i % 5 === 0 ? 400 : 200,
        rows: (i % 4) + 1,
        latencyMs: i * 0.7 + 0.0004, // below the microsecond the rows keep
        at: new Date(NOW + (i % 2) * 60_000),
      });
      records.push(r);
      arena.append(r, NOW);
    }
    // The rollups equal the rows as stored: latencies to the microsecond.
    const asStored = records.map((r) => ({
      ...r,
      latencyMs: Math.round(r.latencyMs * 1000) / 1000,
    }));
    const all = arena.batch(30);
    expect(all.rollupDeltas()).toEqual(rollupDeltas(asStored));
    expect(rowsOf(all).map((r) => Number(r.latencyMs))).toEqual(asStored.map((r) => r.latencyMs));
    const part = all.slice(5, 22);
    expect(part.rollupDeltas()).toEqual(rollupDeltas(asStored.slice(5, 22)));
    expect(part.rollupDeltas().reduce((n, d) => n + d.requests, 0)).toBe(17);
  });

  it("the rollup minute follows the record's time when it has none of its own", () => {
    const arena = new PredictionLogArena("i");
    arena.append(record(0), Date.UTC(2026, 11, 7, 20, 5, 59, 999));
    arena.append(record(1), Date.UTC(2026, 11, 7, 20, 6, 0, 0));
    expect(
      arena
        .batch(2)
        .rollupDeltas()
        .map((d) => d.minute.toISOString()),
    ).toEqual(["2026-12-07T20:05:00.000Z", "2026-12-07T20:06:00.000Z"]);
  });

  it("lets go of records from the front, across segments, and reuses emptied storage", () => {
    const arena = new PredictionLogArena("i", 1024, 4);
    for (let i = 0; i < 10; i++) arena.append(record(i), NOW);
    arena.discard(3);
    expect(arena.batch(2).requestIds()).toEqual([idOf(3), idOf(4)]);
    arena.discard(3); // to the middle of the second segment
    expect(arena.length).toBe(4);
    expect(arena.segmentCount).toBe(2);
    expect(arena.batch(10).requestIds()).toEqual([6, 7, 8, 9].map(idOf));
    arena.discard(4);
    expect(arena.length).toBe(0);
    expect(arena.batch(10).length).toBe(0);
    for (let i = 10; i < 16; i++) arena.append(record(i), NOW);
    expect(arena.batch(10).requestIds()).toEqual([10, 11, 12, 13, 14, 15].map(idOf));
    expect(rowsOf(arena.batch(10)).map((r) => r.requestId)).toEqual(
      [10, 11, 12, 13, 14, 15].map(idOf),
    );
    arena.clear();
    expect(arena.length).toBe(0);
  });

  it("builds a batch from records by hand (tests, tools)", () => {
    const batch = PredictionLogBatch.of([record(1), record(2)], "tool");
    expect(batch.requestIds()).toEqual([idOf(1), idOf(2)]);
    expect(rowsOf(batch).map((r) => r.instanceId)).toEqual(["tool", "tool"]);
  });
});
