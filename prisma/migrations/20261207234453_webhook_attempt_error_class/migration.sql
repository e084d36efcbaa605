-- The delivery log keeps status, timing and an error class, never the receiver's body: the
-- stored excerpts go with the column.
ALTER TABLE "webhook_delivery_attempt" DROP COLUMN "responseSnippet",
ADD COLUMN     "errorClass" TEXT;

-- The class of the attempts already logged, from what they recorded.
UPDATE "webhook_delivery_attempt"
   SET "errorClass" = CASE
         WHEN "error" LIKE 'The scheduler making this attempt stopped%' THEN 'lost'
         WHEN "error" LIKE 'Timed out:%' THEN 'timeout'
         WHEN "statusCode" BETWEEN 300 AND 399 THEN 'redirect'
         WHEN "statusCode" IS NOT NULL THEN 'http_status'
         ELSE 'network'
       END
 WHERE "error" IS NOT NULL;
