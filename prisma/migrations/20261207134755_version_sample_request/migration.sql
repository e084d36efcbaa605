-- AlterTable
ALTER TABLE "model_version" ADD COLUMN     "sampleRequest" JSONB,
ADD COLUMN     "sampleRequestSha256" TEXT;

-- AlterTable
ALTER TABLE "serving_load_event" ADD COLUMN     "warmUp" TEXT,
ADD COLUMN     "warning" TEXT;
