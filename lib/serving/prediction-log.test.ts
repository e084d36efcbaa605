import { describe, expect, it } from "vitest";
import { createLogger } from "../log";
import {
  PredictionLogWriter,
  type PredictionLogSink,
  type PredictionRecord,
} from "./prediction-log";

/** A sink whose writes finish when the test says so: what the writer does meanwhile shows. */
function heldSink() {
  const writes: { records: PredictionRecord[]; done: () => void }[] = [];
  const sink: PredictionLogSink = {
    insert: (records) =>
      new Promise<void>((resolve) => writes.push({ records: [...records], done: resolve })),
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
      afterWrite: (records) => {
        seen.push(records.map((r) => r.requestId));
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
});
