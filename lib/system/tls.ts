import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
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

/**
 * The NODE_EXTRA_CA_CERTS value for processes that call this instance's own TLS ports (web
 * calls serving): the configured certificate, added to whatever extra CAs the environment
 * already names (Node reads one file only, so both go into one bundle in the data directory).
 */
export function trustBundleForChildren(
  config: Pick<AppConfig, "tls" | "dataDir">,
  existing: string | undefined,
): string | undefined {
  if (!config.tls) return existing;
  if (!existing) return config.tls.certFile;
  let extra: Buffer;
  try {
    extra = readFileSync(existing);
  } catch {
    return config.tls.certFile; // Node would ignore an unreadable file too (with a warning)
  }
  const bundle = path.join(config.dataDir, "tls-trust.pem");
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(
    bundle,
    Buffer.concat([extra, Buffer.from("\n"), readFileSync(config.tls.certFile)]),
  );
  return bundle;
}
