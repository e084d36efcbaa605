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
      embeddedDbPort: 54329,
    });
    expect(c.dataDir).toBe(path.resolve("./data"));
    expect(c.publicUrl).toBe("http://127.0.0.1:3000");
    expect(c.signInRateLimit).toEqual({ max: 5, windowSeconds: 60 });
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

  it("reaches serving at MODELDECK_SERVING_URL, else at its bind address", () => {
    expect(loadConfig({ MODELDECK_HOST: "0.0.0.0" }).servingUrl).toBe("http://127.0.0.1:8000");
    expect(loadConfig({ MODELDECK_SERVING_URL: "http://modeldeck-serving:8000/" }).servingUrl).toBe(
      "http://modeldeck-serving:8000",
    );
    expect(loadConfig({}).schedulerHealthPort).toBeUndefined();
    expect(loadConfig({ MODELDECK_SCHEDULER_HEALTH_PORT: "8081" }).schedulerHealthPort).toBe(8081);
    expect(CONFIG_VARIABLES).toContain("MODELDECK_SERVING_URL");
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

  it("trusts localhost and 127.0.0.1 origins plus the public URL", () => {
    const origins = trustedOrigins(
      loadConfig({ MODELDECK_PUBLIC_URL: "https://models.example.com/" }),
    );
    expect(origins).toContain("https://models.example.com");
    expect(origins).toContain("http://localhost:3000");
    expect(origins).toContain("http://127.0.0.1:3000");
  });
});
