// Prisma 7 reads this file for every CLI command. `env()` from prisma/config throws when
// DATABASE_URL is unset, which would break `prisma generate` on a machine with no database,
// so the URL is read leniently: migrations are applied by scripts/migrate.ts instead.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost/modeldeck" },
});
