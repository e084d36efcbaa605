-- CreateTable
CREATE TABLE "prediction_log_export" (
    "id" TEXT NOT NULL,
    "table" TEXT NOT NULL,
    "partition" TEXT NOT NULL,
    "rangeStart" TIMESTAMP(3) NOT NULL,
    "rangeEnd" TIMESTAMP(3) NOT NULL,
    "rows" BIGINT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "prediction_log_export_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "prediction_log_export_partition_key" ON "prediction_log_export"("partition");

-- CreateIndex
CREATE INDEX "prediction_log_export_rangeStart_idx" ON "prediction_log_export"("rangeStart");

-- Partition prediction_log and prediction_feedback by day, in place (hand-written: Prisma does
-- not model partitioning). The partition key is "requestId": a UUIDv7 whose first 48 bits are
-- the millisecond serving made it, so ranges of ids are ranges of time, the primary key stays
-- one column, and every lookup by request id prunes to one day. Each table gets one partition
-- per UTC day from its oldest row's day (at most 400 days back) to 7 days ahead, plus a
-- DEFAULT partition for ids outside every day (lib/monitoring/partitions.ts explains it and
-- keeps creating days ahead). The rows are moved in this same transaction (migrations run as
-- one); the table is rewritten once, so on a large log this takes as long as copying it.
DO $$
DECLARE
  t text;
  pk text;
  first_ms bigint;
  today date := (now() AT TIME ZONE 'UTC')::date;
  day date;
  lo text;
  hi text;
BEGIN
  FOREACH t IN ARRAY ARRAY['prediction_log', 'prediction_feedback'] LOOP
    EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_unpartitioned');
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I',
                   t || '_unpartitioned', t || '_pkey', t || '_unpartitioned_pkey');
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING STORAGE)'
                   ' PARTITION BY RANGE ("requestId")', t, t || '_unpartitioned');
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY ("requestId")', t, t || '_pkey');
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t || '_default', t);

    -- From the day of the oldest row (the first UUIDv7 in primary key order) to a week ahead;
    -- rows whose ids are no UUIDv7 go to the default partition.
    EXECUTE format('SELECT (''x'' || substr(replace("requestId"::text, ''-'', ''''), 1, 12))::bit(48)::bigint'
                   '  FROM %I WHERE substr("requestId"::text, 15, 1) = ''7'''
                   ' ORDER BY "requestId" LIMIT 1', t || '_unpartitioned') INTO first_ms;
    day := greatest(least(coalesce((to_timestamp(first_ms / 1000.0) AT TIME ZONE 'UTC')::date, today), today),
                    today - 400);
    WHILE day <= today + 7 LOOP
      lo := lpad(to_hex((extract(epoch FROM day::timestamp) * 1000)::bigint), 12, '0');
      hi := lpad(to_hex((extract(epoch FROM (day + 1)::timestamp) * 1000)::bigint), 12, '0');
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                     t || '_p' || to_char(day, 'YYYYMMDD'), t,
                     substr(lo, 1, 8) || '-' || substr(lo, 9, 4) || '-0000-0000-000000000000',
                     substr(hi, 1, 8) || '-' || substr(hi, 9, 4) || '-0000-0000-000000000000');
      day := day + 1;
    END LOOP;

    EXECUTE format('INSERT INTO %I SELECT * FROM %I', t, t || '_unpartitioned');
    EXECUTE format('DROP TABLE %I', t || '_unpartitioned');
  END LOOP;
END $$;

-- Dropped with the old table; recreated on the partitioned one (each day gets its own).
CREATE INDEX "prediction_log_at_idx" ON "prediction_log" USING BRIN ("at");
