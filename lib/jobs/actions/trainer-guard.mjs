// Runs an external trainer command for the scheduler and makes sure it cannot outlive it.
// The scheduler starts this script as the leader of a new process group and keeps a pipe to
// its stdin; the trainer runs in the same group. When the pipe closes (the scheduler exited,
// even by kill -9) or a SIGTERM arrives, the whole group is killed, trainer included.
// Usage: node trainer-guard.mjs <command> [args...]; exits with the trainer's exit code.
import { spawn } from "node:child_process";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write("trainer-guard: no command given\n");
  process.exit(2);
}

const killGroup = (signal) => {
  try {
    process.kill(0, signal);
  } catch {
    // the group is gone already
  }
};

const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
child.on("error", (error) => {
  process.stderr.write(`trainer-guard: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on("exit", (code, signal) => {
  process.exit(code ?? 128 + (signal === "SIGKILL" ? 9 : 15));
});

process.stdin.on("data", () => undefined);
process.stdin.on("end", () => killGroup("SIGKILL"));
process.stdin.on("close", () => killGroup("SIGKILL"));
process.stdin.on("error", () => killGroup("SIGKILL"));
process.on("SIGTERM", () => {
  child.kill("SIGTERM");
  setTimeout(() => killGroup("SIGKILL"), 3000).unref();
});
