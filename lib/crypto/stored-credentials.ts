import { recordAudit, SYSTEM_ACTOR, type Actor } from "../audit";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { isSealed, type SecretBox } from "./secret-box";

/**
 * Every database column that holds a credential the server must read back, sealed with the
 * instance's encryption key (lib/crypto/secret-box.ts). A feature that stores a new kind of
 * credential (an object-store key, say) adds its column here, so the one-time sealing of
 * clear values and key rotation cover it. Hashed credentials (API tokens, passwords, session
 * tokens) are not here: nothing reads them back.
 */
export const CREDENTIAL_PURPOSE = {
  webhookSecret: "webhook.secret",
  authSecret: "instance.auth_secret",
} as const;

type StoredCredential = {
  /** Table and columns, as in the database (quoted identifiers, never user input). */
  table: string;
  idColumn: string;
  column: string;
  purpose: string;
  /** SQL condition picking the credential rows of a table that holds other rows too. */
  rows?: string;
};

export const STORED_CREDENTIALS: readonly StoredCredential[] = [
  { table: "webhook", idColumn: "id", column: "secret", purpose: CREDENTIAL_PURPOSE.webhookSecret },
  // The generated session secret (lib/system/instance.ts); it also derives serving's "try it" key.
  {
    table: "instance_setting",
    idColumn: "key",
    column: "value",
    purpose: CREDENTIAL_PURPOSE.authSecret,
    rows: `"key" = 'auth_secret'`,
  },
];

type Row = { id: string; value: string };

async function lockRows(tx: Prisma.TransactionClient, c: StoredCredential): Promise<Row[]> {
  return tx.$queryRawUnsafe<Row[]>(
    `SELECT "${c.idColumn}"::text AS id, "${c.column}" AS value FROM "${c.table}"
      WHERE "${c.column}" IS NOT NULL${c.rows ? ` AND ${c.rows}` : ""} ORDER BY "${c.idColumn}" FOR UPDATE`,
  );
}

async function writeRow(
  tx: Prisma.TransactionClient,
  c: StoredCredential,
  id: string,
  value: string,
) {
  await tx.$executeRawUnsafe(
    `UPDATE "${c.table}" SET "${c.column}" = $1 WHERE "${c.idColumn}"::text = $2`,
    value,
    id,
  );
}

export type SealingResult = { sealed: number; resealed: number; unchanged: number };

/**
 * Brings every stored credential under the current key in one transaction: values still in
 * clear (written before encryption existed) are sealed, values under an older key of the ring
 * are opened and sealed again. A value no key of the ring opens aborts the whole run, so a
 * half-rotated state never results. Idempotent: a second run changes nothing.
 */
async function sealAll(
  db: PrismaClient,
  box: SecretBox,
  opts: { reseal: boolean; actor: Actor; action: string },
): Promise<SealingResult> {
  return db.$transaction(
    async (tx) => {
      const result: SealingResult = { sealed: 0, resealed: 0, unchanged: 0 };
      for (const c of STORED_CREDENTIALS) {
        for (const row of await lockRows(tx, c)) {
          if (!isSealed(row.value)) {
            await writeRow(tx, c, row.id, box.seal(row.value, c.purpose));
            result.sealed++;
          } else if (opts.reseal && !box.isCurrent(row.value)) {
            await writeRow(tx, c, row.id, box.seal(box.open(row.value, c.purpose), c.purpose));
            result.resealed++;
          } else {
            result.unchanged++;
          }
        }
      }
      if (result.sealed + result.resealed > 0) {
        await recordAudit(tx, {
          actor: opts.actor,
          action: opts.action,
          resourceType: "encryption_key",
          resourceId: box.current.id,
          after: { keyId: box.current.id, ...result },
        });
      }
      return result;
    },
    { timeout: 120_000 },
  );
}

/** Seals credentials still stored in clear (start-up and `modeldeck migrate`). */
export function sealClearCredentials(db: PrismaClient, box: SecretBox): Promise<SealingResult> {
  return sealAll(db, box, {
    reseal: false,
    actor: SYSTEM_ACTOR,
    action: "encryption_key.seal_clear_credentials",
  });
}

/** Re-seals every stored credential under the current key (`modeldeck keys rotate`). */
export function resealCredentials(
  db: PrismaClient,
  box: SecretBox,
  actor: Actor = SYSTEM_ACTOR,
): Promise<SealingResult> {
  return sealAll(db, box, { reseal: true, actor, action: "encryption_key.rotate" });
}
