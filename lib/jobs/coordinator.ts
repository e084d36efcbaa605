import type { RunCoordinator } from "node-cron";
import type { PrismaClient } from "../db/generated/client";
import { isUniqueViolation } from "../db/errors";
import type { Tx } from "../registry/shared";

/**
 * A node-cron `RunCoordinator` backed by Postgres: the first scheduler to insert a fire's key
 * into `scheduler_claim` runs it; every other replica gets `false`. A claim is held until its
 * lease (`ttlMs`) ends, also after completion, so a late replica cannot claim the same key
 * again; after that it may be re-claimed (node-cron's lease semantics) and is later pruned.
 *
 * `onClaim` runs in the claim's own transaction: the claim and what it records (for refresh
 * jobs, the run row) commit together or not at all, so a fire can neither be claimed without
 * its run existing nor run twice. If `onClaim` hits a unique violation (the run already
 * exists), the claim is rolled back and `shouldRun` answers false.
 */
export type PostgresRunCoordinator = RunCoordinator & {
  shouldRun(key: string, ttlMs: number): Promise<boolean>;
  onComplete(key: string): Promise<void>;
};

export function createPostgresRunCoordinator(opts: {
  db: PrismaClient;
  instanceId: string;
  onClaim?: (tx: Tx, key: string) => Promise<void>;
}): PostgresRunCoordinator {
  const { db, instanceId } = opts;
  return {
    async shouldRun(key, ttlMs) {
      const ttl = Math.max(1, Math.round(ttlMs));
      try {
        return await db.$transaction(
          async (tx) => {
            const won = await tx.$queryRaw<{ key: string }[]>`
              INSERT INTO scheduler_claim (key, "instanceId", "claimedAt", "expiresAt")
              VALUES (${key}, ${instanceId}, now(), now() + ${ttl} * interval '1 millisecond')
              ON CONFLICT (key) DO UPDATE
                SET "instanceId" = EXCLUDED."instanceId", "claimedAt" = EXCLUDED."claimedAt",
                    "expiresAt" = EXCLUDED."expiresAt", "completedAt" = NULL
                WHERE scheduler_claim."expiresAt" < now()
              RETURNING key`;
            if (won.length === 0) return false;
            await opts.onClaim?.(tx, key);
            return true;
          },
          { isolationLevel: "ReadCommitted", maxWait: 10_000, timeout: 20_000 },
        );
      } catch (error) {
        if (isUniqueViolation(error) || isUniqueViolationRaw(error)) return false;
        throw error;
      }
    },
    async onComplete(key) {
      await db.$executeRaw`
        UPDATE scheduler_claim SET "completedAt" = now()
         WHERE key = ${key} AND "instanceId" = ${instanceId}`;
    },
  };
}

/** A unique violation raised inside $queryRaw/$executeRaw (Postgres code 23505). */
function isUniqueViolationRaw(error: unknown): boolean {
  const text = String((error as { message?: unknown })?.message ?? "");
  const meta = (
    error as {
      meta?: {
        code?: unknown;
        driverAdapterError?: { cause?: { code?: unknown; kind?: unknown } };
      };
    }
  )?.meta;
  return (
    meta?.code === "23505" ||
    meta?.driverAdapterError?.cause?.code === "23505" ||
    meta?.driverAdapterError?.cause?.kind === "UniqueConstraintViolation" ||
    /23505|unique constraint/i.test(text)
  );
}

/** Deletes claims whose lease ended more than `graceMs` ago; returns how many. */
export async function pruneClaims(db: PrismaClient, graceMs = 3_600_000): Promise<number> {
  return db.$executeRaw`
    DELETE FROM scheduler_claim WHERE "expiresAt" < now() - ${Math.round(graceMs)} * interval '1 millisecond'`;
}
