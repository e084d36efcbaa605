-- CreateTable
CREATE TABLE "drift_reference" (
    "id" UUID NOT NULL,
    "datasetVersionId" UUID NOT NULL,
    "mappingKey" TEXT NOT NULL,
    "rowCount" INTEGER NOT NULL,
    "features" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "drift_reference_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "drift_snapshot" (
    "id" BIGSERIAL NOT NULL,
    "modelId" UUID NOT NULL,
    "versionId" UUID,
    "at" TIMESTAMP(3) NOT NULL,
    "windowMs" INTEGER NOT NULL,
    "referenceId" UUID,
    "score" DOUBLE PRECISION,
    "driftedFeatures" INTEGER NOT NULL,
    "featureCount" INTEGER NOT NULL,
    "sampleRows" INTEGER NOT NULL,
    "features" JSONB NOT NULL,

    CONSTRAINT "drift_snapshot_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "drift_reference_datasetVersionId_mappingKey_key" ON "drift_reference"("datasetVersionId", "mappingKey");

-- CreateIndex
CREATE INDEX "drift_snapshot_modelId_at_idx" ON "drift_snapshot"("modelId", "at" DESC);

-- CreateIndex
CREATE INDEX "drift_snapshot_at_idx" ON "drift_snapshot" USING BRIN ("at");

-- AddForeignKey
ALTER TABLE "drift_reference" ADD CONSTRAINT "drift_reference_datasetVersionId_fkey" FOREIGN KEY ("datasetVersionId") REFERENCES "dataset_version"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "drift_snapshot" ADD CONSTRAINT "drift_snapshot_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;
