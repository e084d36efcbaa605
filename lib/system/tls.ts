import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AppConfig } from "../config";

/**
 * Optional TLS for the web and serving listeners (MODELDECK_TLS_CERT / MODELDECK_TLS_KEY). The
 * files are read once at start-up; a missing or unreadable file stops the process with a
 * message naming the variable rather than a bare ENOENT.
 */
export type TlsMaterial = { cert: Buffer; key: Buffer };

/** Browsers remember for a year to use HTTPS only (sent by web when TLS is on). */
export const HSTS_HEADER_VALUE = "max-age=31536000";

export function loadTlsMaterial(config: Pick<AppConfig, "tls">): TlsMaterial | null {
  if (!config.tls) return null;
  return {
    cert: readPem(config.tls.certFile, "MODELDECK_TLS_CERT"),
    key: readPem(config.tls.keyFile, "MODELDECK_TLS_KEY"),
  };
}

function readPem(file: string, variable: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (error) {
    throw new Error(
      `${variable}=${file} cannot be read: ${(error as Error).message}. Point it at a PEM file, or unset MODELDECK_TLS_CERT and MODELDECK_TLS_KEY for plain HTTP.`,
      { cause: error },
    );
  }
  if (!data.includes("-----BEGIN ")) {
    throw new Error(`${variable}=${file} is not a PEM file (no "-----BEGIN" line).`);
  }
  return data;
}

/** A node:http server, or its node:https twin when TLS material is given (same options). */
export function createListener(
  tls: TlsMaterial | null,
  options: http.ServerOptions,
  handler: http.RequestListener,
): http.Server {
  if (!tls) return http.createServer(options, handler);
  // https.Server has every method of http.Server we use (listen, close, closeIdleConnections).
  return https.createServer(
    { ...options, cert: tls.cert, key: tls.key },
    handler,
  ) as unknown as http.Server;
}
