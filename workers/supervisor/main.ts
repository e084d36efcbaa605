import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SYSTEM_ACTOR } from "../../lib/audit";
import { registerBootstrapToken } from "../../lib/auth/tokens";
import { ensureInitialAdmin } from "../../lib/auth/users";
import { loadConfig } from "../../lib/config";
import { disconnectPrisma, getPrisma } from "../../lib/db/client";
import { applyMigrations } from "../../lib/db/migrations";
import { createLogger } from "../../lib/log";
import { ensureAuthSecret } from "../../lib/system/instance";
import { createArtifactStore } from "../../lib/storage";
import { seedDemoContent } from "../../prisma/seed";
import { ensureBuilt } from "./build";
import { startDefaultDatabase } from "./database";
import { SupervisedChild } from "./children";
import { acquireRunLock } from "./run-lock";

/**
 * `npm start`: the whole app in one command. Builds what is missing, starts the embedded
 * Postgres unless DATABASE_URL is set, applies migrations, provisions the first admin, then
 * runs web, serving and scheduler as child processes and stops them all on Ctrl-C.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const log = createLogger("supervisor");

async function main() {
  const config = loadConfig();
  mkdirSync(config.dataDir, { recursive: true });
  const lock = await acquireRunLock(config.dataDir, log);

  const children: SupervisedChild[] = [];
  let stopDatabase: (() => Promise<void>) | undefined;
  let shuttingDown = false;

  const shutdown = async (reason: string, code = 0) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason }, "stopping ModelDeck");
    await Promise.all(children.map((c) => c.stop()));
    if (stopDatabase)
      await stopDatabase().catch((err: unknown) => log.error({ err }, "database stop failed"));
    lock.release();
    log.info("stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // When `npm start` is killed outright, we are re-parented: stop cleanly instead of
  // lingering with ports and the database held.
  const parent = process.ppid;
  if (parent !== 1) {
    setInterval(
      () => process.ppid !== parent && void shutdown("parent process exited"),
      1000,
    ).unref();
  }

  try {
    await ensureBuilt(root, log);

    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const pg = await startDefaultDatabase(config.dataDir, config.embeddedDbPort, log);
      stopDatabase = pg.stop;
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

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      BETTER_AUTH_SECRET: secret,
      MODELDECK_DATA_DIR: config.dataDir,
      MODELDECK_EMBEDDED_DB: config.databaseUrl ? "0" : "1",
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
    };
    const specs = [
      { name: "web", entry: "workers/web/main.ts" },
      { name: "serving", entry: "workers/serving/main.ts" },
      { name: "scheduler", entry: "workers/scheduler/main.ts" },
    ];
    const record = () =>
      lock.recordChildren(children.map((c) => c.pid).filter((p): p is number => !!p));
    for (const spec of specs) {
      const child = new SupervisedChild({ ...spec, env }, root, log, record);
      children.push(child);
      child.start();
    }
    await Promise.all(children.map((c) => c.ready));

    const lines = [
      "",
      "  ModelDeck is running",
      `    web + API   ${config.publicUrl}`,
      `    serving     http://${config.host}:${config.servingPort}`,
      `    database    ${config.databaseUrl ? "external (DATABASE_URL)" : `embedded, ${path.join(config.dataDir, "postgres")}`}`,
    ];
    if (admin.created) {
      lines.push(
        "",
        "  First start: an admin account was created.",
        `    email       ${admin.email}`,
        admin.generated
          ? `    password    ${admin.password}   (shown only this once; keep it)`
          : "    password    the value of MODELDECK_ADMIN_PASSWORD",
      );
    }
    lines.push("", "  Press Ctrl-C to stop.", "");
    process.stdout.write(lines.join("\n") + "\n");
    log.info({ url: config.publicUrl, adminCreated: admin.created }, "ModelDeck is running");
  } catch (error) {
    log.fatal({ err: error }, "ModelDeck failed to start");
    process.stderr.write(`\nModelDeck failed to start: ${(error as Error).message}\n`);
    await shutdown("start-up failed", 1);
  }
}

void main();
