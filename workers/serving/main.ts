import http from "node:http";
import { createCachedTokenVerifier } from "../../lib/auth/tokens";
import { getConfig } from "../../lib/config";
import { getPrisma } from "../../lib/db/client";
import { createLogger } from "../../lib/log";
import { startHeartbeat } from "../../lib/system/heartbeat";
import { announceReady, onShutdown } from "../shared/lifecycle";

/**
 * The serving process (data plane). This is its skeleton: Open Inference Protocol health and
 * server metadata, token authentication, and a heartbeat; model loading, batching and
 * inference arrive with the serving issue.
 */
const log = createLogger("serving");
const config = getConfig();
const db = getPrisma();
const verifyToken = createCachedTokenVerifier(db);
const authRequired = process.env.MODELDECK_SERVING_AUTH !== "off";
const startedAt = Date.now();

type Reply = { status: number; body: unknown };

function send(res: http.ServerResponse, { status, body }: Reply) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

async function authorised(req: http.IncomingMessage): Promise<Reply | null> {
  if (!authRequired) return null;
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match)
    return {
      status: 401,
      body: { error: "Send an API token as `Authorization: Bearer <token>`." },
    };
  const token = await verifyToken(match[1]!);
  return token
    ? null
    : { status: 401, body: { error: "The API token is invalid, expired or revoked." } };
}

async function route(req: http.IncomingMessage): Promise<Reply> {
  const url = new URL(req.url ?? "/", "http://serving");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  // Probes and scrapers stay open (see README: restrict them at the network level if needed).
  if (req.method === "GET" && path === "/v2/health/live")
    return { status: 200, body: { live: true } };
  if (req.method === "GET" && path === "/v2/health/ready")
    return { status: 200, body: { ready: true } };
  const denied = await authorised(req);
  if (denied) return denied;
  if (req.method === "GET" && path === "/v2") {
    return { status: 200, body: { name: "modeldeck", version: "0.1.0", extensions: [] } };
  }
  return { status: 404, body: { error: `No route for ${req.method} ${path}.` } };
}

const server = http.createServer((req, res) => {
  route(req)
    .then((reply) => send(res, reply))
    .catch((error: unknown) => {
      log.error({ err: error, url: req.url }, "request failed");
      send(res, { status: 500, body: { error: "Internal error; it has been logged." } });
    });
});

await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen(config.servingPort, config.host, resolve);
});
const heartbeat = startHeartbeat(
  db,
  "serving",
  () => ({
    url: `http://${config.host}:${config.servingPort}`,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
  }),
  (error) => log.warn({ err: error }, "heartbeat failed"),
);
log.info({ url: `http://${config.host}:${config.servingPort}`, authRequired }, "serving listening");
announceReady({ port: config.servingPort });

onShutdown(log, async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await heartbeat.stop();
  await db.$disconnect();
});
