-- CreateEnum
CREATE TYPE "dataset_format" AS ENUM ('csv', 'jsonl');

-- CreateEnum
CREATE TYPE "evaluation_status" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "dataset" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "createdByType" TEXT NOT NULL,
    "createdById" TEXT,
    "createdByLabel" TEXT NOT NULL,

    CONSTRAINT "dataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset_version" (
    "id" UUID NOT NULL,
    "datasetId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "format" "dataset_format" NOT NULL,
    "originalFilename" TEXT,
    "rowCount" INTEGER NOT NULL,
    "columns" JSONB NOT NULL,
    "labelColumn" TEXT NOT NULL,
    "featureMapping" JSONB NOT NULL,
    "preview" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdByType" TEXT NOT NULL,
    "createdById" TEXT,
    "createdByLabel" TEXT NOT NULL,

    CONSTRAINT "dataset_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "evaluation" (
    "id" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "versionId" UUID NOT NULL,
    "datasetVersionId" UUID NOT NULL,
    "status" "evaluation_status" NOT NULL DEFAULT 'queued',
    "task" TEXT NOT NULL,
    "rowCount" INTEGER,
    "metrics" JSONB,
    "latency" JSONB,
    "error" TEXT,
    "trigger" TEXT NOT NULL,
    "triggerRef" TEXT,
    "triggeredByType" TEXT NOT NULL,
    "triggeredById" TEXT,
    "triggeredByLabel" TEXT NOT NULL,
    "instanceId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "heartbeatAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "evaluation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_gate" (
    "modelId" UUID NOT NULL,
    "primaryMetric" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "minAbsoluteImprovement" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "minRelativeImprovementPct" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "maxLatencyRegressionPct" DOUBLE PRECISION,
    "minDatasetRows" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedByType" TEXT NOT NULL,
    "updatedById" TEXT,
    "updatedByLabel" TEXT NOT NULL,

    CONSTRAINT "model_gate_pkey" PRIMARY KEY ("modelId")
);

-- CreateIndex
CREATE UNIQUE INDEX "dataset_name_key" ON "dataset"("name");

-- CreateIndex
CREATE INDEX "dataset_createdAt_idx" ON "dataset"("createdAt" DESC);

-- CreateIndex
CREATE INDEX "dataset_version_storageKey_idx" ON "dataset_version"("storageKey");

-- CreateIndex
CREATE UNIQUE INDEX "dataset_version_datasetId_version_key" ON "dataset_version"("datasetId", "version");

-- CreateIndex
CREATE INDEX "evaluation_modelId_createdAt_idx" ON "evaluation"("modelId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "evaluation_versionId_createdAt_idx" ON "evaluation"("versionId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "evaluation_datasetVersionId_idx" ON "evaluation"("datasetVersionId");

-- CreateIndex
CREATE INDEX "evaluation_status_idx" ON "evaluation"("status");

-- AddForeignKey
ALTER TABLE "dataset_version" ADD CONSTRAINT "dataset_version_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "evaluation" ADD CONSTRAINT "evaluation_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "evaluation" ADD CONSTRAINT "evaluation_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "model_version"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "evaluation" ADD CONSTRAINT "evaluation_datasetVersionId_fkey" FOREIGN KEY ("datasetVersionId") REFERENCES "dataset_version"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_gate" ADD CONSTRAINT "model_gate_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;
