-- AlterTable
ALTER TABLE "webhook" ADD COLUMN     "secretHint" TEXT NOT NULL DEFAULT '';

-- The hint of each existing secret, taken while the secrets are still in clear (the start-up
-- provisioning seals them next: lib/crypto/stored-credentials.ts).
UPDATE "webhook" SET "secretHint" = 'whsec_…' || right("secret", 4) WHERE "secret" NOT LIKE 'v1:%';

-- Sessions keep working: their tokens are replaced by the SHA-256 (hex) the server now looks
-- them up by (lib/auth/session-tokens.ts).
UPDATE "session" SET "token" = encode(sha256(convert_to("token", 'UTF8')), 'hex');
