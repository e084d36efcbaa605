import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./settings";
import {
  computeSignature,
  generateWebhookSecret,
  signatureHeader,
  verifySignature,
} from "./signature";

describe("webhook signatures", () => {
  const secret = "whsec_test";
  const body = '{"id":"1","type":"webhook.test"}';
  const at = new Date("2026-12-01T12:00:00Z");
  const t = at.getTime() / 1000;

  it("is HMAC-SHA256 of `${t}.${body}` in hex, in a t=…,v1=… header", () => {
    const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    expect(computeSignature(secret, t, body)).toBe(expected);
    expect(signatureHeader(secret, body, at)).toBe(`t=${t},v1=${expected}`);
  });

  it("verifies a good header and refuses tampering, a wrong secret, and old timestamps", () => {
    const header = signatureHeader(secret, body, at);
    expect(verifySignature({ header, body, secret, now: at })).toEqual({ ok: true, timestamp: t });
    expect(verifySignature({ header, body: body.replace("1", "2"), secret, now: at }).ok).toBe(
      false,
    );
    expect(verifySignature({ header, body, secret: "whsec_other", now: at }).ok).toBe(false);
    const later = new Date(at.getTime() + 301_000);
    expect(verifySignature({ header, body, secret, now: later })).toEqual({
      ok: false,
      reason: "timestamp outside tolerance",
    });
    expect(verifySignature({ header: null, body, secret }).ok).toBe(false);
    expect(verifySignature({ header: "v1=abc", body, secret, now: at }).ok).toBe(false);
    expect(verifySignature({ header: `t=${t},v1=zz`, body, secret, now: at }).ok).toBe(false);
  });

  it("accepts any of several v1 values (rotation)", () => {
    const good = computeSignature(secret, t, body);
    const header = `t=${t},v1=${"0".repeat(64)},v1=${good}`;
    expect(verifySignature({ header, body, secret, now: at }).ok).toBe(true);
  });

  it("generates distinct 256-bit secrets", () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});

describe("retry backoff", () => {
  it("doubles per attempt, with jitter between half and all of the delay, capped", () => {
    expect(retryDelayMs(2, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(2, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 1)).toBe(2000);
    expect(retryDelayMs(5, 1000, 60_000, () => 0.5)).toBe(6000);
    expect(retryDelayMs(20, 1000, 60_000, () => 1)).toBe(60_000);
    expect(retryDelayMs(20, 1000, 60_000, () => 0)).toBe(30_000);
  });
});
