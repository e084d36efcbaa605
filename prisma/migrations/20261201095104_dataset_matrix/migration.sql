-- AlterTable
ALTER TABLE "dataset_version" ADD COLUMN     "matrixStorageKey" TEXT;
