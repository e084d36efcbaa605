import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, ConfigError, loadConfig, trustedOrigins } from "./index";

describe("configuration", () => {
  it("has defaults that work on a fresh machine", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: "127.0.0.1",
      webPort: 3000,
      servingPort: 8000,
      grpcPort: 8001,
      embeddedDbPort: 54329,
    });
    expect(c.dataDir).toBe(path.resolve("./data"));
    expect(c.publicUrl).toBe("http://127.0.0.1:3000");
    expect(c.signInRateLimit).toEqual({ max: 30, windowSeconds: 60 });
    expect(c.signInLimits).toEqual({
      perAccountAndAddress: { failures: 5, windowSeconds: 900 },
      perAccount: { failures: 20, windowSeconds: 900 },
      perAddress: { failures: 50, windowSeconds: 900 },
    });
    expect(c.tls).toBeNull();
    expect(c.databaseUrl).toBeUndefined();
  });

  it("reads every variable", () => {
    const c = loadConfig({
      MODELDECK_HOST: "0.0.0.0",
      MODELDECK_WEB_PORT: "8080",
      MODELDECK_SERVING_PORT: "9090",
      MODELDECK_DATA_DIR: "/srv/modeldeck",
      MODELDECK_SIGNIN_RATE_LIMIT: "10/300",
      DATABASE_URL: "postgresql://u:p@db/modeldeck",
    });
    expect(c.publicUrl).toBe("http://127.0.0.1:8080");
    expect(c.dataDir).toBe("/srv/modeldeck");
    expect(c.signInRateLimit).toEqual({ max: 10, windowSeconds: 300 });
    expect(c.databaseUrl).toBe("postgresql://u:p@db/modeldeck");
  });

  it("reads the per-account sign-in limits", () => {
    const c = loadConfig({
      MODELDECK_SIGNIN_ACCOUNT_LIMIT: "3/60",
      MODELDECK_SIGNIN_ACCOUNT_GLOBAL_LIMIT: "10/120",
      MODELDECK_SIGNIN_ADDRESS_LIMIT: "40/300",
    });
    expect(c.signInLimits).toEqual({
      perAccountAndAddress: { failures: 3, windowSeconds: 60 },
      perAccount: { failures: 10, windowSeconds: 120 },
      perAddress: { failures: 40, windowSeconds: 300 },
    });
    expect(() => loadConfig({ MODELDECK_SIGNIN_ACCOUNT_LIMIT: "0/60" })).toThrow(
      /MODELDECK_SIGNIN_ACCOUNT_LIMIT.*failures\/seconds/,
    );
  });

  it("turns TLS on with both a certificate and a key, and then defaults to https URLs", () => {
    const c = loadConfig({ MODELDECK_TLS_CERT: "/etc/md/cert.pem", MODELDECK_TLS_KEY: "key.pem" });
    expect(c.tls).toEqual({ certFile: "/etc/md/cert.pem", keyFile: path.resolve("key.pem") });
    expect(c.publicUrl).toBe("https://127.0.0.1:3000");
    expect(c.servingUrl).toBe("https://127.0.0.1:8000");
    expect(trustedOrigins(c)).toContain("https://localhost:3000");
    expect(() => loadConfig({ MODELDECK_TLS_CERT: "/etc/md/cert.pem" })).toThrow(
      /MODELDECK_TLS_CERT and MODELDECK_TLS_KEY go together \(only MODELDECK_TLS_CERT is set\)/,
    );
    expect(() => loadConfig({ MODELDECK_TLS_KEY: "key.pem" })).toThrow(/only MODELDECK_TLS_KEY/);
  });

  it("reads the gRPC port, or `off` for no gRPC endpoint", () => {
    expect(loadConfig({ MODELDECK_GRPC_PORT: "9001" }).grpcPort).toBe(9001);
    expect(loadConfig({ MODELDECK_GRPC_PORT: "off" }).grpcPort).toBeNull();
    expect(() => loadConfig({ MODELDECK_GRPC_PORT: "0" })).toThrow(/MODELDECK_GRPC_PORT/);
    expect(() => loadConfig({ MODELDECK_GRPC_PORT: "no" })).toThrow(/MODELDECK_GRPC_PORT/);
  });

  it("chooses the artifact store: the data directory by default, a directory or a bucket", () => {
    expect(loadConfig({ MODELDECK_DATA_DIR: "/srv/md" }).artifacts).toEqual({
      store: { kind: "local", root: "/srv/md/artifacts" },
      cacheDir: "/srv/md/artifact-cache",
      cacheMaxBytes: 10 * 1024 ** 3,
    });
    expect(loadConfig({ MODELDECK_ARTIFACT_STORE: "/mnt/models" }).artifacts.store).toEqual({
      kind: "local",
      root: "/mnt/models",
    });
    const s3 = loadConfig({
      MODELDECK_ARTIFACT_STORE: "s3://ml-artifacts/modeldeck/prod/",
      MODELDECK_S3_FORCE_PATH_STYLE: "true",
      MODELDECK_ARTIFACT_CACHE_DIR: "/cache",
      MODELDECK_ARTIFACT_CACHE_BYTES: "1000000",
    }).artifacts;
    expect(s3).toEqual({
      store: { kind: "s3", bucket: "ml-artifacts", prefix: "modeldeck/prod", forcePathStyle: true },
      cacheDir: "/cache",
      cacheMaxBytes: 1_000_000,
    });
    expect(loadConfig({ MODELDECK_ARTIFACT_STORE: "s3://b12" }).artifacts.store).toMatchObject({
      bucket: "b12",
      prefix: "",
      forcePathStyle: false,
    });
  });

  it("names the variable of an invalid artifact store", () => {
    for (const value of ["s3://UPPER/x", "s3://ab", "gs://bucket/x", "s3://-bad-/x"]) {
      expect(() => loadConfig({ MODELDECK_ARTIFACT_STORE: value }), value).toThrow(
        /MODELDECK_ARTIFACT_STORE: expected a directory or s3:\/\/bucket\/prefix/,
      );
    }
    expect(() => loadConfig({ MODELDECK_ARTIFACT_CACHE_BYTES: "-1" })).toThrow(
      /MODELDECK_ARTIFACT_CACHE_BYTES/,
    );
  });

  it("reaches serving at MODELDECK_SERVING_URL, else at its bind address", () => {
    expect(loadConfig({ MODELDECK_HOST: "0.0.0.0" }).servingUrl).toBe("http://127.0.0.1:8000");
    expect(loadConfig({ MODELDECK_SERVING_URL: "http://modeldeck-serving:8000/" }).servingUrl).toBe(
      "http://modeldeck-serving:8000",
    );
    expect(loadConfig({}).schedulerHealthPort).toBeUndefined();
    expect(loadConfig({ MODELDECK_SCHEDULER_HEALTH_PORT: "8081" }).schedulerHealthPort).toBe(8081);
    expect(CONFIG_VARIABLES).toContain("MODELDECK_SERVING_URL");
  });

  it("reads the outbound allow-list and names an invalid entry", () => {
    expect(loadConfig({}).outboundAllow).toEqual([]);
    expect(
      loadConfig({ MODELDECK_OUTBOUND_ALLOW: " hooks.internal, 10.8.0.0/16 ,fd00::/8," })
        .outboundAllow,
    ).toEqual(["hooks.internal", "10.8.0.0/16", "fd00::/8"]);
    expect(() => loadConfig({ MODELDECK_OUTBOUND_ALLOW: "10.0.0.0/40" })).toThrow(
      /MODELDECK_OUTBOUND_ALLOW.*"10\.0\.0\.0\/40" is not a valid CIDR/,
    );
    expect(() => loadConfig({ MODELDECK_OUTBOUND_ALLOW: "https://hooks.internal" })).toThrow(
      /MODELDECK_OUTBOUND_ALLOW/,
    );
  });

  it("explains invalid values", () => {
    expect(() => loadConfig({ MODELDECK_WEB_PORT: "http" })).toThrow(ConfigError);
    expect(() => loadConfig({ MODELDECK_WEB_PORT: "70000" })).toThrow(/MODELDECK_WEB_PORT/);
    expect(() => loadConfig({ MODELDECK_SIGNIN_RATE_LIMIT: "five" })).toThrow(/attempts\/seconds/);
  });

  it("keeps feedback waiting for its prediction an hour unless told otherwise", () => {
    expect(loadConfig({}).feedbackPendingMs).toBe(3_600_000);
    expect(loadConfig({ MODELDECK_FEEDBACK_PENDING_SECONDS: "90" }).feedbackPendingMs).toBe(90_000);
    expect(() => loadConfig({ MODELDECK_FEEDBACK_PENDING_SECONDS: "0" })).toThrow(
      /MODELDECK_FEEDBACK_PENDING_SECONDS/,
    );
  });

  it("keeps serving connections open longer than a load balancer's idle timeout", () => {
    expect(loadConfig({}).serving).toMatchObject({
      keepAliveTimeoutMs: 65_000,
      headersTimeoutMs: 66_000,
      requestTimeoutMs: 120_000,
      drainDelayMs: 0,
      drainTimeoutMs: 10_000,
    });
    const behindGcp = loadConfig({
      MODELDECK_SERVING_KEEPALIVE_SECONDS: "620",
      MODELDECK_SERVING_REQUEST_TIMEOUT_SECONDS: "900",
      MODELDECK_SERVING_DRAIN_DELAY_SECONDS: "5",
      MODELDECK_SERVING_DRAIN_TIMEOUT_SECONDS: "20",
    }).serving;
    expect(behindGcp).toMatchObject({
      keepAliveTimeoutMs: 620_000,
      headersTimeoutMs: 621_000,
      drainDelayMs: 5_000,
      drainTimeoutMs: 20_000,
    });
    // node:http rejects a headers timeout above the request timeout: say so at start-up.
    expect(() => loadConfig({ MODELDECK_SERVING_KEEPALIVE_SECONDS: "300" })).toThrow(
      /MODELDECK_SERVING_REQUEST_TIMEOUT_SECONDS/,
    );
  });

  it("trusts localhost and 127.0.0.1 origins plus the public URL", () => {
    const origins = trustedOrigins(
      loadConfig({ MODELDECK_PUBLIC_URL: "https://models.example.com/" }),
    );
    expect(origins).toContain("https://models.example.com");
    expect(origins).toContain("http://localhost:3000");
    expect(origins).toContain("http://127.0.0.1:3000");
  });
});
