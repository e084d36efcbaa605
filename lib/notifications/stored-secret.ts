import { openSecret, sealSecret } from "../crypto/keys";
import { CREDENTIAL_PURPOSE } from "../crypto/stored-credentials";

/** A webhook's signing secret as the database keeps it: sealed (lib/crypto). */
export const sealWebhookSecret = (secret: string): string =>
  sealSecret(secret, CREDENTIAL_PURPOSE.webhookSecret);

export const openWebhookSecret = (stored: string): string =>
  openSecret(stored, CREDENTIAL_PURPOSE.webhookSecret);
