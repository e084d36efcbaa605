import { SYSTEM_ACTOR } from "../../lib/audit";
import { registerBootstrapToken } from "../../lib/auth/tokens";
import { ensureInitialAdmin } from "../../lib/auth/users";
import type { AppConfig } from "../../lib/config";
import { disconnectPrisma, getPrisma } from "../../lib/db/client";
import { applyMigrations } from "../../lib/db/migrations";
import type { Logger } from "../../lib/log";
import { createArtifactStore } from "../../lib/storage";
import { ensureAuthSecret } from "../../lib/system/instance";
import { seedDemoContent } from "../../prisma/seed";
import { startDefaultDatabase } from "./database";

/**
 * Everything the supervisor does with the database before the children start. This module
 * (through lib/db/client) loads the generated Prisma client, so the supervisor imports it only
 * after its build step: on a fresh clone the client does not exist until then.
 */
export type Provisioned = {
  databaseUrl: string;
  secret: string;
  admin: Awaited<ReturnType<typeof ensureInitialAdmin>>;
};

export async function provision(
  config: AppConfig,
  log: Logger,
  onDatabaseStarted: (stop: () => Promise<void>) => void,
): Promise<Provisioned> {
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const pg = await startDefaultDatabase(config.dataDir, config.embeddedDbPort, log);
    onDatabaseStarted(pg.stop);
    databaseUrl = pg.connectionString;
  }
  await applyMigrations(databaseUrl, { log });

  // The children get the same URL through their environment.
  process.env.DATABASE_URL = databaseUrl;
  const db = getPrisma();
  const secret = await ensureAuthSecret(db, process.env.MODELDECK_SECRET);
  const admin = await ensureInitialAdmin(db, {
    email: process.env.MODELDECK_ADMIN_EMAIL ?? "admin@modeldeck.local",
    password: process.env.MODELDECK_ADMIN_PASSWORD || undefined,
  });
  if (process.env.MODELDECK_BOOTSTRAP_TOKEN) {
    const result = await registerBootstrapToken(
      db,
      process.env.MODELDECK_BOOTSTRAP_TOKEN,
      SYSTEM_ACTOR,
    );
    log.info(
      { tokenId: result.token.id, created: result.created, status: result.token.status },
      "bootstrap token",
    );
  }
  if (process.env.MODELDECK_DEMO !== "off") {
    // The demo is a convenience: failing to seed it must not keep ModelDeck from starting.
    await seedDemoContent(db, createArtifactStore(config), log).catch((err: unknown) =>
      log.error({ err }, "could not seed the demo model; continuing without it"),
    );
  }
  await disconnectPrisma();
  return { databaseUrl, secret, admin };
}
