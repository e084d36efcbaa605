/**
 * The ModelDeck case of the serving benchmark: the real serving process
 * (workers/serving/main.ts) with everything on that production has on — token auth,
 * validation against the signature, dynamic batching at its defaults, Prometheus metrics —
 * and the prediction log on ("modeldeck") or off ("modeldeck-nolog").
 *
 * Each case gets a database of its own (embedded PostgreSQL under opts.workDir, migrated),
 * the model registered through the registry's own code and promoted to production, and an
 * API token. The setup is outside the measured time.
 */
import { spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { SYSTEM_ACTOR } from "../../lib/audit";
import { createApiToken } from "../../lib/auth/tokens";
import { findFreePort, startEmbeddedPostgres, type DbLogger } from "../../lib/db/embedded-postgres";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../../lib/db/generated/client";
import { applyMigrations } from "../../lib/db/migrations";
import { createModel, setAlias } from "../../lib/registry";
import { registerVersionBytes } from "../../lib/registry/upload";
import { LocalArtifactStore } from "../../lib/storage";
import type { Target, TargetOptions } from "./models";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const quiet: DbLogger = { info: () => {}, warn: () => {}, error: (o, m) => console.error(m, o) };

/**
 * A case's own database: embedded PostgreSQL in a fresh directory, migrated, the model
 * registered as version 1; `more` runs on it before the client disconnects. `stop` stops the
 * database and removes the directory (also done here if setting up fails).
 */
async function startCaseDatabase<T>(opts: TargetOptions, more: (db: PrismaClient) => Promise<T>) {
  // The embedded PostgreSQL runs as the postgres user, who must be able to traverse every
  // parent of its data directory; the runner's scratch directory (mode 700) is not.
  const dataDir = await mkdtemp(path.join(tmpdir(), "modeldeck-bench-"));
  await chmod(dataDir, 0o755);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, "postgres"),
    port: await findFreePort(),
    log: quiet,
    settings: { fsync: "off", synchronous_commit: "off" },
  });
  const stop = async () => {
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await applyMigrations(pg.connectionString, { log: quiet });
    const db = new PrismaClient({
      adapter: new PrismaPg({ connectionString: pg.connectionString }),
    });
    try {
      const store = new LocalArtifactStore({ root: path.join(dataDir, "artifacts") });
      const model = await createModel(db, SYSTEM_ACTOR, {
        name: opts.model.name,
        task: "classification",
      });
      const version = await registerVersionBytes(
        db,
        store,
        SYSTEM_ACTOR,
        await readFile(opts.model.path),
        { modelName: opts.model.name, lineage: { kind: "upload" } },
      );
      const extra = await more(db);
      return { pg, dataDir, stop, modelId: model.id, versionId: version.id, extra };
    } finally {
      await db.$disconnect();
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function startModelDeckTarget(opts: TargetOptions): Promise<Target> {
  const base = await startCaseDatabase(opts, async (db) => {
    await setAlias(
      db,
      { ...SYSTEM_ACTOR, role: "admin" },
      { modelName: opts.model.name, alias: "production", version: 1 },
    );
    return (await createApiToken(db, SYSTEM_ACTOR, { name: "bench", role: "viewer" })).secret;
  });
  const { pg, dataDir, extra: secret } = base;
  try {
    const port = await findFreePort();
    const grpcPort = opts.grpc ? await findFreePort() : null;
    // BENCH_SERVING_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.
    const nodeArgs = process.env.BENCH_SERVING_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
    const child = spawn(
      process.execPath,
      [...nodeArgs, "--import", "tsx", "workers/serving/main.ts"],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          DATABASE_URL: pg.connectionString,
          MODELDECK_DATA_DIR: dataDir,
          MODELDECK_HOST: opts.host,
          MODELDECK_SERVING_PORT: String(port),
          MODELDECK_GRPC_PORT: grpcPort === null ? "off" : String(grpcPort),
          MODELDECK_PREDICTION_LOG: opts.logging ? "on" : "off",
          MODELDECK_LOG_LEVEL: "warn",
          NODE_ENV: "production",
        },
        // BENCH_SERVING_STDOUT=inherit shows the server's stdout (e.g. with --trace-gc).
        stdio: [
          "ignore",
          process.env.BENCH_SERVING_STDOUT === "inherit" ? "inherit" : "ignore",
          "inherit",
        ],
      },
    );
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const baseUrl = `http://${opts.host}:${port}`;
    const headers = { authorization: `Bearer ${secret}` };
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`serving exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error("serving did not load the model within 60 s");
      const ready = await fetch(`${baseUrl}/v2/models/${opts.model.name}/ready`, { headers })
        .then((r) => r.json() as Promise<{ ready?: boolean }>)
        .then((b) => b.ready === true)
        .catch(() => false);
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      baseUrl,
      headers,
      pid: child.pid!,
      databasePid: pg.pid,
      ...(grpcPort === null ? {} : { grpcAddress: `${opts.host}:${grpcPort}` }),
      async stop() {
        if (child.exitCode === null) child.kill("SIGTERM");
        await exited;
        await base.stop();
      },
    };
  } catch (error) {
    await base.stop();
    throw error;
  }
}

/**
 * The coalescing prototype (coalescing-server.ts) logging every answered request to its own
 * migrated embedded PostgreSQL, as simply as that can be done: the baseline for what the
 * prediction log costs on these cores, measured in the same run.
 */
export async function startLoggedCoalescingTarget(
  opts: TargetOptions,
  startChild: (env: Record<string, string>) => Promise<Target>,
): Promise<Target> {
  const base = await startCaseDatabase(opts, async () => undefined);
  try {
    const target = await startChild({
      COALESCING_LOG_URL: base.pg.connectionString,
      COALESCING_MODEL_ID: base.modelId,
      COALESCING_VERSION_ID: base.versionId,
    });
    return {
      ...target,
      databasePid: base.pg.pid,
      async stop() {
        await target.stop();
        await base.stop();
      },
    };
  } catch (error) {
    await base.stop();
    throw error;
  }
}
