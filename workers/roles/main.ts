import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { ConfigError, loadConfig, type AppConfig } from "../../lib/config";
import { ROLES, type Role } from "../../lib/config/variables";
import { describeMigrationStatus, migrationStatus } from "../../lib/db/migration-status";
import { createLogger, type Logger } from "../../lib/log";

/**
 * `modeldeck <web|serving|scheduler|migrate>` (bin/modeldeck): one role in this process, as
 * a container runs it. Every role reads the same configuration (lib/config) and needs
 * DATABASE_URL: the PostgreSQL all replicas share. Only `migrate` changes the schema; the
 * others start on a database whose migrations are current (serving and the scheduler wait
 * for it; web starts at once and reports not ready on /readyz until then). `npm start` does
 * not come through here: its supervisor runs the same worker modules on the embedded database.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const ENTRIES: Record<Exclude<Role, "migrate">, string> = {
  web: "../web/main.ts",
  serving: "../serving/main.ts",
  scheduler: "../scheduler/main.ts",
};

const USAGE = `usage: modeldeck <${ROLES.join("|")}|start>
       modeldeck keys rotate

  web        dashboard and management API (MODELDECK_WEB_PORT)
  serving    inference data plane (MODELDECK_SERVING_PORT; gRPC on MODELDECK_GRPC_PORT)
  scheduler  refresh jobs, alerts, retention, webhooks
  migrate    apply database migrations and install-time provisioning, then exit
  start      all of them under one supervisor, as \`npm start\` (embedded database by default)
  keys rotate  re-seal every stored credential under a new encryption key (docs/security.md)

Every role but start needs DATABASE_URL.`;

/** Exit with a message for the operator (bad arguments or configuration): no stack trace. */
function refuse(message: string): never {
  process.stderr.write(`modeldeck: ${message}\n`);
  process.exit(2);
}

const WAIT_POLL_MS = 2_000;
const WAIT_NOTICE_MS = 30_000;

/**
 * Blocks until the database carries this release's migrations. Serving and the scheduler
 * would otherwise run queries against a schema they were not written for, or race the
 * migration Job; waiting keeps them out of the way (a Kubernetes startupProbe gives them time).
 */
async function waitForMigrations(url: string, log: Logger): Promise<void> {
  let nextNotice = 0;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    let summary: string;
    try {
      await client.connect();
      const status = await migrationStatus(client);
      if (status.current) {
        if (nextNotice > 0) log.info("database migrations are current; starting");
        return;
      }
      summary = describeMigrationStatus(status);
    } catch (error) {
      summary = `the database is not reachable (${(error as Error).message.split("\n")[0]})`;
    } finally {
      await client.end().catch(() => undefined);
    }
    if (Date.now() >= nextNotice) {
      log.warn({ status: summary }, `waiting for the database before starting: ${summary}`);
      nextNotice = Date.now() + WAIT_NOTICE_MS;
    }
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
}

async function migrate(config: AppConfig, url: string, log: Logger): Promise<void> {
  const { applyMigrations } = await import("../../lib/db/migrations");
  const { applied } = await applyMigrations(url, { log });
  // Imported after the schema exists: provisioning loads the Prisma client and the demo seed.
  const { disconnectPrisma, getPrisma } = await import("../../lib/db/client");
  const { provisionInstallation } = await import("../shared/install");
  try {
    // The demo model is for trying ModelDeck on one host; an installation asks for it.
    const { admin } = await provisionInstallation(getPrisma(), config, log, {
      seedDemo: process.env.MODELDECK_DEMO === "on",
    });
    log.info({ applied, adminCreated: admin.created }, "migrate finished");
    if (admin.created && admin.generated) {
      process.stdout.write(
        [
          "",
          "  An admin account was created.",
          `    email       ${admin.email}`,
          `    password    ${admin.password}   (shown only this once; keep it)`,
          "",
        ].join("\n") + "\n",
      );
    }
  } finally {
    await disconnectPrisma();
  }
}

async function rotateKeys(config: AppConfig, log: Logger): Promise<void> {
  const { rotateEncryptionKey } = await import("../../lib/crypto/rotation");
  const { disconnectPrisma, getPrisma } = await import("../../lib/db/client");
  try {
    const report = await rotateEncryptionKey(getPrisma(), config);
    log.info(report, "encryption key rotated");
    const lines = [
      `Every stored credential is sealed with key ${report.keyId} (${report.sealed} sealed from clear, ${report.resealed} re-sealed, ${report.unchanged} already current).`,
    ];
    if (report.source === "env") {
      lines.push(
        "Remove MODELDECK_ENCRYPTION_KEY_PREVIOUS from every process and restart them; destroy the old key once backups made before this rotation have expired.",
      );
    } else {
      lines.push(
        `The key file holds the new key: back it up now. The previous key (${report.previousKeyId}) stays in ${report.previousKeyFile} until the next rotation; restart the running processes so they seal with the new key.`,
      );
    }
    process.stdout.write(lines.join("\n") + "\n");
  } finally {
    await disconnectPrisma();
  }
}

/** The configuration, or the process ends with what is wrong in it. */
function loadConfigOrRefuse(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) refuse(error.message);
    throw error;
  }
}

async function main(argv: string[]): Promise<void> {
  const [role, ...rest] = argv;
  if (role === "-h" || role === "--help" || role === "help") {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  if (role === "keys") {
    if (rest.length !== 1 || rest[0] !== "rotate") refuse(USAGE);
    const config = loadConfigOrRefuse();
    if (!config.databaseUrl) {
      refuse(
        "DATABASE_URL is not set. `modeldeck keys rotate` re-seals the credentials stored in the database: point DATABASE_URL at it (see docs/security.md for the embedded database).",
      );
    }
    await rotateKeys(config, createLogger("keys"));
    process.exit(0);
  }
  if (!role || !(ROLES as readonly string[]).includes(role) || rest.length > 0) {
    refuse(role ? `unknown role or extra arguments: ${argv.join(" ")}\n\n${USAGE}` : USAGE);
  }
  const config = loadConfigOrRefuse();
  const url = config.databaseUrl;
  if (!url) {
    refuse(
      `DATABASE_URL is not set. The "${role}" role runs against the PostgreSQL every replica ` +
        "shares: export DATABASE_URL=postgresql://user:password@host:5432/modeldeck. " +
        "(`npm start` runs every role on an embedded database instead.)",
    );
  }
  // What `npm start`'s supervisor gives its children.
  const env = process.env as Record<string, string | undefined>; // NODE_ENV is typed read-only
  env.NODE_ENV ??= "production";
  env.NEXT_TELEMETRY_DISABLED ??= "1";
  const log = createLogger(role);

  if (role === "migrate") {
    await migrate(config, url, log);
    process.exit(0);
  }
  if (role === "web" && !existsSync(path.join(root, ".next", "BUILD_ID"))) {
    refuse("web needs the production build: run `npm run build` first (the image has it).");
  }
  const secret = process.env.MODELDECK_SECRET;
  if (secret !== undefined && secret.length < 32) {
    refuse("MODELDECK_SECRET must be at least 32 characters.");
  }
  // Without it, web reads the secret from the database once it is ready (workers/web/main.ts).
  if (secret && !process.env.BETTER_AUTH_SECRET) process.env.BETTER_AUTH_SECRET = secret;
  if (role !== "web") await waitForMigrations(url, log);
  if (!config.encryption.key) {
    log.warn(
      { keyFile: path.join(config.dataDir, "encryption.key") },
      "MODELDECK_ENCRYPTION_KEY is not set: this process seals and opens stored credentials with the key file in MODELDECK_DATA_DIR. Every replica and the migrate job must use the same key: set MODELDECK_ENCRYPTION_KEY from a Secret (docs/security.md).",
    );
  }
  log.info({ role }, "starting");
  await import(ENTRIES[role as keyof typeof ENTRIES]);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`modeldeck: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
