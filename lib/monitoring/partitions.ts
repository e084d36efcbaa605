import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { PrismaClient } from "../db/generated/client";
import type { SystemTask } from "../jobs/system-tasks";
import type { Logger } from "../log";
import type { ArtifactStore } from "../storage/types";

/**
 * Time partitions of the prediction log and its feedback (PostgreSQL declarative RANGE
 * partitioning; created in place by migration 20261207165922_partition_prediction_log).
 *
 * Key: "requestId". Serving makes every request id as a UUIDv7, whose first 48 bits are the
 * millisecond it was made, and Postgres compares UUIDs byte by byte, so a range of ids is a
 * range of time. Partitioning on the id rather than on `at` keeps the primary key one column
 * (a partitioned table's unique keys must contain its partition key), so every lookup by
 * request id (the feedback join, the pending-feedback sweep, ON CONFLICT) prunes to one day
 * with no time bound to derive, and a request's feedback lives in its prediction's day and
 * goes with it. `at` (when serving logged the request, right after answering it) stays a
 * column with its BRIN index.
 *
 * Unit: one UTC day per partition. With the default 30-day retention that is ~30 tables per
 * log; retention drops a day once its newest request is past the cutoff, so raw rows are kept
 * at least the retention and at most a day longer. Hourly partitions would mean 720 tables
 * (planning cost on every query without a pruning bound) for finer retention nobody asked for.
 *
 * Straggler rows never get lost: a DEFAULT partition takes any id outside every day (the
 * scheduler did not run for longer than the days created ahead, or an id that is no UUIDv7).
 * The partition task creates the missing day later and moves those rows into it, in the same
 * transaction as the ATTACH (which refuses while the default still holds rows of that day).
 */

export const PARTITIONED_TABLES = ["prediction_log", "prediction_feedback"] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

export const DAY_MS = 86_400_000;
/** Days the partition task keeps created ahead of today. */
export const DEFAULT_DAYS_AHEAD = 7;
/** DDL on the parent waits at most this long for a lock: it queues writers while it waits. */
const LOCK_TIMEOUT = "3s";
/** Serialises partition DDL across scheduler replicas (and their tasks). */
const ADVISORY_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('modeldeck:prediction-log-partitions'))`;

/** The first millisecond of the UTC day holding `ms`. */
export function dayStartOf(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/**
 * The smallest UUID whose first 48 bits are the millisecond `ms`: every id made at or after
 * `ms` sorts at or above it, every id made before sorts below. Partition bounds are these.
 */
export function requestIdLowerBound(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0").slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** `prediction_log_p20261207`: the day's partition of `table`. */
export function partitionName(table: PartitionedTable, dayMs: number): string {
  return `${table}_p${new Date(dayStartOf(dayMs)).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

export function defaultPartitionName(table: PartitionedTable): string {
  return `${table}_default`;
}

/** The day a partition name stands for, or null when it is no day partition of `table`. */
export function partitionDay(table: PartitionedTable, name: string): number | null {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return partitionName(table, ms) === name ? ms : null;
}

export type DayPartition = {
  table: PartitionedTable;
  name: string;
  /** Requests made from `from` (inclusive) to `to` (exclusive). */
  from: Date;
  to: Date;
  lowerId: string;
  upperId: string;
};

export function dayPartition(table: PartitionedTable, dayMs: number): DayPartition {
  const from = dayStartOf(dayMs);
  return {
    table,
    name: partitionName(table, from),
    from: new Date(from),
    to: new Date(from + DAY_MS),
    lowerId: requestIdLowerBound(from),
    upperId: requestIdLowerBound(from + DAY_MS),
  };
}

/**
 * The days that must have a partition at `now`: yesterday (a row written just after
 * midnight for a request made just before) through `daysAhead` days ahead, plus the days of
 * rows waiting in the default partition that retention still keeps.
 */
export function daysToEnsure(
  now: number,
  daysAhead: number,
  straggler: { days: number[]; cutoffMs: number },
): number[] {
  const today = dayStartOf(now);
  const days = new Set<number>();
  for (let d = -1; d <= daysAhead; d++) days.add(today + d * DAY_MS);
  for (const day of straggler.days) {
    const start = dayStartOf(day);
    // Past retention: such rows are deleted where they are; beyond the window ahead: an id
    // that is no UUIDv7 (random bits where the time goes) stays in the default.
    if (start + DAY_MS > straggler.cutoffMs && start <= today + daysAhead * DAY_MS) days.add(start);
  }
  return [...days].sort((a, b) => a - b);
}

/** Day partitions whose every request was made before the cutoff, oldest first. */
export function expiredDays(days: number[], cutoffMs: number): number[] {
  return days.filter((d) => dayStartOf(d) + DAY_MS <= cutoffMs).sort((a, b) => a - b);
}

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
const TX_OPTIONS = { maxWait: 15_000, timeout: 10 * 60_000 } as const;

/** The first 48 bits of a UUID column as epoch milliseconds, in SQL. */
const ID_MS_SQL = `('x' || substr(replace("requestId"::text, '-', ''), 1, 12))::bit(48)::bigint`;

/** Day partitions attached to `table` (their day starts, ascending). */
async function attachedDays(db: PrismaClient | Tx, table: PartitionedTable): Promise<number[]> {
  const rows = await db.$queryRawUnsafe<{ name: string }[]>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::text::regclass`,
    table,
  );
  return rows
    .map((r) => partitionDay(table, r.name))
    .filter((d): d is number => d !== null)
    .sort((a, b) => a - b);
}

/** Day tables of `table` that are detached (retention's first step) but not dropped yet. */
async function detachedDays(db: PrismaClient | Tx, table: PartitionedTable): Promise<number[]> {
  const rows = await db.$queryRawUnsafe<{ name: string }[]>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relispartition
        AND c.relname LIKE $1`,
    `${table}\\_p%`,
  );
  return rows
    .map((r) => partitionDay(table, r.name))
    .filter((d): d is number => d !== null)
    .sort((a, b) => a - b);
}

/** Days (their starts) of the rows in `table`'s default partition. */
async function stragglerDays(db: PrismaClient | Tx, table: PartitionedTable): Promise<number[]> {
  const rows = await db.$queryRawUnsafe<{ day: number }[]>(
    `SELECT DISTINCT (${ID_MS_SQL} / ${DAY_MS})::float8 AS day FROM "${defaultPartitionName(table)}"`,
  );
  return rows.map((r) => r.day * DAY_MS);
}

/**
 * Creates `day`'s partition of `table` without blocking writers: built as a plain table
 * with a CHECK matching its bounds (so ATTACH skips scanning it), fed with the day's rows
 * from the default partition, then attached (SHARE UPDATE EXCLUSIVE on the parent, which
 * COPY and INSERT do not wait for). Runs inside the caller's transaction.
 */
async function createDayPartition(tx: Tx, table: PartitionedTable, dayMs: number): Promise<number> {
  const p = dayPartition(table, dayMs);
  const check = `${p.name}_bounds`;
  await tx.$executeRawUnsafe(
    `CREATE TABLE "${p.name}" (LIKE "${table}" INCLUDING DEFAULTS INCLUDING STORAGE)`,
  );
  await tx.$executeRawUnsafe(
    `ALTER TABLE "${p.name}" ADD CONSTRAINT "${check}"
       CHECK ("requestId" >= '${p.lowerId}'::uuid AND "requestId" < '${p.upperId}'::uuid)`,
  );
  const moved = await tx.$executeRawUnsafe(
    `WITH moved AS (
       DELETE FROM "${defaultPartitionName(table)}"
        WHERE "requestId" >= '${p.lowerId}'::uuid AND "requestId" < '${p.upperId}'::uuid
       RETURNING *)
     INSERT INTO "${p.name}" SELECT * FROM moved`,
  );
  await tx.$executeRawUnsafe(
    `ALTER TABLE "${table}" ATTACH PARTITION "${p.name}"
       FOR VALUES FROM ('${p.lowerId}') TO ('${p.upperId}')`,
  );
  await tx.$executeRawUnsafe(`ALTER TABLE "${p.name}" DROP CONSTRAINT "${check}"`);
  return moved;
}

export type EnsureResult = { created: string[]; movedFromDefault: number };

/**
 * Creates the partitions `daysToEnsure` asks for, each day in its own short transaction under
 * an advisory lock (two schedulers never race; a day that exists is skipped). Idempotent.
 */
export async function ensurePartitions(
  db: PrismaClient,
  options: { now?: number; daysAhead?: number; retentionDays: number },
): Promise<EnsureResult> {
  const now = options.now ?? Date.now();
  const cutoffMs = now - options.retentionDays * DAY_MS;
  const result: EnsureResult = { created: [], movedFromDefault: 0 };
  const straggling = new Set<number>();
  for (const table of PARTITIONED_TABLES) {
    for (const d of await stragglerDays(db, table)) straggling.add(d);
  }
  const wanted = daysToEnsure(now, options.daysAhead ?? DEFAULT_DAYS_AHEAD, {
    days: [...straggling],
    cutoffMs,
  });
  for (const table of PARTITIONED_TABLES) {
    const have = new Set(await attachedDays(db, table));
    for (const day of wanted) {
      if (have.has(day)) continue;
      await db.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(ADVISORY_LOCK_SQL);
        await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        if ((await attachedDays(tx, table)).includes(day)) return; // another replica made it
        result.movedFromDefault += await createDayPartition(tx, table, day);
        result.created.push(partitionName(table, day));
      }, TX_OPTIONS);
    }
  }
  return result;
}

export type PartitionExport = {
  table: PartitionedTable;
  partition: string;
  rows: number;
  storageKey: string;
  sha256: string;
  sizeBytes: number;
};

export type DropResult = {
  /** Day partitions detached and dropped, e.g. prediction_log_p20261101. */
  dropped: string[];
  exported: PartitionExport[];
  /** Days left for the next run (lock wait ran out, export failed); logged as warnings. */
  failed: string[];
};

export type DropOptions = {
  now?: number;
  retentionDays: number;
  /** Given: every day is written to this store (gzipped CSV) before it is dropped. */
  exportTo?: { store: ArtifactStore; connectionString: string };
  signal?: AbortSignal;
  log?: Logger;
};

/**
 * Retention of the raw log by whole days: each day partition whose requests are all older
 * than the cutoff is detached (one short ACCESS EXCLUSIVE lock on the parent, waited for at
 * most LOCK_TIMEOUT) and dropped; the time does not depend on how many rows the day holds.
 * With an export store, a detached day is first written to the store and recorded in
 * prediction_log_export, in the transaction that drops it: a failed export leaves the day
 * detached (invisible to queries, as retention wants) and the next run tries again.
 */
export async function dropExpiredPartitions(
  db: PrismaClient,
  options: DropOptions,
): Promise<DropResult> {
  const now = options.now ?? Date.now();
  const cutoffMs = now - options.retentionDays * DAY_MS;
  const result: DropResult = { dropped: [], exported: [], failed: [] };
  const failed = (name: string, step: string, error: unknown) => {
    result.failed.push(name);
    options.log?.warn(
      { err: error, partition: name, step },
      "retention left a day for the next run",
    );
  };
  for (const table of PARTITIONED_TABLES) {
    for (const day of expiredDays(await attachedDays(db, table), cutoffMs)) {
      if (options.signal?.aborted) return result;
      try {
        await db.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(ADVISORY_LOCK_SQL);
          await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
          if (!(await attachedDays(tx, table)).includes(day)) return;
          await tx.$executeRawUnsafe(
            `ALTER TABLE "${table}" DETACH PARTITION "${partitionName(table, day)}"`,
          );
        }, TX_OPTIONS);
      } catch (error) {
        // Most likely the lock wait ran out behind a long transaction: the next fire retries.
        failed(partitionName(table, day), "detach", error);
        break;
      }
    }
    // Detached now or by an earlier run whose export or drop failed.
    for (const day of await detachedDays(db, table)) {
      if (options.signal?.aborted) return result;
      if (dayStartOf(day) + DAY_MS > cutoffMs) continue; // not ours to drop
      const name = partitionName(table, day);
      try {
        const exported = options.exportTo ? await exportDay(options.exportTo, table, day) : null;
        await db.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(ADVISORY_LOCK_SQL);
          if (exported) await recordExport(tx, exported, day);
          await tx.$executeRawUnsafe(`DROP TABLE IF EXISTS "${name}"`);
        }, TX_OPTIONS);
        if (exported) result.exported.push(exported);
        result.dropped.push(name);
      } catch (error) {
        failed(name, options.exportTo ? "export or drop" : "drop", error);
      }
    }
  }
  if (result.dropped.length > 0) {
    options.log?.info(
      { dropped: result.dropped, exported: result.exported.length, cutoff: new Date(cutoffMs) },
      "retention dropped expired prediction log days",
    );
  }
  return result;
}

async function recordExport(tx: Tx, e: PartitionExport, day: number): Promise<void> {
  const p = dayPartition(e.table, day);
  await tx.$executeRawUnsafe(
    `INSERT INTO prediction_log_export
       (id, "table", partition, "rangeStart", "rangeEnd", rows, "storageKey", sha256, "sizeBytes")
     VALUES (gen_random_uuid()::text, $1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (partition) DO UPDATE SET rows = EXCLUDED.rows,
       "storageKey" = EXCLUDED."storageKey", sha256 = EXCLUDED.sha256,
       "sizeBytes" = EXCLUDED."sizeBytes", "createdAt" = now()`,
    e.table,
    e.partition,
    p.from,
    p.to,
    e.rows,
    e.storageKey,
    e.sha256,
    e.sizeBytes,
  );
}

/** Exports larger than this are refused (a day at 1,000 req/s is ~17 GB raw, ~2 GB gzipped). */
const MAX_EXPORT_BYTES = 256 * 1024 ** 3;

/**
 * Streams a detached day table as CSV with a header line, gzipped, into the store (staged,
 * hashed, then committed under its sha256): constant memory whatever the day's size. Counted
 * and copied in one read-only snapshot.
 */
async function exportDay(
  target: { store: ArtifactStore; connectionString: string },
  table: PartitionedTable,
  day: number,
): Promise<PartitionExport> {
  const name = partitionName(table, day);
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${name}"`);
    const csv = client.query(
      copyTo(
        `COPY (SELECT * FROM "${name}" ORDER BY "requestId") TO STDOUT WITH (FORMAT csv, HEADER true)`,
      ),
    );
    const gzipped = new PassThrough();
    const [staging, copying] = await Promise.allSettled([
      target.store.stage(gzipped as Readable, { maxBytes: MAX_EXPORT_BYTES }),
      pipeline(csv, createGzip(), gzipped),
    ]);
    if (staging.status === "rejected" || copying.status === "rejected") {
      if (staging.status === "fulfilled") await staging.value.discard();
      throw copying.status === "rejected"
        ? copying.reason
        : (staging as PromiseRejectedResult).reason;
    }
    const staged = staging.value;
    await client.query("COMMIT");
    try {
      const { key } = await staged.commit();
      return {
        table,
        partition: name,
        rows: Number(rows[0]!.n),
        storageKey: key,
        sha256: staged.sha256,
        sizeBytes: staged.sizeBytes,
      };
    } catch (error) {
      await staged.discard();
      throw error;
    }
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * The scheduler's partition task: hourly (minute 7, second 20, away from other tasks), and
 * on one replica per fire. Creating a week ahead leaves days of slack should the scheduler
 * stop; rows in the default partition are moved into their day on the next run.
 */
export function partitionTask(deps: {
  db: PrismaClient;
  log: Logger;
  retentionDays: number;
  daysAhead?: number;
}): SystemTask {
  return {
    name: "prediction-log-partitions",
    schedule: "20 7 * * * *",
    leaseMs: 30 * 60_000,
    run: async ({ at }) => {
      const result = await ensurePartitions(deps.db, {
        now: at.getTime(),
        daysAhead: deps.daysAhead,
        retentionDays: deps.retentionDays,
      });
      if (result.created.length > 0) {
        deps.log.info(result, "created prediction log partitions");
      }
    },
  };
}
