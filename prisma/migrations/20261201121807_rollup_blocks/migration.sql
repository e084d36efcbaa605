-- CreateTable
CREATE TABLE "metric_rollup_block" (
    "modelId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "start" TIMESTAMP(3) NOT NULL,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "errors" BIGINT NOT NULL DEFAULT 0,
    "clientErrors" BIGINT NOT NULL DEFAULT 0,
    "rows" BIGINT NOT NULL DEFAULT 0,
    "latencySumMs" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "latencyMaxMs" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "maxMinuteRequests" BIGINT NOT NULL DEFAULT 0,
    "latencyBuckets" BIGINT[],

    CONSTRAINT "metric_rollup_block_pkey" PRIMARY KEY ("modelId","version","start")
);

-- CreateTable
CREATE TABLE "rollup_compaction" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "compactedUntil" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "rollup_compaction_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "metric_rollup_block_start_idx" ON "metric_rollup_block" USING BRIN ("start");
