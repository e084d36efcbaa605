import { describe, expect, it } from "vitest";
import {
  generateEncryptionKey,
  isSealed,
  keyIdOf,
  parseEncryptionKey,
  SecretBox,
  SecretBoxError,
  sealedKeyId,
  toEncryptionKey,
} from "./secret-box";

const keyA = toEncryptionKey(generateEncryptionKey());
const keyB = toEncryptionKey(generateEncryptionKey());
const PURPOSE = "webhook.secret";

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof SecretBoxError) return error.reason;
    throw error;
  }
  return undefined;
}

describe("SecretBox (AES-256-GCM)", () => {
  it("round-trips, with a fresh IV each time and the key id in the ciphertext", () => {
    const box = new SecretBox(keyA);
    const one = box.seal("whsec_abc", PURPOSE);
    const two = box.seal("whsec_abc", PURPOSE);
    expect(one).not.toBe(two);
    expect(one).not.toContain("whsec_abc");
    expect(one).toMatch(/^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
    expect(isSealed(one)).toBe(true);
    expect(sealedKeyId(one)).toBe(keyA.id);
    expect(box.open(one, PURPOSE)).toBe("whsec_abc");
    expect(box.open(box.seal("", PURPOSE), PURPOSE)).toBe("");
    expect(box.open(box.seal("ünïcödé ✓", PURPOSE), PURPOSE)).toBe("ünïcödé ✓");
  });

  it("refuses a value sealed under a key it does not have, naming that key", () => {
    const sealed = new SecretBox(keyA).seal("x", PURPOSE);
    expect(reason(() => new SecretBox(keyB).open(sealed, PURPOSE))).toBe("unknown_key");
    expect(() => new SecretBox(keyB).open(sealed, PURPOSE)).toThrow(keyA.id);
  });

  it("refuses the right key id with the wrong key bytes (a forged id)", () => {
    const sealed = new SecretBox(keyA).seal("x", PURPOSE);
    const impostor = { id: keyA.id, key: keyB.key };
    expect(reason(() => new SecretBox(impostor).open(sealed, PURPOSE))).toBe(
      "authentication_failed",
    );
  });

  it("refuses tampered ciphertext, tag, IV, and another purpose", () => {
    const box = new SecretBox(keyA);
    const sealed = box.seal("whsec_0123456789", PURPOSE);
    const parts = sealed.split(":");
    const flip = (i: number) => {
      const bytes = Buffer.from(parts[i]!, "base64url");
      bytes[0]! ^= 1;
      return parts.map((p, j) => (j === i ? bytes.toString("base64url") : p)).join(":");
    };
    expect(reason(() => box.open(flip(4), PURPOSE))).toBe("authentication_failed");
    expect(reason(() => box.open(flip(3), PURPOSE))).toBe("authentication_failed");
    expect(reason(() => box.open(flip(2), PURPOSE))).toBe("authentication_failed");
    expect(reason(() => box.open(sealed, "object-store.key"))).toBe("authentication_failed");
    expect(reason(() => box.open("whsec_clear", PURPOSE))).toBe("malformed");
    expect(reason(() => box.open("v1:a:b:c", PURPOSE))).toBe("malformed");
  });

  it("opens values under the previous key during a rotation and seals under the current one", () => {
    const old = new SecretBox(keyA).seal("s", PURPOSE);
    const ring = new SecretBox(keyB, [keyA]);
    expect(ring.open(old, PURPOSE)).toBe("s");
    expect(ring.isCurrent(old)).toBe(false);
    const resealed = ring.seal(ring.open(old, PURPOSE), PURPOSE);
    expect(ring.isCurrent(resealed)).toBe(true);
    expect(reason(() => new SecretBox(keyA).open(resealed, PURPOSE))).toBe("unknown_key");
  });
});

describe("encryption keys", () => {
  it("parses 32 bytes as hex, base64 and base64url, and nothing else", () => {
    const raw = generateEncryptionKey();
    expect(parseEncryptionKey(raw.toString("hex"))?.equals(raw)).toBe(true);
    expect(parseEncryptionKey(raw.toString("base64"))?.equals(raw)).toBe(true);
    expect(parseEncryptionKey(` ${raw.toString("base64url")}\n`)?.equals(raw)).toBe(true);
    expect(parseEncryptionKey(raw.subarray(0, 16).toString("base64"))).toBeNull();
    expect(parseEncryptionKey("correct horse battery staple")).toBeNull();
    expect(parseEncryptionKey("")).toBeNull();
  });

  it("derives a stable, key-specific id that does not contain the key", () => {
    const raw = generateEncryptionKey();
    expect(keyIdOf(raw)).toBe(keyIdOf(Buffer.from(raw)));
    expect(keyIdOf(raw)).not.toBe(keyIdOf(generateEncryptionKey()));
    expect(raw.toString("base64url")).not.toContain(keyIdOf(raw));
    expect(keyIdOf(raw)).toMatch(/^[A-Za-z0-9_-]{8}$/);
  });
});
