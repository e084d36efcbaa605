import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";
import { withSerializedTransactions } from "./serialized-transactions";

export { Prisma } from "./generated/client";
export type { PrismaClient } from "./generated/client";

/**
 * One client (and so one connection pool) per process, kept on globalThis: Next's dev server
 * re-evaluates modules on every edit, and a module-level variable would open a new pool each
 * time until Postgres runs out of connections.
 */
const globalForPrisma = globalThis as unknown as { modeldeckPrisma?: PrismaClient };

/** The app's Prisma client for DATABASE_URL. */
export function getPrisma(): PrismaClient {
  if (globalForPrisma.modeldeckPrisma) return globalForPrisma.modeldeckPrisma;
  const connectionString = process.env.DATABASE_URL;
  if (!connectionString) {
    throw new Error(
      "DATABASE_URL is not set. `npm start` sets it for its processes (embedded database or " +
        "your DATABASE_URL); when running a process on its own, export DATABASE_URL first.",
    );
  }
  const client = new PrismaClient({
    adapter: withSerializedTransactions(new PrismaPg({ connectionString })),
  });
  globalForPrisma.modeldeckPrisma = client;
  return client;
}

/** Close the pool (graceful shutdown, tests); the next getPrisma() opens a new one. */
export async function disconnectPrisma(): Promise<void> {
  const client = globalForPrisma.modeldeckPrisma;
  globalForPrisma.modeldeckPrisma = undefined;
  await client?.$disconnect();
}
