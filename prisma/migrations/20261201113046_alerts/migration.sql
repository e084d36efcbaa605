-- CreateEnum
CREATE TYPE "alert_severity" AS ENUM ('info', 'warning', 'critical');

-- CreateEnum
CREATE TYPE "alert_state" AS ENUM ('inactive', 'pending', 'firing', 'resolved');

-- CreateTable
CREATE TABLE "alert_rule" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "modelId" UUID NOT NULL,
    "version" INTEGER,
    "alias" TEXT,
    "metric" TEXT NOT NULL,
    "windowSeconds" INTEGER NOT NULL,
    "comparison" TEXT NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "forSeconds" INTEGER NOT NULL DEFAULT 0,
    "keepFiringForSeconds" INTEGER NOT NULL DEFAULT 0,
    "severity" "alert_severity" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "lastEvaluatedAt" TIMESTAMP(3),
    "lastValue" DOUBLE PRECISION,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "createdByType" TEXT NOT NULL,
    "createdById" TEXT,
    "createdByLabel" TEXT NOT NULL,
    "updatedByType" TEXT NOT NULL,
    "updatedById" TEXT,
    "updatedByLabel" TEXT NOT NULL,

    CONSTRAINT "alert_rule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert" (
    "id" UUID NOT NULL,
    "ruleId" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "state" "alert_state" NOT NULL,
    "version" INTEGER,
    "severity" "alert_severity" NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "firingSince" TIMESTAMP(3),
    "lastBreachAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "lastEvaluatedAt" TIMESTAMP(3) NOT NULL,
    "value" DOUBLE PRECISION,
    "threshold" DOUBLE PRECISION NOT NULL,
    "acknowledgedAt" TIMESTAMP(3),
    "acknowledgedByType" TEXT,
    "acknowledgedById" TEXT,
    "acknowledgedByLabel" TEXT,
    "ackComment" TEXT,

    CONSTRAINT "alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_transition" (
    "id" BIGSERIAL NOT NULL,
    "alertId" UUID NOT NULL,
    "ruleId" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "fromState" "alert_state",
    "toState" "alert_state" NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "value" DOUBLE PRECISION,
    "threshold" DOUBLE PRECISION NOT NULL,
    "reason" TEXT NOT NULL,
    "silenced" BOOLEAN NOT NULL DEFAULT false,
    "silenceId" UUID,

    CONSTRAINT "alert_transition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_silence" (
    "id" UUID NOT NULL,
    "ruleId" UUID,
    "modelId" UUID,
    "severity" "alert_severity",
    "comment" TEXT NOT NULL,
    "startsAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endsAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdByType" TEXT NOT NULL,
    "createdById" TEXT,
    "createdByLabel" TEXT NOT NULL,
    "expiredAt" TIMESTAMP(3),
    "expiredByLabel" TEXT,

    CONSTRAINT "alert_silence_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "alert_rule_modelId_idx" ON "alert_rule"("modelId");

-- CreateIndex
CREATE INDEX "alert_rule_enabled_idx" ON "alert_rule"("enabled");

-- CreateIndex
CREATE INDEX "alert_ruleId_startedAt_idx" ON "alert"("ruleId", "startedAt" DESC);

-- CreateIndex
CREATE INDEX "alert_state_idx" ON "alert"("state");

-- CreateIndex
CREATE INDEX "alert_modelId_state_idx" ON "alert"("modelId", "state");

-- CreateIndex
CREATE INDEX "alert_transition_alertId_id_idx" ON "alert_transition"("alertId", "id");

-- CreateIndex
CREATE INDEX "alert_transition_at_idx" ON "alert_transition"("at" DESC);

-- CreateIndex
CREATE INDEX "alert_transition_modelId_at_idx" ON "alert_transition"("modelId", "at" DESC);

-- CreateIndex
CREATE INDEX "alert_silence_endsAt_idx" ON "alert_silence"("endsAt");

-- AddForeignKey
ALTER TABLE "alert_rule" ADD CONSTRAINT "alert_rule_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert" ADD CONSTRAINT "alert_ruleId_fkey" FOREIGN KEY ("ruleId") REFERENCES "alert_rule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_transition" ADD CONSTRAINT "alert_transition_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "alert"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_silence" ADD CONSTRAINT "alert_silence_ruleId_fkey" FOREIGN KEY ("ruleId") REFERENCES "alert_rule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
