-- CreateEnum
CREATE TYPE "batch_prediction_status" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "batch_prediction" (
    "id" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "alias" TEXT,
    "versionId" UUID NOT NULL,
    "datasetVersionId" UUID NOT NULL,
    "status" "batch_prediction_status" NOT NULL DEFAULT 'queued',
    "rowsTotal" INTEGER NOT NULL,
    "rowsDone" INTEGER NOT NULL DEFAULT 0,
    "resultKey" TEXT,
    "resultSizeBytes" BIGINT,
    "error" TEXT,
    "instanceId" TEXT,
    "heartbeatAt" TIMESTAMP(3),
    "leaseExpiresAt" TIMESTAMP(3),
    "createdByType" TEXT NOT NULL,
    "createdById" TEXT,
    "createdByLabel" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "batch_prediction_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "batch_prediction_modelId_createdAt_idx" ON "batch_prediction"("modelId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "batch_prediction_status_createdAt_idx" ON "batch_prediction"("status", "createdAt");

-- CreateIndex
CREATE INDEX "batch_prediction_datasetVersionId_idx" ON "batch_prediction"("datasetVersionId");

-- CreateIndex
CREATE INDEX "batch_prediction_versionId_idx" ON "batch_prediction"("versionId");

-- AddForeignKey
ALTER TABLE "batch_prediction" ADD CONSTRAINT "batch_prediction_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "batch_prediction" ADD CONSTRAINT "batch_prediction_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "model_version"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "batch_prediction" ADD CONSTRAINT "batch_prediction_datasetVersionId_fkey" FOREIGN KEY ("datasetVersionId") REFERENCES "dataset_version"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
