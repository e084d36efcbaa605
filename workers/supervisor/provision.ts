import type { AppConfig } from "../../lib/config";
import { disconnectPrisma, getPrisma } from "../../lib/db/client";
import { applyMigrations } from "../../lib/db/migrations";
import type { Logger } from "../../lib/log";
import { provisionInstallation, type Installed } from "../shared/install";
import { startDefaultDatabase } from "./database";

/**
 * Everything the supervisor does with the database before the children start. This module
 * (through lib/db/client) loads the generated Prisma client, so the supervisor imports it only
 * after its build step: on a fresh clone the client does not exist until then.
 */
export type Provisioned = Installed & { databaseUrl: string };

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
  const { secret, admin } = await provisionInstallation(getPrisma(), config, log, {
    seedDemo: process.env.MODELDECK_DEMO !== "off",
  });
  await disconnectPrisma();
  return { databaseUrl, secret, admin };
}
