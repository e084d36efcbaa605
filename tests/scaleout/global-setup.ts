/**
 * The multi-replica test's setup: the integration layer's PostgreSQL (one embedded cluster,
 * one migrated database: the `migrate` step, run once before any replica starts) and the
 * Next.js production build the web processes serve (built only when missing or stale).
 */
import path from "node:path";
import type { TestProject } from "vitest/node";
import { createLogger } from "../../lib/log";
import { ensureBuilt } from "../../workers/supervisor/build";
import databaseSetup from "../integration/global-setup";

export default async function setup(project: TestProject) {
  await ensureBuilt(path.resolve(import.meta.dirname, "../.."), createLogger("scaleout-setup"));
  return databaseSetup(project);
}
