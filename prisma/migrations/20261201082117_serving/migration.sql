-- AlterTable
ALTER TABLE "model" ADD COLUMN     "servingSettings" JSONB;

-- CreateTable
CREATE TABLE "serving_load_event" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modelId" UUID NOT NULL,
    "versionId" UUID NOT NULL,
    "instanceId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "message" TEXT,
    "durationMs" INTEGER,

    CONSTRAINT "serving_load_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "prediction_log" (
    "requestId" UUID NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "modelId" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "versionId" UUID,
    "version" INTEGER,
    "alias" TEXT,
    "status" INTEGER NOT NULL,
    "latencyMs" DOUBLE PRECISION NOT NULL,
    "queueMs" DOUBLE PRECISION,
    "computeMs" DOUBLE PRECISION,
    "batchSize" INTEGER,
    "rows" INTEGER,
    "inputs" JSONB,
    "outputs" JSONB,
    "error" TEXT,
    "instanceId" TEXT NOT NULL,

    CONSTRAINT "prediction_log_pkey" PRIMARY KEY ("requestId")
);

-- CreateIndex
CREATE INDEX "serving_load_event_modelId_at_idx" ON "serving_load_event"("modelId", "at" DESC);

-- CreateIndex
CREATE INDEX "serving_load_event_versionId_at_idx" ON "serving_load_event"("versionId", "at" DESC);

-- CreateIndex
CREATE INDEX "prediction_log_at_idx" ON "prediction_log" USING BRIN ("at");

-- AddForeignKey
ALTER TABLE "serving_load_event" ADD CONSTRAINT "serving_load_event_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "serving_load_event" ADD CONSTRAINT "serving_load_event_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "model_version"("id") ON DELETE CASCADE ON UPDATE CASCADE;
