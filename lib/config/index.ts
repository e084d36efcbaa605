import path from "node:path";
import { z } from "zod";
import { parseEncryptionKey } from "../crypto/secret-box";
import { outboundAllowEntryProblem, parseOutboundAllow } from "../net/outbound-policy";
import type { SignInLimits } from "../auth/sign-in-limits";
import { parseS3Url } from "../storage/location";

/**
 * Process configuration, read from the environment once. Every process (supervisor, web,
 * serving, scheduler) uses this one definition so defaults cannot drift between them.
 */
const port = z.coerce.number().int().min(1).max(65535);

/** 32 bytes, as 64 hex digits or base64 (`openssl rand -base64 32`); empty means unset. */
const encryptionKey = z.preprocess(
  (v) => (v === "" ? undefined : v),
  z
    .string()
    .refine(
      (v) => parseEncryptionKey(v) !== null,
      "expected a 32-byte key as 64 hex digits or base64 (generate one with `openssl rand -base64 32`)",
    )
    .optional(),
);
/** "count/seconds", e.g. "5/60": a count allowed per window (both at least 1). */
const perWindow = (what: string, fallback: string) =>
  z
    .string()
    .regex(/^[1-9]\d*\/[1-9]\d*$/, `expected "${what}", e.g. "${fallback}"`)
    .default(fallback);

function parsePerWindow(value: string): { count: number; windowSeconds: number } {
  const [count, windowSeconds] = value.split("/").map(Number) as [number, number];
  return { count, windowSeconds };
}

const envSchema = z.object({
  MODELDECK_HOST: z.string().min(1).default("127.0.0.1"),
  MODELDECK_WEB_PORT: port.default(3000),
  MODELDECK_SERVING_PORT: port.default(8000),
  /** The Open Inference Protocol's gRPC endpoint (KServe v2 GRPCInferenceService); `off`: none. */
  MODELDECK_GRPC_PORT: z.union([z.literal("off"), port]).default(8001),
  /** How web reaches serving (health, "Try it"); in Kubernetes the serving Service. */
  MODELDECK_SERVING_URL: z.url().optional(),
  /** Probe listener of a scheduler (/livez, /readyz); none when unset. */
  MODELDECK_SCHEDULER_HEALTH_PORT: port.optional(),
  MODELDECK_DB_PORT: port.default(54329),
  MODELDECK_DATA_DIR: z.string().min(1).default("./data"),
  MODELDECK_PUBLIC_URL: z.url().optional(),
  MODELDECK_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
  MODELDECK_SIGNIN_RATE_LIMIT: perWindow("attempts/seconds", "30/60"),
  MODELDECK_SIGNIN_ACCOUNT_LIMIT: perWindow("failures/seconds", "5/900"),
  MODELDECK_SIGNIN_ACCOUNT_GLOBAL_LIMIT: perWindow("failures/seconds", "20/900"),
  MODELDECK_SIGNIN_ADDRESS_LIMIT: perWindow("failures/seconds", "50/900"),
  MODELDECK_TRUST_PROXY: z.enum(["0", "1", "true", "false"]).default("0"),
  /** PEM files: with both set, web and serving (HTTP and gRPC) answer TLS only. */
  MODELDECK_TLS_CERT: z.string().min(1).optional(),
  MODELDECK_TLS_KEY: z.string().min(1).optional(),
  MODELDECK_MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
  MODELDECK_SERVING_AUTH: z.enum(["on", "off"]).default("on"),
  MODELDECK_SERVING_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(32 * 1024 ** 2),
  MODELDECK_SERVING_THREADS: z.coerce.number().int().min(0).max(256).default(1),
  MODELDECK_SERVING_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  MODELDECK_SERVING_RECONCILE_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  MODELDECK_SERVING_KEEPALIVE_SECONDS: z.coerce.number().min(1).max(3600).default(65),
  MODELDECK_SERVING_HEADERS_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).optional(),
  MODELDECK_SERVING_REQUEST_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(120),
  MODELDECK_SERVING_DRAIN_DELAY_SECONDS: z.coerce.number().min(0).max(600).default(0),
  MODELDECK_SERVING_DRAIN_TIMEOUT_SECONDS: z.coerce.number().min(0).max(600).default(10),
  MODELDECK_PREDICTION_LOG: z.enum(["on", "off"]).default("on"),
  MODELDECK_PREDICTION_LOG_RETENTION_DAYS: z.coerce.number().min(0.01).max(36_500).default(30),
  MODELDECK_ROLLUP_RETENTION_DAYS: z.coerce.number().min(0.01).max(36_500).default(400),
  MODELDECK_LOG_EXPORT: z.enum(["true", "false", "on", "off", "1", "0"]).default("false"),
  MODELDECK_FEEDBACK_PENDING_SECONDS: z.coerce
    .number()
    .min(1)
    .max(7 * 86_400)
    .default(3600),
  MODELDECK_ALERT_EVALUATION_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .refine((n) => n < 60 || n % 60 === 0, "must be 1-59 seconds or a whole number of minutes")
    .default(15),
  MODELDECK_ARTIFACT_STORE: z
    .string()
    .min(1)
    .refine(
      (v) => !v.includes("://") || parseS3Url(v) !== null,
      "expected a directory or s3://bucket/prefix (bucket: 3-63 lowercase letters, digits, dots, hyphens)",
    )
    .optional(),
  MODELDECK_S3_FORCE_PATH_STYLE: z.enum(["0", "1", "true", "false"]).default("false"),
  MODELDECK_ARTIFACT_CACHE_DIR: z.string().min(1).optional(),
  MODELDECK_ARTIFACT_CACHE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 ** 3),
  /** Deliberate internal receivers the outbound-request policy admits (lib/net/outbound-policy.ts). */
  MODELDECK_OUTBOUND_ALLOW: z
    .string()
    .optional()
    .superRefine((raw, ctx) => {
      for (const entry of parseOutboundAllow(raw)) {
        const problem = outboundAllowEntryProblem(entry);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }
    }),
  DATABASE_URL: z.string().min(1).optional(),
  MODELDECK_ENCRYPTION_KEY: encryptionKey,
  MODELDECK_ENCRYPTION_KEY_PREVIOUS: encryptionKey,
});

/** Where artifacts and datasets live: a local directory (default) or an S3-compatible bucket. */
export type ArtifactStoreConfig =
  | { kind: "local"; root: string }
  | { kind: "s3"; bucket: string; prefix: string; forcePathStyle: boolean };

/** Every variable this schema reads (the deployment manifests are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export type AppConfig = {
  host: string;
  webPort: number;
  servingPort: number;
  /** Port of serving's gRPC endpoint; null when turned off. */
  grpcPort: number | null;
  /** Where web reaches serving (no trailing slash). */
  servingUrl: string;
  /** Port of the scheduler's probe listener, if it runs one. */
  schedulerHealthPort: number | undefined;
  embeddedDbPort: number;
  dataDir: string;
  /** The origin people use in their browser; auth cookies and CSRF checks are tied to it. */
  publicUrl: string;
  logLevel: string;
  /** Sign-in requests per client address per window (better-auth's limiter): a flood ceiling. */
  signInRateLimit: { max: number; windowSeconds: number };
  /** Failed sign-ins before a lock (lib/auth/sign-in-limits.ts); a lock lasts one window. */
  signInLimits: SignInLimits;
  /** Take the client address from X-Forwarded-For (only behind a reverse proxy you run). */
  trustProxy: boolean;
  /** Certificate and key (PEM file paths) the web and serving listeners use; null: plain HTTP. */
  tls: { certFile: string; keyFile: string } | null;
  /** Largest model file an upload may carry (default 2 GiB). */
  maxUploadBytes: number;
  databaseUrl: string | undefined;
  /** Keys that seal stored credentials (lib/crypto); unset: a generated key file in dataDir. */
  encryption: { key: string | undefined; previousKey: string | undefined };
  artifacts: {
    store: ArtifactStoreConfig;
    /** Local copies of remote artifacts for readers that need a file (unused by a local store). */
    cacheDir: string;
    cacheMaxBytes: number;
  };
  serving: {
    /** Inference needs an API token (any role) unless turned off. */
    authRequired: boolean;
    /** Largest inference request body; larger ones get 413. */
    maxBodyBytes: number;
    /** onnxruntime intra-op threads per session (default 1; 0: one per core). One thread measured fastest on 2 cores: the event loop needs the other (bench/serving). */
    threads: number;
    /** Serving event loops (node:cluster workers on one port); 1 = the process serves itself. */
    workers: number;
    /** How often the registry is re-read in case a notification was missed. */
    reconcileIntervalMs: number;
    predictionLog: boolean;
    /**
     * HTTP connection timeouts. The keep-alive timeout must be LONGER than the idle timeout of
     * any proxy or load balancer in front: the side that closes an idle connection first must
     * be the proxy, or it may send a request on a connection this server is closing that very
     * moment, and the client gets a reset it did nothing to cause.
     */
    keepAliveTimeoutMs: number;
    /** Time to receive a request's headers (by default just above the keep-alive timeout). */
    headersTimeoutMs: number;
    /** Time to receive a whole request. */
    requestTimeoutMs: number;
    /**
     * Graceful stop (SIGTERM): for `drainDelayMs` the instance keeps answering but reports not
     * ready and asks clients to close (`Connection: close`), so a load balancer removes it and
     * keep-alive clients move elsewhere; then it stops accepting and waits up to
     * `drainTimeoutMs` for requests in flight.
     */
    drainDelayMs: number;
    drainTimeoutMs: number;
  };
  /** How often the scheduler evaluates alert rules (lib/alerts), in seconds. */
  alertEvaluationSeconds: number;
  /** How long monitoring data is kept (lib/monitoring/retention.ts). */
  retention: {
    /** Raw prediction logs and their feedback. */
    predictionLogDays: number;
    /** Per-minute rollups (charts and alerts); at least as long as the raw logs. */
    rollupDays: number;
    /** Write each expired day of the raw log to the artifact store before dropping it (lib/monitoring/partitions.ts). */
    exportLog: boolean;
  };
  /** How long feedback for a request not logged yet waits for it (lib/monitoring/pending-feedback.ts). */
  feedbackPendingMs: number;
  /** Host names, addresses and CIDRs the outbound-request policy admits although internal. */
  outboundAllow: string[];
};

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  if (e.MODELDECK_ROLLUP_RETENTION_DAYS < e.MODELDECK_PREDICTION_LOG_RETENTION_DAYS) {
    // Feedback lands in the rollup minute of its prediction: that minute must still exist.
    throw new ConfigError(
      "Invalid configuration: MODELDECK_ROLLUP_RETENTION_DAYS must be at least MODELDECK_PREDICTION_LOG_RETENTION_DAYS",
    );
  }
  if (e.MODELDECK_ENCRYPTION_KEY_PREVIOUS && !e.MODELDECK_ENCRYPTION_KEY) {
    throw new ConfigError(
      "Invalid configuration: MODELDECK_ENCRYPTION_KEY_PREVIOUS is only read with MODELDECK_ENCRYPTION_KEY (the new key); see docs/security.md",
    );
  }
  const rate = parsePerWindow(e.MODELDECK_SIGNIN_RATE_LIMIT);
  const failures = (value: string) => {
    const { count, windowSeconds } = parsePerWindow(value);
    return { failures: count, windowSeconds };
  };
  const keepAliveSeconds = e.MODELDECK_SERVING_KEEPALIVE_SECONDS;
  const headersTimeoutSeconds = e.MODELDECK_SERVING_HEADERS_TIMEOUT_SECONDS ?? keepAliveSeconds + 1;
  if (headersTimeoutSeconds > e.MODELDECK_SERVING_REQUEST_TIMEOUT_SECONDS) {
    // node:http refuses a headers timeout longer than the request timeout.
    throw new ConfigError(
      "Invalid configuration: the serving headers timeout (MODELDECK_SERVING_HEADERS_TIMEOUT_SECONDS, default keep-alive + 1) must not exceed MODELDECK_SERVING_REQUEST_TIMEOUT_SECONDS",
    );
  }
  if (!e.MODELDECK_TLS_CERT !== !e.MODELDECK_TLS_KEY) {
    throw new ConfigError(
      `Invalid configuration: MODELDECK_TLS_CERT and MODELDECK_TLS_KEY go together (only ${e.MODELDECK_TLS_CERT ? "MODELDECK_TLS_CERT" : "MODELDECK_TLS_KEY"} is set)`,
    );
  }
  const tls =
    e.MODELDECK_TLS_CERT && e.MODELDECK_TLS_KEY
      ? {
          // turbopackIgnore: runtime paths from configuration, not files of the build.
          certFile: path.resolve(/*turbopackIgnore: true*/ e.MODELDECK_TLS_CERT),
          keyFile: path.resolve(/*turbopackIgnore: true*/ e.MODELDECK_TLS_KEY),
        }
      : null;
  const scheme = tls ? "https" : "http";
  const dataDir = path.resolve(e.MODELDECK_DATA_DIR);
  const browserHost = e.MODELDECK_HOST === "0.0.0.0" ? "127.0.0.1" : e.MODELDECK_HOST;
  return {
    host: e.MODELDECK_HOST,
    webPort: e.MODELDECK_WEB_PORT,
    servingPort: e.MODELDECK_SERVING_PORT,
    grpcPort: e.MODELDECK_GRPC_PORT === "off" ? null : e.MODELDECK_GRPC_PORT,
    servingUrl: (
      e.MODELDECK_SERVING_URL ?? `${scheme}://${browserHost}:${e.MODELDECK_SERVING_PORT}`
    ).replace(/\/$/, ""),
    schedulerHealthPort: e.MODELDECK_SCHEDULER_HEALTH_PORT,
    embeddedDbPort: e.MODELDECK_DB_PORT,
    dataDir,
    publicUrl: (
      e.MODELDECK_PUBLIC_URL ?? `${scheme}://${browserHost}:${e.MODELDECK_WEB_PORT}`
    ).replace(/\/$/, ""),
    logLevel: e.MODELDECK_LOG_LEVEL,
    signInRateLimit: { max: rate.count, windowSeconds: rate.windowSeconds },
    signInLimits: {
      perAccountAndAddress: failures(e.MODELDECK_SIGNIN_ACCOUNT_LIMIT),
      perAccount: failures(e.MODELDECK_SIGNIN_ACCOUNT_GLOBAL_LIMIT),
      perAddress: failures(e.MODELDECK_SIGNIN_ADDRESS_LIMIT),
    },
    trustProxy: e.MODELDECK_TRUST_PROXY === "1" || e.MODELDECK_TRUST_PROXY === "true",
    tls,
    maxUploadBytes: e.MODELDECK_MAX_UPLOAD_BYTES,
    databaseUrl: e.DATABASE_URL,
    encryption: {
      key: e.MODELDECK_ENCRYPTION_KEY,
      previousKey: e.MODELDECK_ENCRYPTION_KEY_PREVIOUS,
    },
    artifacts: {
      store: artifactStoreConfig(
        e.MODELDECK_ARTIFACT_STORE,
        dataDir,
        e.MODELDECK_S3_FORCE_PATH_STYLE,
      ),
      // turbopackIgnore: a runtime path from configuration; without it the Next build traces
      // the whole project (see lib/child-process/launcher.ts).
      cacheDir: path.resolve(
        /*turbopackIgnore: true*/ e.MODELDECK_ARTIFACT_CACHE_DIR ??
          path.join(dataDir, "artifact-cache"),
      ),
      cacheMaxBytes: e.MODELDECK_ARTIFACT_CACHE_BYTES,
    },
    serving: {
      authRequired: e.MODELDECK_SERVING_AUTH === "on",
      maxBodyBytes: e.MODELDECK_SERVING_MAX_BODY_BYTES,
      threads: e.MODELDECK_SERVING_THREADS,
      workers: e.MODELDECK_SERVING_WORKERS,
      reconcileIntervalMs: e.MODELDECK_SERVING_RECONCILE_SECONDS * 1000,
      predictionLog: e.MODELDECK_PREDICTION_LOG === "on",
      keepAliveTimeoutMs: keepAliveSeconds * 1000,
      headersTimeoutMs: headersTimeoutSeconds * 1000,
      requestTimeoutMs: e.MODELDECK_SERVING_REQUEST_TIMEOUT_SECONDS * 1000,
      drainDelayMs: e.MODELDECK_SERVING_DRAIN_DELAY_SECONDS * 1000,
      drainTimeoutMs: e.MODELDECK_SERVING_DRAIN_TIMEOUT_SECONDS * 1000,
    },
    alertEvaluationSeconds: e.MODELDECK_ALERT_EVALUATION_SECONDS,
    retention: {
      predictionLogDays: e.MODELDECK_PREDICTION_LOG_RETENTION_DAYS,
      rollupDays: e.MODELDECK_ROLLUP_RETENTION_DAYS,
      exportLog: ["true", "on", "1"].includes(e.MODELDECK_LOG_EXPORT),
    },
    feedbackPendingMs: e.MODELDECK_FEEDBACK_PENDING_SECONDS * 1000,
    outboundAllow: parseOutboundAllow(e.MODELDECK_OUTBOUND_ALLOW),
  };
}

function artifactStoreConfig(
  value: string | undefined,
  dataDir: string,
  forcePathStyle: string,
): ArtifactStoreConfig {
  const location = value ? parseS3Url(value) : null;
  if (!location)
    return {
      kind: "local",
      // turbopackIgnore: a runtime path from configuration, not a file of the build.
      root: path.resolve(/*turbopackIgnore: true*/ value ?? path.join(dataDir, "artifacts")),
    };
  return {
    kind: "s3",
    ...location,
    forcePathStyle: forcePathStyle === "1" || forcePathStyle === "true",
  };
}

let cached: AppConfig | undefined;
export function getConfig(): AppConfig {
  cached ??= loadConfig();
  return cached;
}

/** Origins a browser may legitimately send for this instance (localhost and 127.0.0.1 alike). */
export function trustedOrigins(config: AppConfig): string[] {
  const origins = new Set<string>([config.publicUrl]);
  const scheme = config.tls ? "https" : "http";
  for (const h of ["127.0.0.1", "localhost", "[::1]"]) {
    origins.add(`${scheme}://${h}:${config.webPort}`);
  }
  return [...origins];
}
