import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "../../lib/log";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One supervisor per data directory. A previous supervisor that is still shutting down
 * (e.g. its npm parent was killed and it is stopping on its own) is waited for; processes
 * left behind by one that was SIGKILLed are cleaned up.
 */
export async function acquireRunLock(dataDir: string, log: Logger) {
  const runDir = path.join(dataDir, "run");
  mkdirSync(runDir, { recursive: true });
  const lockFile = path.join(runDir, "supervisor.pid");
  const childrenFile = path.join(runDir, "children.json");

  for (let waited = 0; existsSync(lockFile); waited += 500) {
    const pid = Number(readFileSync(lockFile, "utf8").trim());
    const running =
      pid > 0 && pid !== process.pid && isAlive(pid) && commandLine(pid).includes("supervisor");
    if (!running) break;
    if (waited >= 20_000) {
      throw new Error(
        `ModelDeck is already running from this data directory (supervisor pid ${pid}). Stop it first, or set MODELDECK_DATA_DIR to another directory.`,
      );
    }
    if (waited === 0)
      log.warn({ pid }, "a previous ModelDeck supervisor is still running; waiting for it to exit");
    await sleep(500);
  }

  // Children of a supervisor that died by SIGKILL exit when their IPC channel closes; this
  // catches any that could not (e.g. stuck in a long synchronous task).
  if (existsSync(childrenFile)) {
    try {
      const pids = JSON.parse(readFileSync(childrenFile, "utf8")) as number[];
      for (const pid of pids) {
        if (isAlive(pid) && commandLine(pid).includes("workers/")) {
          log.warn({ pid }, "stopping a worker left over from a previous run");
          process.kill(pid, "SIGKILL");
        }
      }
    } catch {
      // unreadable leftovers are not worth failing the start for
    }
  }

  writeFileSync(lockFile, String(process.pid));
  return {
    recordChildren(pids: number[]) {
      writeFileSync(childrenFile, JSON.stringify(pids));
    },
    release() {
      rmSync(lockFile, { force: true });
      rmSync(childrenFile, { force: true });
    },
  };
}
