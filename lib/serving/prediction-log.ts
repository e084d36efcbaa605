import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Logger } from "../log";
import { metricsUpdatedNotifyQuery } from "../events/channels";
import { upsertRollupsQuery } from "../monitoring/rollups";
import {
  PREDICTION_LOG_COLUMNS,
  PredictionLogArena,
  PredictionLogBatch,
  type PredictionRecord,
} from "./prediction-log-arena";

/**
 * The prediction log, written off the response path: `record` only serializes the record
 * into a bounded off-heap buffer (./prediction-log-arena.ts); a background loop writes the
 * buffer in batches. When the database is slower than the traffic (or away), the buffer fills
 * and further records are dropped and counted, never queued without bound and never delaying
 * a response.
 */
export { PredictionLogBatch, type PredictionRecord };

/** Where records go: one transaction per call (the rows and their per-minute rollups). */
export type PredictionLogSink = {
  insert(batch: PredictionLogBatch): Promise<void>;
  /** Resolves when the database answers at all (tells "it is away" from "it refused a row"). */
  ping(): Promise<void>;
};

/**
 * The Postgres sink: per batch, one transaction that COPYs the rows into prediction_log
 * (pg-copy-streams), adds their per-minute aggregates to metric_rollup (lib/monitoring/
 * rollups.ts) and notifies `modeldeck_metrics` (live charts): the rollups always equal the
 * rows, and listeners hear of rows only once they are visible.
 *
 * Why COPY (measured in bench/serving, MLP at 64 clients, the database on the same 2 cores):
 * Prisma's createMany cost serving several times its throughput; INSERT … SELECT FROM
 * unnest(arrays) still cost a third (node-postgres escapes every array element in
 * JavaScript); one JSON parameter through json_populate_recordset was cheap for Node but
 * left Postgres parsing JSON. COPY's text format is the cheapest for both sides: one line per
 * record built by string concatenation (when the record is logged), and the server's fastest
 * load path.
 *
 * `insert` also takes records built by hand (tests, tools), with the instance to log them as.
 */
export function postgresPredictionSink(connectionString: string): PredictionLogSink & {
  insert(
    batch: PredictionLogBatch | readonly PredictionRecord[],
    instanceId?: string,
  ): Promise<void>;
  end: () => Promise<void>;
} {
  const pool = new pg.Pool({ connectionString, max: 2, idleTimeoutMillis: 30_000 });
  pool.on("error", () => undefined); // an idle client's error; the next query reports it
  const sql = `COPY prediction_log (${PREDICTION_LOG_COLUMNS.map((c) => `"${c}"`).join(", ")}) FROM STDIN`;
  return {
    async insert(batch: PredictionLogBatch | readonly PredictionRecord[], instanceId?: string) {
      const rows =
        batch instanceof PredictionLogBatch
          ? batch
          : PredictionLogBatch.of(batch, instanceId ?? "");
      const deltas = rows.rollupDeltas();
      const models = [...new Set(deltas.map((d) => d.modelId))];
      const client = await pool.connect();
      // Between the transaction's statements no query is pending to reject, so a connection
      // lost right then surfaces as an 'error' event on the client: without a listener that
      // would crash the process. The next statement (or COMMIT) fails and reports it.
      const lost = () => undefined;
      client.on("error", lost);
      try {
        await client.query("BEGIN");
        await pipeline(Readable.from(rows.copyChunks()), client.query(copyFrom(sql)));
        if (deltas.length > 0) await client.query(upsertRollupsQuery(deltas));
        await client.query(metricsUpdatedNotifyQuery(models));
        await client.query("COMMIT");
        client.off("error", lost);
        client.release();
      } catch (error) {
        // A failed COPY can leave the connection mid-protocol: do not hand it out again
        // (dropping the connection also rolls the transaction back).
        client.off("error", lost);
        client.release(error as Error);
        throw error;
      }
    },
    async ping() {
      await pool.query("SELECT 1");
    },
    end: () => pool.end(),
  };
}

export type PredictionLogOptions = {
  /** Records held at most; beyond it new ones are dropped (and counted). */
  maxBuffered?: number;
  /** Records per write (one transaction). */
  batchSize?: number;
  /** How often the buffer is written when it is not full. */
  flushIntervalMs?: number;
  onDropped?: (count: number) => void;
  onWritten?: (count: number) => void;
  /**
   * Runs after each batch has committed, before the next is written (serving joins feedback
   * that arrived before these rows: lib/monitoring/feedback.ts). A failure is logged; the
   * rows stay written.
   */
  afterWrite?: (requestIds: string[]) => Promise<unknown>;
};

export class PredictionLogWriter {
  /** The records not written yet, serialized (nothing of them stays on the JS heap). */
  private readonly buffer: PredictionLogArena;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private stopped = false;
  private droppedTotal = 0;
  private writtenTotal = 0;
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  /** After a failed write, wait this long before the next try (doubles up to 5 s). */
  private backoffMs = 0;

  constructor(
    private readonly sink: PredictionLogSink,
    instanceId: string,
    private readonly log: Logger,
    private readonly opts: PredictionLogOptions = {},
  ) {
    this.buffer = new PredictionLogArena(instanceId);
    this.maxBuffered = opts.maxBuffered ?? 50_000;
    this.batchSize = opts.batchSize ?? 2_000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 250;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  get stats() {
    return { buffered: this.buffer.length, dropped: this.droppedTotal, written: this.writtenTotal };
  }

  /** Serializes the record at once (its `at`, when absent, is now); keeps no reference to it. */
  record(entry: PredictionRecord): void {
    if (this.stopped || this.buffer.length >= this.maxBuffered) {
      this.droppedTotal++;
      this.opts.onDropped?.(1);
      return;
    }
    this.buffer.append(entry);
    if (this.buffer.length >= this.batchSize && !this.flushing) void this.flush();
  }

  /** Writes what is buffered; one flush at a time. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.buffer.length === 0) return Promise.resolve();
    this.flushing = this.writeBuffered().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Stops accepting records and writes what is left (graceful shutdown). */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.backoffMs = 0;
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.backoffMs > 0) break; // the database is failing: do not hold shutdown
    }
    await this.flushing; // a write in flight still reads the buffer
    const lost = this.buffer.length;
    if (lost > 0) {
      this.log.warn({ lost }, "prediction log records not written at shutdown");
      this.droppedTotal += lost;
      this.opts.onDropped?.(lost);
      this.buffer.clear();
    }
  }

  private async afterWrite(requestIds: string[] | null): Promise<void> {
    if (!this.opts.afterWrite || !requestIds) return;
    try {
      await this.opts.afterWrite(requestIds);
    } catch (error) {
      this.log.warn({ err: error, records: requestIds.length }, "after-write step failed");
    }
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.sink.ping();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The database refused a batch while answering, so some row is at fault: split the batch
   * in halves until the refused rows stand alone and drop just those. A bad row among 2,000
   * costs about 2·log2(2,000) ≈ 22 writes instead of 2,000 one-row transactions. Should the
   * database go away meanwhile, what is not written yet stays buffered for the next flush.
   */
  private async writeAroundRefusedRows(batch: PredictionLogBatch, cause: unknown): Promise<void> {
    let rejected = 0;
    let settled = 0; // records from the start of `batch` written or dropped, in order
    const write = async (part: PredictionLogBatch): Promise<boolean> => {
      try {
        await this.sink.insert(part);
        this.writtenTotal += part.length;
        this.opts.onWritten?.(part.length);
        settled += part.length;
        await this.afterWrite(this.opts.afterWrite ? part.requestIds() : null);
        return true;
      } catch {
        if (!(await this.databaseAnswers())) return false;
        if (part.length === 1) {
          rejected++;
          settled++;
          return true;
        }
        const half = Math.ceil(part.length / 2);
        return (await write(part.slice(0, half))) && write(part.slice(half));
      }
    };
    const half = Math.ceil(batch.length / 2);
    if (batch.length === 1) {
      rejected = settled = 1;
    } else if (await write(batch.slice(0, half))) {
      await write(batch.slice(half));
    }
    this.buffer.discard(settled);
    if (rejected > 0) {
      this.droppedTotal += rejected;
      this.opts.onDropped?.(rejected);
      this.log.warn(
        { err: cause, rejected },
        "prediction log records the database refused were dropped",
      );
    }
  }

  /**
   * Writes what is buffered, then keeps going only while a full batch is waiting. Records
   * that trickle in during a write wait for the next interval: writing them at once turned
   * light traffic into a write every few requests (one client: about 240 transactions a
   * second of 5 rows each, which cost the database 290 µs of CPU per request instead of
   * about 20).
   */
  private async writeBuffered(): Promise<void> {
    if (this.buffer.length === 0) return;
    do {
      const batch = this.buffer.batch(this.batchSize);
      try {
        await this.sink.insert(batch);
        // Read before the records are let go: their storage is reused.
        const requestIds = this.opts.afterWrite ? batch.requestIds() : null;
        this.buffer.discard(batch.length);
        this.writtenTotal += batch.length;
        this.opts.onWritten?.(batch.length);
        this.backoffMs = 0;
        await this.afterWrite(requestIds);
      } catch (error) {
        if (await this.databaseAnswers()) {
          // The database is fine, so some row is at fault: write around it, drop only it.
          await this.writeAroundRefusedRows(batch, error);
          continue;
        }
        this.backoffMs = Math.min(5_000, Math.max(100, this.backoffMs * 2));
        this.log.warn(
          { err: error, buffered: this.buffer.length, retryInMs: this.backoffMs },
          "prediction log write failed; keeping records while the buffer has room",
        );
        if (!this.stopped) await new Promise((r) => setTimeout(r, this.backoffMs));
        return;
      }
    } while (this.buffer.length >= this.batchSize);
  }
}
