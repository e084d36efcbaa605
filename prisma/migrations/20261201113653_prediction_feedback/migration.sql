-- CreateTable
CREATE TABLE "prediction_feedback" (
    "requestId" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "predictedAt" TIMESTAMP(3) NOT NULL,
    "kind" TEXT NOT NULL,
    "truth" JSONB NOT NULL,
    "labelled" INTEGER NOT NULL,
    "correct" INTEGER NOT NULL DEFAULT 0,
    "absErrorSum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "sqErrorSum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "submittedByType" TEXT NOT NULL,
    "submittedById" TEXT,
    "submittedByLabel" TEXT NOT NULL,

    CONSTRAINT "prediction_feedback_pkey" PRIMARY KEY ("requestId")
);
