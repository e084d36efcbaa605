import http from "node:http";
import type { PrismaClient } from "../db/generated/client";
import {
  describeMigrationStatus,
  migrationStatus,
  type MigrationStatus,
  type SqlQueryable,
} from "../db/migration-status";

/**
 * Liveness and readiness probes of one process (Kubernetes `livenessProbe` / `readinessProbe`).
 *
 *   GET /livez    200 while the process runs and its event loop answers; nothing else checked,
 *                 so a database outage never gets a healthy pod restarted.
 *   GET /readyz   200 when the role can do its work, else 503; the JSON body says what is and
 *                 is not ready.
 *
 * Serving answers the same paths from lib/serving/server.ts (its readiness is the router's).
 */
export const LIVENESS_PATH = "/livez";
export const READINESS_PATH = "/readyz";

export type Readiness = { ready: boolean } & Record<string, unknown>;

/** A readiness check must not hang a probe: past this, it counts as not ready. */
const CHECK_TIMEOUT_MS = 2_000;

export function livenessBody(role: string): Record<string, unknown> {
  return { live: true, role, pid: process.pid, uptimeSeconds: Math.round(process.uptime()) };
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Answers /livez and /readyz on a server the process already runs; returns false for any
 * other request so the caller handles it.
 */
export function handleProbe(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  role: string,
  readiness: () => Promise<Readiness>,
): boolean {
  const path = (req.url ?? "").split("?")[0];
  if (path !== LIVENESS_PATH && path !== READINESS_PATH) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendJson(res, 405, {
      error: { code: "method_not_allowed", message: "Use GET.", details: {} },
    });
    return true;
  }
  if (path === LIVENESS_PATH) {
    sendJson(res, 200, livenessBody(role));
    return true;
  }
  withTimeout(readiness(), "the readiness check")
    .catch((error: unknown) => ({
      ready: false,
      error: error instanceof Error ? error.message.split("\n")[0] : String(error),
    }))
    .then((body) => sendJson(res, body.ready ? 200 : 503, { role, ...body }));
  return true;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

/** A listener that answers only the probes (for roles without an HTTP server: the scheduler). */
export async function startProbeServer(opts: {
  role: string;
  host: string;
  port: number;
  readiness: () => Promise<Readiness>;
}): Promise<{ close(): Promise<void>; port: number }> {
  const server = http.createServer((req, res) => {
    if (!handleProbe(req, res, opts.role, opts.readiness)) {
      sendJson(res, 404, {
        error: {
          code: "not_found",
          message: `Only ${LIVENESS_PATH} and ${READINESS_PATH} are served here.`,
          details: {},
        },
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : opts.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Prisma as the small query interface lib/db/migration-status.ts reads through. */
export function prismaQueryable(db: PrismaClient): SqlQueryable {
  return {
    query: async <R>(sql: string) => ({ rows: await db.$queryRawUnsafe<R[]>(sql) }),
  };
}

export type DatabaseReadiness = {
  database: { status: "up" | "down"; latencyMs?: number; error?: string };
  migrations?: MigrationStatus & { summary: string };
};

/**
 * The database answers, and (unless `migrations: false`) carries this code's migrations: the
 * part of readiness web and the scheduler share.
 */
export async function checkDatabaseReadiness(
  db: PrismaClient,
  opts: { migrations: boolean } = { migrations: true },
): Promise<{ ready: boolean } & DatabaseReadiness> {
  const start = performance.now();
  try {
    await db.$queryRaw`SELECT 1`;
  } catch (error) {
    return {
      ready: false,
      database: { status: "down", error: (error as Error).message.split("\n")[0] },
    };
  }
  const database = {
    status: "up" as const,
    latencyMs: Math.round((performance.now() - start) * 10) / 10,
  };
  if (!opts.migrations) return { ready: true, database };
  const status = await migrationStatus(prismaQueryable(db));
  return {
    ready: status.current,
    database,
    migrations: { ...status, summary: describeMigrationStatus(status) },
  };
}
