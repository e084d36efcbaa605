import { describe, expect, it } from "vitest";
import { createLogger } from "../log";
import {
  PredictionLogWriter,
  type PredictionLogSink,
  type PredictionRecord,
} from "./prediction-log";

/** A sink whose writes finish when the test says so: what the writer does meanwhile shows. */
function heldSink() {
  const writes: { records: { requestId: string }[]; done: () => void }[] = [];
  const sink: PredictionLogSink = {
    insert: (batch) =>
      new Promise<void>((resolve) =>
        writes.push({
          records: batch.requestIds().map((requestId) => ({ requestId })),
          done: resolve,
        }),
      ),
    ping: () => Promise.resolve(),
  };
  return { sink, writes };
}

const log = createLogger("test", "silent");
const record = (i: number): PredictionRecord => ({
  requestId: `r${i}`,
  modelId: "m",
  model: "m",
  status: 200,
  latencyMs: 1,
});
const settle = () => new Promise((r) => setImmediate(r));

describe("PredictionLogWriter", () => {
  it("leaves records that arrive during a write for the next flush instead of writing again at once", async () => {
    const { sink, writes } = heldSink();
    const writer = new PredictionLogWriter(sink, "inst", log, { batchSize: 100 });
    for (let i = 0; i < 3; i++) writer.record(record(i));
    const flushed = writer.flush();
    expect(writes).toHaveLength(1);
    for (let i = 3; i < 5; i++) writer.record(record(i));
    writes[0]!.done();
    await flushed;
    await settle();
    // One write of the three; the two latecomers wait (light traffic: a write per interval,
    // not a transaction every few requests).
    expect(writes).toHaveLength(1);
    expect(writes[0]!.records.map((r) => r.requestId)).toEqual(["r0", "r1", "r2"]);
    expect(writer.stats).toMatchObject({ buffered: 2, written: 3 });

    const next = writer.flush();
    expect(writes[1]!.records.map((r) => r.requestId)).toEqual(["r3", "r4"]);
    writes[1]!.done();
    await next;
    expect(writer.stats).toMatchObject({ buffered: 0, written: 5 });
  });

  it("keeps writing while full batches are waiting", async () => {
    const { sink, writes } = heldSink();
    const writer = new PredictionLogWriter(sink, "inst", log, { batchSize: 4 });
    for (let i = 0; i < 4; i++) writer.record(record(i)); // a full batch starts a write
    expect(writes).toHaveLength(1);
    for (let i = 4; i < 13; i++) writer.record(record(i)); // two full batches and one more
    writes[0]!.done();
    await settle();
    expect(writes).toHaveLength(2);
    writes[1]!.done();
    await settle();
    expect(writes).toHaveLength(3);
    writes[2]!.done();
    await settle();
    // The last, partial batch waits for the interval.
    expect(writes.map((w) => w.records.length)).toEqual([4, 4, 4]);
    expect(writer.stats).toMatchObject({ buffered: 1, written: 12 });
    await Promise.all([writer.stop(), settle().then(() => writes[3]!.done())]);
    expect(writer.stats).toMatchObject({ buffered: 0, written: 13 });
  });

  it("runs afterWrite once per committed batch, after it, and a failing one loses no rows", async () => {
    const { sink, writes } = heldSink();
    const seen: string[][] = [];
    const writer = new PredictionLogWriter(sink, "inst", log, {
      batchSize: 100,
      afterWrite: (requestIds) => {
        seen.push(requestIds);
        return seen.length === 1 ? Promise.reject(new Error("join failed")) : Promise.resolve();
      },
    });
    for (let i = 0; i < 3; i++) writer.record(record(i));
    const first = writer.flush();
    await settle();
    expect(seen).toEqual([]); // the batch has not committed yet
    writes[0]!.done();
    await first;
    expect(seen).toEqual([["r0", "r1", "r2"]]);
    expect(writer.stats).toMatchObject({ buffered: 0, written: 3, dropped: 0 });

    writer.record(record(3));
    const second = writer.flush();
    writes[1]!.done();
    await second;
    expect(seen).toEqual([["r0", "r1", "r2"], ["r3"]]);
    expect(writes).toHaveLength(2); // a failed afterWrite is not a failed write: no retry
  });

  it("drops (and counts) records beyond maxBuffered, and accepts again once written", async () => {
    const { sink, writes } = heldSink();
    const dropped: number[] = [];
    const writer = new PredictionLogWriter(sink, "inst", log, {
      maxBuffered: 5,
      batchSize: 100,
      onDropped: (n) => dropped.push(n),
    });
    for (let i = 0; i < 8; i++) writer.record(record(i));
    expect(writer.stats).toMatchObject({ buffered: 5, dropped: 3 });
    expect(dropped).toEqual([1, 1, 1]);
    const flushed = writer.flush();
    writes[0]!.done();
    await flushed;
    expect(writes[0]!.records.map((r) => r.requestId)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    writer.record(record(8));
    expect(writer.stats).toMatchObject({ buffered: 1, dropped: 3, written: 5 });
  });

  it("writes around rows the database refuses: every other row lands, each write's rollups equal its rows", async () => {
    const inserts: { ids: string[]; requests: number }[] = [];
    const sink: PredictionLogSink = {
      insert: (batch) => {
        const ids = batch.requestIds();
        if (ids.includes("r5") || ids.includes("r6"))
          return Promise.reject(new Error("invalid input syntax"));
        const requests = batch.rollupDeltas().reduce((n, d) => n + d.requests, 0);
        inserts.push({ ids, requests });
        return Promise.resolve();
      },
      ping: () => Promise.resolve(),
    };
    const joined: string[] = [];
    const writer = new PredictionLogWriter(sink, "inst", log, {
      batchSize: 10,
      afterWrite: (ids) => Promise.resolve(joined.push(...ids)),
    });
    for (let i = 0; i < 13; i++) writer.record(record(i)); // a full batch of 10 starts a write
    await writer.flush();
    await writer.flush();
    const written = inserts.flatMap((w) => w.ids);
    expect(written).toEqual(["r0", "r1", "r2", "r3", "r4", "r7", "r8", "r9", "r10", "r11", "r12"]);
    expect(joined).toEqual(written);
    for (const w of inserts) expect(w.requests).toBe(w.ids.length);
    expect(writer.stats).toEqual({ buffered: 0, dropped: 2, written: 11 });
  });
});
