-- AlterTable
ALTER TABLE "prediction_log" ADD COLUMN     "predicted" TEXT;

-- CreateTable
CREATE TABLE "metric_rollup" (
    "modelId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "minute" TIMESTAMP(3) NOT NULL,
    "versionId" UUID,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "errors" BIGINT NOT NULL DEFAULT 0,
    "clientErrors" BIGINT NOT NULL DEFAULT 0,
    "rows" BIGINT NOT NULL DEFAULT 0,
    "latencySumMs" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "latencyMaxMs" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "latencyBuckets" BIGINT[],
    "labelled" BIGINT NOT NULL DEFAULT 0,
    "correct" BIGINT NOT NULL DEFAULT 0,
    "absErrorSum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "sqErrorSum" DOUBLE PRECISION NOT NULL DEFAULT 0,

    CONSTRAINT "metric_rollup_pkey" PRIMARY KEY ("modelId","version","minute")
);

-- CreateIndex
CREATE INDEX "metric_rollup_minute_idx" ON "metric_rollup" USING BRIN ("minute");

-- Element-wise sum of two histogram count arrays (NULL or shorter arrays count as zeros):
-- the rollup upsert adds a batch's latency buckets to the minute's.
CREATE FUNCTION modeldeck_add_counts(a BIGINT[], b BIGINT[]) RETURNS BIGINT[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(coalesce(a[i], 0) + coalesce(b[i], 0) ORDER BY i), '{}')
    FROM generate_series(1, greatest(coalesce(array_length(a, 1), 0), coalesce(array_length(b, 1), 0))) AS i
$$;

-- The same as an aggregate, to merge the minutes of a coarser chart step or an alert window.
CREATE AGGREGATE modeldeck_sum_counts(BIGINT[]) (
  SFUNC = modeldeck_add_counts,
  STYPE = BIGINT[],
  PARALLEL = SAFE
);
