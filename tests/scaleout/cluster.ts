/**
 * A ModelDeck installation of several processes per role on loopback ports, the way a
 * Kubernetes Deployment of each role would run them: one PostgreSQL (the test run's), one
 * S3-compatible server, and web / serving / scheduler processes that share nothing else.
 *
 * Artifacts live in the bucket: every process gets the bucket's variables and a data
 * directory of its own (its artifact cache inside), as separate pods would.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { findFreePort } from "../../lib/db/embedded-postgres";
import { spawnWorker, type WorkerProcess } from "../integration/helpers/worker";
import type { S3TestServer } from "../support/s3-server";

export type Role = "web" | "serving" | "scheduler";

export type RoleProcess = WorkerProcess & {
  name: string;
  role: Role;
  /** `http://127.0.0.1:<port>` for web and serving; "" for a scheduler. */
  url: string;
  dataDir: string;
  /** Its artifact cache directory. */
  cacheDir: string;
};

export class Cluster {
  readonly processes: RoleProcess[] = [];

  constructor(
    private readonly opts: {
      databaseUrl: string;
      s3: S3TestServer;
      /** Shared by every process (web sessions and serving's "try it" key depend on it). */
      authSecret: string;
      root: string;
    },
  ) {}

  static async create(opts: {
    databaseUrl: string;
    s3: S3TestServer;
    authSecret: string;
  }): Promise<Cluster> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-cluster-"));
    return new Cluster({ ...opts, root });
  }

  /** Every process's data directory. */
  dataDirs(): string[] {
    return this.processes.map((p) => p.dataDir);
  }

  private async dataDirFor(name: string): Promise<string> {
    const dir = path.join(this.opts.root, name);
    await fs.mkdir(path.join(dir, "imports", "incoming"), { recursive: true });
    return dir;
  }

  async start(role: Role, name: string, env: Record<string, string> = {}): Promise<RoleProcess> {
    const dataDir = await this.dataDirFor(name);
    const cacheDir = path.join(dataDir, "cache", name);
    const port = role === "scheduler" ? 0 : await findFreePort();
    const url = port ? `http://127.0.0.1:${port}` : "";
    const common: Record<string, string> = {
      ...this.opts.s3.env,
      MODELDECK_ARTIFACT_CACHE_DIR: cacheDir,
      DATABASE_URL: this.opts.databaseUrl,
      BETTER_AUTH_SECRET: this.opts.authSecret,
      MODELDECK_DATA_DIR: dataDir,
      MODELDECK_HOST: "127.0.0.1",
      MODELDECK_EMBEDDED_DB: "0",
      MODELDECK_LOG_LEVEL: "info",
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
    };
    // Each process is started as a container would run it: `modeldeck <role>` (bin/modeldeck
    // execs workers/roles/main.ts), ready when its /readyz says so.
    const asRole = { entry: "workers/roles/main.ts", args: [role], name, timeoutMs: 120_000 };
    let worker: WorkerProcess;
    if (role === "web") {
      worker = await spawnWorker({
        ...asRole,
        env: { ...common, MODELDECK_WEB_PORT: String(port), ...env },
        ready: () => httpOk(`${url}/readyz`),
      });
    } else if (role === "serving") {
      worker = await spawnWorker({
        ...asRole,
        env: {
          ...common,
          MODELDECK_SERVING_PORT: String(port),
          MODELDECK_GRPC_PORT: "off",
          MODELDECK_SERVING_RECONCILE_SECONDS: "5",
          ...env,
        },
        ready: () => httpOk(`${url}/readyz`),
      });
    } else {
      const health = `http://127.0.0.1:${await findFreePort()}`;
      worker = await spawnWorker({
        ...asRole,
        env: {
          ...common,
          MODELDECK_SCHEDULER_HEALTH_PORT: health.split(":").at(-1)!,
          MODELDECK_JOB_POLL_SECONDS: "0.5",
          MODELDECK_SCHEDULER_RESYNC_SECONDS: "2",
          ...env,
        },
        ready: () => httpOk(`${health}/readyz`),
      });
    }
    const proc: RoleProcess = { ...worker, name, role, url, dataDir, cacheDir };
    this.processes.push(proc);
    return proc;
  }

  get(name: string): RoleProcess {
    const p = this.processes.find((x) => x.name === name);
    if (!p) throw new Error(`no process ${name}`);
    return p;
  }

  /** The instance id a process's log names (serving and scheduler heartbeats use it). */
  instanceIdOf(name: string): string | undefined {
    return /"instanceId":"([^"]+)"/.exec(this.get(name).output())?.[1];
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop("SIGKILL")));
    await fs.rm(this.opts.root, { recursive: true, force: true });
  }
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Every file under `dir` (absolute paths); empty when it does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
