import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Starts ModelDeck exactly as a newcomer does (`npm start`) on its own ports and a fresh
 * data directory, and reads what it prints: the one-time admin password and the ready line.
 */
export type AppPorts = { web: number; serving: number; db: number };

export type RunningApp = {
  baseURL: string;
  servingURL: string;
  dataDir: string;
  adminEmail: string;
  adminPassword: string | undefined;
  output: () => string;
  process: ChildProcess;
  stop: () => Promise<void>;
  kill9: () => Promise<void>;
};

const repoRoot = path.resolve(import.meta.dirname, "../..");

export function freshDataDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `modeldeck-${label}-`));
  // mkdtemp makes it 0700; the embedded PostgreSQL runs as the postgres user and must traverse it.
  chmodSync(dir, 0o755);
  return dir;
}

export async function startApp(opts: {
  ports: AppPorts;
  dataDir: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<RunningApp> {
  const { ports, dataDir } = opts;
  // The developer's own database and admin settings must not leak into a test instance.
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  delete inherited.MODELDECK_ADMIN_PASSWORD;
  delete inherited.MODELDECK_BOOTSTRAP_TOKEN;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    MODELDECK_DATA_DIR: dataDir,
    MODELDECK_WEB_PORT: String(ports.web),
    MODELDECK_SERVING_PORT: String(ports.serving),
    // Checkouts run their browser tests side by side; none of them speaks gRPC.
    MODELDECK_GRPC_PORT: "off",
    MODELDECK_DB_PORT: String(ports.db),
    MODELDECK_HOST: "127.0.0.1",
    NEXT_TELEMETRY_DISABLED: "1",
    ...opts.env,
  };

  // detached: its own process group, so kill9() can hit `npm start` alone, like a user would.
  const child = spawn("npm", ["start", "--silent"], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );

  const deadline = Date.now() + (opts.timeoutMs ?? 240_000);
  while (!out.includes("ModelDeck is running")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `ModelDeck did not start (exit ${child.exitCode}). Output:\n${out.slice(-4000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 100));
  const password = /^\s+password\s+(\S+)\s+\(shown only this once/m.exec(out)?.[1];
  const email = /^\s+email\s+(\S+)$/m.exec(out)?.[1] ?? "admin@modeldeck.local";

  const waitForProcessGroupExit = async (timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const scheme = env.MODELDECK_TLS_CERT ? "https" : "http";
  return {
    baseURL: `${scheme}://127.0.0.1:${ports.web}`,
    servingURL: `${scheme}://127.0.0.1:${ports.serving}`,
    dataDir,
    adminEmail: email,
    adminPassword: password,
    output: () => out,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        // What Ctrl-C does: SIGINT to the whole foreground process group.
        process.kill(-child.pid!, "SIGINT");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      }
      await waitForProcessGroupExit(30_000);
    },
    async kill9() {
      process.kill(child.pid!, "SIGKILL");
      await exited;
    },
  };
}

export function removeDataDir(dir: string) {
  rmSync(dir, { recursive: true, force: true });
}
