/**
 * The prediction log's writer against a real database, and against one that is away: writes
 * go out in multi-row batches; when the database cannot take them, the buffer stays bounded
 * and what does not fit is dropped and counted, never blocking the caller.
 */
import { randomUUID } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { findFreePort } from "../../../lib/db/embedded-postgres";
import { createLogger } from "../../../lib/log";
import {
  postgresPredictionSink,
  PredictionLogWriter,
  type PredictionRecord,
} from "../../../lib/serving/prediction-log";
import { useTestDatabase } from "../helpers/db";

const db = useTestDatabase();
const log = createLogger("test", "silent");
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

const record = (i: number): PredictionRecord => ({
  requestId: randomUUID(),
  modelId: randomUUID(),
  model: "m",
  version: 1,
  status: 200,
  latencyMs: 1.5,
  // A NUL character: Postgres refuses it in text, so this one row must be dropped alone.
  error: i === 7 ? "bad \u0000 byte" : null,
});

it("writes thousands of records in batches, and drops only a row the database refuses", async () => {
  let dropped = 0;
  const sink = postgresPredictionSink(db.url);
  cleanups.push(() => sink.end());
  const writer = new PredictionLogWriter(sink, "inst", log, {
    batchSize: 500,
    flushIntervalMs: 20,
    onDropped: (n) => (dropped += n),
  });
  writer.start();
  const started = Date.now();
  for (let i = 0; i < 5_000; i++) writer.record(record(i));
  const recorded = Date.now();
  await new Promise((r) => setTimeout(r, 10)); // the writes come later than the records
  await writer.stop();
  expect(await db.client.predictionLog.count()).toBe(4_999);
  expect(dropped).toBe(1);
  expect(writer.stats).toMatchObject({ buffered: 0, written: 4_999, dropped: 1 });
  // Each row's time is when it was recorded, not when its batch was written.
  const times = await db.client.predictionLog.aggregate({ _min: { at: true }, _max: { at: true } });
  expect(times._min.at!.getTime()).toBeGreaterThanOrEqual(started);
  expect(times._max.at!.getTime()).toBeLessThanOrEqual(recorded);
  // The rollups equal the rows written, including in the batch the refused row was split from.
  const [rollup] = await db.client.$queryRaw<{ requests: bigint }[]>`
    SELECT coalesce(sum(requests), 0)::bigint AS requests FROM metric_rollup`;
  expect(Number(rollup!.requests)).toBe(4_999);
});

it("with the database away, the buffer stays bounded and the overflow is counted", async () => {
  const deadPort = await findFreePort();
  const away = postgresPredictionSink(`postgresql://postgres:x@127.0.0.1:${deadPort}/none`);
  cleanups.push(() => away.end());
  let dropped = 0;
  const writer = new PredictionLogWriter(away, "inst", log, {
    maxBuffered: 100,
    flushIntervalMs: 10,
    onDropped: (n) => (dropped += n),
  });
  writer.start();
  // record() is synchronous (serializes into memory): it cannot wait for the database.
  for (let i = 0; i < 1_000; i++) expect(writer.record(record(i))).toBeUndefined();
  expect(writer.stats.buffered).toBe(100);
  expect(dropped).toBe(900);
  await writer.stop(500);
  expect(writer.stats.buffered).toBe(0);
  expect(dropped).toBe(1_000);
});
