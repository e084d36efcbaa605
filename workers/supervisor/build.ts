import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { Logger } from "../../lib/log";

/** Folders and files whose changes call for a new production build. */
const BUILD_INPUTS = [
  "app",
  "components",
  "lib",
  "prisma/schema.prisma",
  "next.config.ts",
  "postcss.config.mjs",
  "package-lock.json",
];

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (entry.name === "generated" || entry.name.startsWith(".")) continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry.name)));
  }
  return newest;
}

function run(log: Logger, command: string, args: string[], cwd: string): Promise<void> {
  log.info({ command: [command, ...args].join(" ") }, "running");
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

/**
 * "Builds what is not built yet": the Prisma client when missing, and the Next.js production
 * build when there is none or a source file is newer than it.
 */
export async function ensureBuilt(root: string, log: Logger): Promise<void> {
  const generated = path.join(root, "lib/db/generated/client.ts");
  const schemaChanged =
    newestMtime(path.join(root, "prisma/schema.prisma")) > newestMtime(generated);
  if (!existsSync(generated) || schemaChanged) {
    await run(log, process.execPath, ["scripts/prisma-generate.mjs"], root);
  }
  const buildId = path.join(root, ".next/BUILD_ID");
  const builtAt = newestMtime(buildId);
  const sourcesAt = Math.max(...BUILD_INPUTS.map((p) => newestMtime(path.join(root, p))));
  if (builtAt === 0 || sourcesAt > builtAt) {
    log.info(
      builtAt === 0
        ? "no production build yet; building (about a minute)"
        : "sources changed since the last build; rebuilding",
    );
    await run(
      log,
      process.execPath,
      [path.join(root, "node_modules/next/dist/bin/next"), "build"],
      root,
    );
  }
}
