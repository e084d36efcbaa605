import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "@playwright/test";
import { freshDataDir, removeDataDir, startApp } from "./support/app";
import {
  adminStorageState,
  artifactsDir,
  E2E_PORTS,
  screenshotDir,
  stateFile,
  type E2EState,
} from "./support/state";

/**
 * Starts the whole app from scratch (fresh data directory, embedded Postgres, production
 * build) the way the README's Quick start does, and keeps the printed admin password.
 */
/** Small enough that the oversize test is quick; the real ONNX fixtures are about 2 MB. */
const E2E_MAX_UPLOAD_BYTES = 8 * 1024 * 1024;

export default async function globalSetup() {
  mkdirSync(screenshotDir, { recursive: true });
  const dataDir = freshDataDir("e2e");
  // A per-address request ceiling below the default 30/60, so rate-limit.spec.ts reaches it
  // quickly; still room for the journeys' own sign-ins.
  const app = await startApp({
    ports: E2E_PORTS,
    dataDir,
    env: {
      MODELDECK_SIGNIN_RATE_LIMIT: "20/60",
      MODELDECK_MAX_UPLOAD_BYTES: String(E2E_MAX_UPLOAD_BYTES),
      // Alert rules judged every 3 s (default 15), so the alerts journey sees pending → firing quickly.
      MODELDECK_ALERT_EVALUATION_SECONDS: "3",
      // The journeys' webhook receivers listen on loopback, which the outbound-request policy
      // refuses unless an operator admits it.
      MODELDECK_OUTBOUND_ALLOW: "127.0.0.1",
    },
  });
  if (!app.adminPassword) {
    await app.stop();
    throw new Error(`The first start did not print an admin password. Output:\n${app.output()}`);
  }
  const state: E2EState = {
    baseURL: app.baseURL,
    servingURL: app.servingURL,
    adminEmail: app.adminEmail,
    adminPassword: app.adminPassword,
    dataDir,
    maxUploadBytes: E2E_MAX_UPLOAD_BYTES,
  };
  mkdirSync(artifactsDir, { recursive: true });
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  writeFileSync(`${artifactsDir}/app-start.log`, app.output());

  // One signed-in admin session for specs that are not about signing in.
  const api = await request.newContext({ baseURL: app.baseURL });
  const res = await api.post("/api/auth/sign-in/email", {
    data: { email: app.adminEmail, password: app.adminPassword },
    headers: { origin: app.baseURL },
  });
  if (!res.ok()) throw new Error(`Admin sign-in failed: ${res.status()} ${await res.text()}`);
  await api.storageState({ path: adminStorageState });
  await api.dispose();

  return async () => {
    await app.stop();
    writeFileSync(`${artifactsDir}/app.log`, app.output());
    removeDataDir(dataDir);
  };
}
