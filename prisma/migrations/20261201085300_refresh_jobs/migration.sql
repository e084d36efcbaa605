-- CreateEnum
CREATE TYPE "job_run_trigger" AS ENUM ('schedule', 'manual');

-- CreateEnum
CREATE TYPE "job_run_status" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'skipped');

-- CreateTable
CREATE TABLE "refresh_job" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "modelId" UUID NOT NULL,
    "schedule" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "action" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "createdByType" TEXT NOT NULL,
    "createdById" TEXT,
    "createdByLabel" TEXT NOT NULL,
    "updatedByType" TEXT NOT NULL,
    "updatedById" TEXT,
    "updatedByLabel" TEXT NOT NULL,

    CONSTRAINT "refresh_job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_run" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "trigger" "job_run_trigger" NOT NULL,
    "scheduledFor" TIMESTAMP(3),
    "status" "job_run_status" NOT NULL DEFAULT 'queued',
    "action" JSONB NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "maxAttempts" INTEGER NOT NULL DEFAULT 1,
    "availableAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "instanceId" TEXT,
    "leaseExpiresAt" TIMESTAMP(3),
    "heartbeatAt" TIMESTAMP(3),
    "result" JSONB,
    "error" TEXT,
    "reason" TEXT,
    "requestedByType" TEXT NOT NULL,
    "requestedById" TEXT,
    "requestedByLabel" TEXT NOT NULL,

    CONSTRAINT "job_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_run_log" (
    "id" BIGSERIAL NOT NULL,
    "runId" UUID NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stream" TEXT NOT NULL,
    "line" TEXT NOT NULL,

    CONSTRAINT "job_run_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scheduler_claim" (
    "key" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "claimedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "scheduler_claim_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "refresh_job_name_key" ON "refresh_job"("name");

-- CreateIndex
CREATE INDEX "refresh_job_modelId_idx" ON "refresh_job"("modelId");

-- CreateIndex
CREATE INDEX "refresh_job_enabled_idx" ON "refresh_job"("enabled");

-- CreateIndex
CREATE INDEX "job_run_jobId_createdAt_idx" ON "job_run"("jobId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "job_run_status_availableAt_idx" ON "job_run"("status", "availableAt");

-- CreateIndex
CREATE INDEX "job_run_status_leaseExpiresAt_idx" ON "job_run"("status", "leaseExpiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "job_run_jobId_scheduledFor_key" ON "job_run"("jobId", "scheduledFor");

-- CreateIndex
CREATE INDEX "job_run_log_runId_id_idx" ON "job_run_log"("runId", "id");

-- CreateIndex
CREATE INDEX "scheduler_claim_expiresAt_idx" ON "scheduler_claim"("expiresAt");

-- AddForeignKey
ALTER TABLE "refresh_job" ADD CONSTRAINT "refresh_job_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_run" ADD CONSTRAINT "job_run_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "refresh_job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_run_log" ADD CONSTRAINT "job_run_log_runId_fkey" FOREIGN KEY ("runId") REFERENCES "job_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
