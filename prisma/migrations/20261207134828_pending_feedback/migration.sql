-- AlterTable
ALTER TABLE "prediction_feedback" ADD COLUMN     "pendingSince" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "pending_feedback" (
    "requestId" UUID NOT NULL,
    "given" JSONB NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "firstReceivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "submittedByType" TEXT NOT NULL,
    "submittedById" TEXT,
    "submittedByLabel" TEXT NOT NULL,

    CONSTRAINT "pending_feedback_pkey" PRIMARY KEY ("requestId")
);

-- CreateTable
CREATE TABLE "pending_feedback_tally" (
    "hour" TIMESTAMP(3) NOT NULL,
    "joined" BIGINT NOT NULL DEFAULT 0,
    "rejected" BIGINT NOT NULL DEFAULT 0,
    "expired" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "pending_feedback_tally_pkey" PRIMARY KEY ("hour")
);

-- CreateIndex
CREATE INDEX "pending_feedback_receivedAt_idx" ON "pending_feedback"("receivedAt");
