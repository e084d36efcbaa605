/**
 * Prisma migrations without the native engine (see lib/db/migrations.ts).
 *
 *   npm run db:migrate                       apply pending migrations to DATABASE_URL
 *   npm run db:migration:new -- <name>       write prisma/migrations/<timestamp>_<name>/
 *   npm run db:migration:new -- <name> --empty   ... even if the schema has not changed
 *
 * `new` diffs prisma/schema.prisma against what the existing migrations build, in a shadow
 * database on DATABASE_URL's server, or in a throwaway embedded cluster when it is unset.
 */
import { inspect } from "node:util";
import type { DbLogger } from "../lib/db/embedded-postgres";
import { applyMigrations, writeNewMigration } from "../lib/db/migrations";

const verbose = ["debug", "trace"].includes(process.env.MODELDECK_LOG_LEVEL ?? "");

const print = (stream: NodeJS.WriteStream, obj: Record<string, unknown>, msg?: string) => {
  const fields = Object.keys(obj).length ? ` ${inspect(obj, { breakLength: Infinity })}` : "";
  stream.write(`${msg ?? ""}${fields}\n`);
};
const log: DbLogger = {
  info: (obj, msg) => print(process.stderr, obj, msg),
  warn: (obj, msg) => print(process.stderr, obj, `warning: ${msg ?? ""}`),
  error: (obj, msg) => print(process.stderr, obj, `error: ${msg ?? ""}`),
  debug: verbose ? (obj, msg) => print(process.stderr, obj, msg) : undefined,
};

const usage = `usage:
  node --import tsx scripts/migrate.ts deploy
  node --import tsx scripts/migrate.ts new <name> [--empty]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "deploy") {
    const url = process.env.DATABASE_URL;
    if (!url) {
      log.error(
        {},
        "DATABASE_URL is not set. `npm start` applies migrations to the embedded database " +
          "by itself; to migrate another database, set DATABASE_URL.",
      );
      return 2;
    }
    const { applied } = await applyMigrations(url, { log });
    console.log(
      applied.length
        ? `Applied ${applied.length} migration(s):\n${applied.map((n) => `  ${n}`).join("\n")}`
        : "No pending migrations to apply.",
    );
    return 0;
  }
  if (command === "new") {
    const allowEmpty = rest.includes("--empty");
    const names = rest.filter((a) => !a.startsWith("--"));
    if (names.length !== 1) {
      console.error(usage);
      return 2;
    }
    const created = await writeNewMigration(names[0]!, process.env.DATABASE_URL || undefined, {
      log,
      allowEmpty,
    });
    console.log(
      created
        ? `Wrote ${created.file}${created.empty ? " (empty: add your SQL)" : ""}`
        : "The schema matches the existing migrations; nothing written (use --empty for a hand-written migration).",
    );
    return 0;
  }
  console.error(usage);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
