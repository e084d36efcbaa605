import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../lib/config";
import { createLogger } from "../../lib/log";
import { gracefulStopBudgetMs } from "../../lib/serving/http-server";
import { trustBundleForChildren } from "../../lib/system/tls";
import { ensureBuilt } from "./build";
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

    // Imported only now: it loads the Prisma client that ensureBuilt generates on a fresh clone.
    const { provision } = await import("./provision");
    const { databaseUrl, secret, admin } = await provision(config, log, (stop) => {
      stopDatabase = stop;
    });

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      BETTER_AUTH_SECRET: secret,
      MODELDECK_DATA_DIR: config.dataDir,
      MODELDECK_EMBEDDED_DB: config.databaseUrl ? "0" : "1",
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      // With TLS on, web calls serving over HTTPS: it trusts the configured certificate (a
      // self-signed one included) rather than skipping verification.
      NODE_EXTRA_CA_CERTS: trustBundleForChildren(config, process.env.NODE_EXTRA_CA_CERTS),
    };
    const specs = [
      { name: "web", entry: "workers/web/main.ts" },
      {
        name: "serving",
        entry: "workers/serving/main.ts",
        // Its drain (MODELDECK_SERVING_DRAIN_*) decides how long a graceful stop takes; with
        // workers, their primary waits for them a little longer still.
        stopTimeoutMs: gracefulStopBudgetMs(config.serving) + 3_000,
      },
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
      `    serving     ${config.tls ? "https" : "http"}://${config.host}:${config.servingPort}`,
      ...(config.grpcPort === null
        ? []
        : [
            `    gRPC        ${config.host}:${config.grpcPort} (Open Inference Protocol${config.tls ? ", TLS" : ""})`,
          ]),
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
