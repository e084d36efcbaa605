import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { CLIENT_IP_HEADER, REQUEST_PATH_HEADER } from "../../lib/auth/auth";
import { getConfig } from "../../lib/config";
import { getPrisma } from "../../lib/db/client";
import { createLogger } from "../../lib/log";
import { prestartEvaluationChild, stopEvaluationChildren } from "../../lib/evaluation/runner";
import { checkDatabaseReadiness, handleProbe, type Readiness } from "../../lib/system/probes";
import { ensureAuthSecret } from "../../lib/system/instance";
import { createListener, HSTS_HEADER_VALUE, loadTlsMaterial } from "../../lib/system/tls";
import { announceReady, onShutdown } from "../shared/lifecycle";

/**
 * The web process: Next.js (dashboard + /api) behind a plain node:http server. We own the
 * server so that (a) the client address better-auth rate-limits on comes from the socket, not
 * from a header anyone can set, and (b) the process exits when the supervisor dies.
 */
const log = createLogger("web");
const config = getConfig();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function clientAddress(req: http.IncomingMessage): string {
  if (config.trustProxy) {
    const forwarded = req.headers["x-forwarded-for"];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? "";
}

/**
 * Ready when the database answers and carries this release's migrations (web never migrates:
 * `modeldeck migrate` does). Started as a single role without MODELDECK_SECRET, web learns the
 * session secret from the database once its table exists.
 */
async function readiness(): Promise<Readiness> {
  const db = getPrisma();
  const check = await checkDatabaseReadiness(db);
  if (check.ready && !process.env.BETTER_AUTH_SECRET) {
    process.env.BETTER_AUTH_SECRET = await ensureAuthSecret(db, process.env.MODELDECK_SECRET);
  }
  return check;
}

// Read before Next.js starts: a bad certificate path stops the start with a clear message.
const tls = loadTlsMaterial(config);

const app = next({ dev: false, dir: root, hostname: config.host, port: config.webPort });
const handle = app.getRequestHandler();
await app.prepare();

const server = createListener(tls, {}, (req, res) => {
  // Over TLS, browsers are told to keep to HTTPS for this host.
  if (tls) res.setHeader("strict-transport-security", HSTS_HEADER_VALUE);
  // Probes answer before Next.js: liveness must not depend on the app's own machinery.
  if (handleProbe(req, res, "web", readiness)) return;
  req.headers[CLIENT_IP_HEADER] = clientAddress(req);
  // Lets layouts send a signed-out visitor back to the page they asked for after sign-in.
  req.headers[REQUEST_PATH_HEADER] = req.url ?? "/";
  handle(req, res).catch((error: unknown) => {
    log.error({ err: error, url: req.url }, "request failed");
    if (!res.headersSent) res.writeHead(500).end();
  });
});
server.keepAliveTimeout = 65_000;

await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen(config.webPort, config.host, resolve);
});
log.info({ url: `${tls ? "https" : "http"}://${config.host}:${config.webPort}` }, "web listening");
announceReady({ url: config.publicUrl });
// Learn the session secret now rather than at the first probe, for runs without probes.
if (!process.env.BETTER_AUTH_SECRET) {
  void readiness().catch((error: unknown) =>
    log.warn({ err: error }, "not ready yet; /readyz says why"),
  );
}
// Evaluations here take a child started ahead of need (lib/evaluation/runner.ts).
void prestartEvaluationChild();

onShutdown(log, async () => {
  stopEvaluationChildren();
  // Stop accepting; requests in flight get a few seconds, idle keep-alive sockets none.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cutOff = setTimeout(() => server.closeAllConnections(), 8_000);
  await closed;
  clearTimeout(cutOff);
  log.info("web server closed");
  await app.close();
  log.info("next app closed");
});
