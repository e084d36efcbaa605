import { describe, expect, it } from "vitest";
import {
  generateTokenSecret,
  hashTokenSecret,
  looksLikeToken,
  tokenStatus,
  TOKEN_PREFIX,
} from "./tokens";

describe("token secrets", () => {
  it("are prefixed, url-safe and carry 256 random bits", () => {
    const secret = generateTokenSecret();
    expect(secret.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(secret).toMatch(/^mdk_[A-Za-z0-9_-]{43}$/);
    expect(new Set(Array.from({ length: 100 }, generateTokenSecret)).size).toBe(100);
  });

  it("are stored as a SHA-256 hex digest, never as themselves", () => {
    const secret = generateTokenSecret();
    const hash = hashTokenSecret(secret);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(secret.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + 8));
    expect(hashTokenSecret(secret)).toBe(hash);
  });

  it("recognises the token shape before touching the database", () => {
    expect(looksLikeToken(generateTokenSecret())).toBe(true);
    expect(looksLikeToken("mdk_")).toBe(false);
    expect(looksLikeToken("Bearer abc")).toBe(false);
  });
});

describe("token status", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  it.each([
    [{ expiresAt: null, revokedAt: null }, "active"],
    [{ expiresAt: new Date("2026-01-02T00:00:00Z"), revokedAt: null }, "active"],
    [{ expiresAt: new Date("2025-12-31T23:59:59Z"), revokedAt: null }, "expired"],
    [{ expiresAt: now, revokedAt: null }, "expired"],
    [{ expiresAt: new Date("2026-01-02T00:00:00Z"), revokedAt: new Date("2025-12-01") }, "revoked"],
  ] as const)("%o is %s", (row, status) => {
    expect(tokenStatus(row, now)).toBe(status);
  });
});
