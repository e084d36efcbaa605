-- CreateEnum
CREATE TYPE "model_task" AS ENUM ('classification', 'regression', 'other');

-- CreateEnum
CREATE TYPE "version_status" AS ENUM ('ready', 'archived');

-- CreateEnum
CREATE TYPE "lineage_kind" AS ENUM ('upload', 'retrain', 'import');

-- CreateEnum
CREATE TYPE "alias_history_kind" AS ENUM ('promote', 'rollback', 'remove', 'approval');

-- CreateEnum
CREATE TYPE "promotion_status" AS ENUM ('pending', 'approved', 'rejected', 'cancelled');

-- CreateTable
CREATE TABLE "model" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "task" "model_task" NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "approvalRequired" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "createdByType" TEXT NOT NULL,
    "createdById" TEXT,
    "createdByLabel" TEXT NOT NULL,

    CONSTRAINT "model_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_version" (
    "id" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "signature" JSONB NOT NULL,
    "signatureOpset" INTEGER,
    "signatureInputCount" INTEGER,
    "signatureOutputCount" INTEGER,
    "description" TEXT NOT NULL DEFAULT '',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "source" TEXT,
    "originalFilename" TEXT,
    "lineageKind" "lineage_kind" NOT NULL DEFAULT 'upload',
    "parentVersionId" UUID,
    "status" "version_status" NOT NULL DEFAULT 'ready',
    "archivedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdByType" TEXT NOT NULL,
    "createdById" TEXT,
    "createdByLabel" TEXT NOT NULL,

    CONSTRAINT "model_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_alias" (
    "id" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "versionId" UUID NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedByType" TEXT NOT NULL,
    "updatedById" TEXT,
    "updatedByLabel" TEXT NOT NULL,

    CONSTRAINT "model_alias_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alias_history" (
    "id" BIGSERIAL NOT NULL,
    "modelId" UUID NOT NULL,
    "alias" TEXT NOT NULL,
    "fromVersionId" UUID,
    "toVersionId" UUID,
    "kind" "alias_history_kind" NOT NULL,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT,
    "actorLabel" TEXT NOT NULL,
    "reason" TEXT,
    "promotionRequestId" UUID,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "alias_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "promotion_request" (
    "id" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "alias" TEXT NOT NULL,
    "versionId" UUID NOT NULL,
    "status" "promotion_status" NOT NULL DEFAULT 'pending',
    "reason" TEXT,
    "requestedByType" TEXT NOT NULL,
    "requestedById" TEXT,
    "requestedByLabel" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedByType" TEXT,
    "decidedById" TEXT,
    "decidedByLabel" TEXT,
    "decidedAt" TIMESTAMP(3),
    "note" TEXT,

    CONSTRAINT "promotion_request_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "model_name_key" ON "model"("name");

-- CreateIndex
CREATE INDEX "model_task_idx" ON "model"("task");

-- CreateIndex
CREATE INDEX "model_tags_idx" ON "model" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "model_createdAt_idx" ON "model"("createdAt" DESC);

-- CreateIndex
CREATE INDEX "model_version_storageKey_idx" ON "model_version"("storageKey");

-- CreateIndex
CREATE INDEX "model_version_parentVersionId_idx" ON "model_version"("parentVersionId");

-- CreateIndex
CREATE UNIQUE INDEX "model_version_modelId_version_key" ON "model_version"("modelId", "version");

-- CreateIndex
CREATE UNIQUE INDEX "model_version_modelId_sha256_key" ON "model_version"("modelId", "sha256");

-- CreateIndex
CREATE INDEX "model_alias_versionId_idx" ON "model_alias"("versionId");

-- CreateIndex
CREATE INDEX "model_alias_name_idx" ON "model_alias"("name");

-- CreateIndex
CREATE UNIQUE INDEX "model_alias_modelId_name_key" ON "model_alias"("modelId", "name");

-- CreateIndex
CREATE INDEX "alias_history_modelId_alias_id_idx" ON "alias_history"("modelId", "alias", "id" DESC);

-- CreateIndex
CREATE INDEX "alias_history_fromVersionId_idx" ON "alias_history"("fromVersionId");

-- CreateIndex
CREATE INDEX "alias_history_toVersionId_idx" ON "alias_history"("toVersionId");

-- CreateIndex
CREATE INDEX "alias_history_promotionRequestId_idx" ON "alias_history"("promotionRequestId");

-- CreateIndex
CREATE INDEX "promotion_request_status_createdAt_idx" ON "promotion_request"("status", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "promotion_request_modelId_status_createdAt_idx" ON "promotion_request"("modelId", "status", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "promotion_request_versionId_idx" ON "promotion_request"("versionId");

-- AddForeignKey
ALTER TABLE "model_version" ADD CONSTRAINT "model_version_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_version" ADD CONSTRAINT "model_version_parentVersionId_fkey" FOREIGN KEY ("parentVersionId") REFERENCES "model_version"("id") ON DELETE NO ACTION ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_alias" ADD CONSTRAINT "model_alias_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_alias" ADD CONSTRAINT "model_alias_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "model_version"("id") ON DELETE NO ACTION ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias_history" ADD CONSTRAINT "alias_history_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias_history" ADD CONSTRAINT "alias_history_fromVersionId_fkey" FOREIGN KEY ("fromVersionId") REFERENCES "model_version"("id") ON DELETE NO ACTION ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias_history" ADD CONSTRAINT "alias_history_toVersionId_fkey" FOREIGN KEY ("toVersionId") REFERENCES "model_version"("id") ON DELETE NO ACTION ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias_history" ADD CONSTRAINT "alias_history_promotionRequestId_fkey" FOREIGN KEY ("promotionRequestId") REFERENCES "promotion_request"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_request" ADD CONSTRAINT "promotion_request_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_request" ADD CONSTRAINT "promotion_request_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "model_version"("id") ON DELETE NO ACTION ON UPDATE CASCADE;
