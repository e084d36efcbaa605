import { readFileSync } from "node:fs";
import path from "node:path";

/** What global setup learned about the running app, shared with the specs through a file. */
export type E2EState = {
  baseURL: string;
  servingURL: string;
  adminEmail: string;
  adminPassword: string;
  /** The instance's data directory (artifacts live in <dataDir>/artifacts). */
  dataDir: string;
  /** MODELDECK_MAX_UPLOAD_BYTES of the e2e instance. */
  maxUploadBytes: number;
};

export const artifactsDir = path.resolve(import.meta.dirname, "../.artifacts");
export const stateFile = path.join(artifactsDir, "state.json");
export const adminStorageState = path.join(artifactsDir, "admin.storage.json");
export const screenshotDir = path.join(artifactsDir, "screenshots");

export function readState(): E2EState {
  return JSON.parse(readFileSync(stateFile, "utf8")) as E2EState;
}

/**
 * Ports of the e2e instance. MODELDECK_E2E_PORT_OFFSET shifts them (and the restart spec's),
 * so two checkouts can run their browser tests side by side on one machine. All below Linux's
 * ephemeral range (32768–60999): a database port in it was once taken by a test's outgoing
 * connection just as the browser tests started.
 */
const offset = Number(process.env.MODELDECK_E2E_PORT_OFFSET ?? 0);
export const E2E_PORTS = { web: 3100 + offset, serving: 8100 + offset, db: 25500 + offset };
export const E2E_RESTART_PORTS = { web: 3200 + offset, serving: 8200 + offset, db: 25600 + offset };
/** Clear of the two groups above for offsets up to 400 (checkouts run side by side). */
export const E2E_S3_PORTS = { web: 3700 + offset, serving: 8700 + offset, db: 55200 + offset };
/** The HTTPS instance (tls.spec.ts); clear of the groups above for offsets up to 400. */
export const E2E_TLS_PORTS = { web: 4200 + offset, serving: 9200 + offset, db: 26300 + offset };
