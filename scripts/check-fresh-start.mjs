#!/usr/bin/env node
/**
 * The Quick start's first command, tried as a newcomer would: clone this repository into an
 * empty directory, run `npm ci && npm start` there with nothing else prepared, wait until the
 * app is healthy, make one prediction on the demo model and one management call, then press
 * Ctrl-C (SIGINT to the command's process group) and check that every process it started has
 * exited within 30 s. CI runs this before the test suite, so a start that only works after an
 * earlier build or test run fails here.
 *
 *   node scripts/check-fresh-start.mjs "<start command>" [repository]
 *   node scripts/check-fresh-start.mjs "<start command>" --in <fresh clone>
 *
 * The start command must be the first command of the README's Quick start (checked), so CI
 * proves exactly what a newcomer types. The repository defaults to this checkout; with
 * `--in`, the caller has made the fresh clone (CI does, in .ci/run) and it is used as is.
 *
 * Plain Node, no dependencies: it must run before `npm ci`.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HEALTHY_WITHIN_MS = 20 * 60_000; // npm ci + prisma generate + next build on 2 busy cores
const EXIT_WITHIN_MS = 30_000;

const here = path.dirname(fileURLToPath(import.meta.url));
const START_COMMAND = process.argv[2];
const givenClone = process.argv[3] === "--in" ? path.resolve(process.argv[4] ?? "") : null;
const source = givenClone ?? process.argv[3] ?? path.resolve(here, "..");
const say = (line) => process.stdout.write(`[fresh-start] ${line}\n`);

/** The first command of the README's Quick start (the first line of its first sh block). */
function quickStartCommand() {
  const readme = readFileSync(path.join(source, "README.md"), "utf8");
  const block = /## Quick start[\s\S]*?```sh\n([^\n]*)/.exec(readme)?.[1] ?? "";
  return block.replace(/\s+#.*$/, "").trim();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Every live descendant of `root` (children, grandchildren, ...), from /proc. */
function descendants(root) {
  const parentOf = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const found = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!found.has(pid) && found.has(ppid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  found.delete(root);
  return [...found];
}

function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim().slice(0, 100);
  } catch {
    return "";
  }
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    // A zombie has exited; only its parent has not collected it yet.
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

async function request(url, init = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, text };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const readmeCommand = quickStartCommand();
  if (!START_COMMAND || START_COMMAND !== readmeCommand) {
    throw new Error(
      `the start command to prove ("${START_COMMAND ?? ""}") is not the README's Quick start ` +
        `command ("${readmeCommand}")`,
    );
  }
  // Under the OS temp dir and world-traversable: the embedded PostgreSQL runs as the
  // `postgres` user when this runs as root, and must reach its data directory in the clone.
  const workdir = givenClone
    ? path.dirname(givenClone)
    : mkdtempSync(path.join(os.tmpdir(), "modeldeck-fresh-"));
  chmodSync(workdir, 0o755);
  const clone = givenClone ?? path.join(workdir, "modeldeck");
  if (givenClone) {
    const status = execFileSync("git", ["-C", clone, "status", "--porcelain", "--ignored"]);
    if (status.length) throw new Error(`${clone} is not a fresh clone:\n${status}`);
  } else {
    say(`git clone ${source} ${clone}`);
    execFileSync("git", ["clone", "--quiet", source, clone], { stdio: "inherit" });
  }
  const head = execFileSync("git", ["-C", clone, "rev-parse", "--short", "HEAD"]).toString().trim();

  const [web, serving, grpc, db] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const token = `mdk_${randomBytes(24).toString("hex")}`;
  const env = {
    ...process.env,
    MODELDECK_WEB_PORT: String(web),
    MODELDECK_SERVING_PORT: String(serving),
    MODELDECK_GRPC_PORT: String(grpc),
    MODELDECK_DB_PORT: String(db),
    MODELDECK_BOOTSTRAP_TOKEN: token,
  };
  delete env.DATABASE_URL; // the embedded database, as a newcomer gets it
  delete env.MODELDECK_DATA_DIR;
  say(
    `in ${clone} (commit ${head}), ports web ${web} serving ${serving} database ${db}, ` +
      `a bootstrap token set: ${START_COMMAND}`,
  );

  const started = Date.now();
  const child = spawn("bash", ["-c", START_COMMAND], {
    cwd: clone,
    env,
    detached: true, // its own process group, like a terminal's foreground job
    stdio: ["ignore", "pipe", "pipe"],
  });
  let exited = null;
  child.once("exit", (code, signal) => (exited = { code, signal }));
  const output = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream.on("data", (chunk) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop();
      for (const line of lines) {
        output.push(line);
        process.stdout.write(`  | ${line}\n`);
      }
    });
  }

  let failure;
  try {
    const base = `http://127.0.0.1:${web}`;
    const auth = { authorization: `Bearer ${token}` };
    let health;
    while (Date.now() - started < HEALTHY_WITHIN_MS) {
      if (exited) throw new Error(`the start command exited early (${JSON.stringify(exited)})`);
      health = await request(`${base}/api/health`).catch(() => undefined);
      if (health?.status === 200) {
        const components = JSON.parse(health.text).components ?? {};
        const up = (name) => components[name]?.status === "up";
        if (["database", "web", "serving", "scheduler"].every(up)) break;
      }
      await sleep(2000);
    }
    if (health?.status !== 200) throw new Error("GET /api/health never answered 200");
    if (Date.now() - started >= HEALTHY_WITHIN_MS)
      throw new Error(`not every component was up within ${HEALTHY_WITHIN_MS / 60_000} min`);
    say(`healthy after ${Math.round((Date.now() - started) / 1000)} s: GET /api/health → 200`);
    say(`  ${health.text}`);

    const body = JSON.stringify({
      inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }],
    });
    let prediction;
    // Serving answers once it has loaded the demo's production version.
    for (let i = 0; i < 30; i++) {
      prediction = await request(`http://127.0.0.1:${serving}/v2/models/iris-classifier/infer`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body,
      });
      if (prediction.status === 200) break;
      await sleep(1000);
    }
    say(`POST /v2/models/iris-classifier/infer → ${prediction.status}`);
    say(`  ${prediction.text}`);
    if (prediction.status !== 200) throw new Error("the demo model did not answer a prediction");

    const models = await request(`${base}/api/v1/models`, { headers: auth });
    say(`GET /api/v1/models → ${models.status}`);
    say(`  ${models.text.slice(0, 400)}${models.text.length > 400 ? " …" : ""}`);
    if (models.status !== 200 || !models.text.includes('"iris-classifier"'))
      throw new Error("the management API did not list the demo model");
  } catch (error) {
    failure = error;
  }

  // Ctrl-C: SIGINT to the whole foreground process group, then every process must be gone.
  const before = descendants(child.pid);
  say(`SIGINT to the process group (${before.length + 1} processes)`);
  const stopAt = Date.now();
  try {
    process.kill(-child.pid, "SIGINT");
  } catch {
    // Already gone.
  }
  const everyone = [child.pid, ...before];
  while (everyone.some(alive) && Date.now() - stopAt < EXIT_WITHIN_MS) await sleep(200);
  const left = everyone.filter(alive);
  if (left.length) {
    say(`still running ${EXIT_WITHIN_MS / 1000} s after SIGINT:`);
    for (const pid of left) say(`  ${pid} ${commandOf(pid)}`);
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    failure ??= new Error(`${left.length} process(es) did not exit within 30 s of SIGINT`);
  } else {
    say(
      `every process exited ${((Date.now() - stopAt) / 1000).toFixed(1)} s after SIGINT ` +
        `(start command: ${exited ? JSON.stringify(exited) : "gone"})`,
    );
  }
  const warnings = output.filter((l) => /\bwarn(ing)?\b|deprecat|"level":[456]0/i.test(l));
  if (warnings.length) {
    say(`${warnings.length} line(s) of the output are warnings or errors:`);
    for (const line of warnings) say(`  ${line.length > 300 ? `${line.slice(0, 300)} …` : line}`);
  }
  rmSync(workdir, { recursive: true, force: true });
  if (failure) {
    say(`FAILED: ${failure.message}`);
    process.exit(1);
  }
  say("passed: a fresh clone starts with the Quick start command, serves, and stops cleanly");
}

main().catch((error) => {
  say(`FAILED: ${error.stack ?? error}`);
  process.exit(1);
});
