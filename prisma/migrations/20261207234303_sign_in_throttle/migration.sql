-- CreateTable
CREATE TABLE "sign_in_throttle" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "window_start" TIMESTAMP(3) NOT NULL,
    "locked_until" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "sign_in_throttle_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sign_in_throttle_locked_until_idx" ON "sign_in_throttle"("locked_until");

-- CreateIndex
CREATE UNIQUE INDEX "sign_in_throttle_email_address_key" ON "sign_in_throttle"("email", "address");
