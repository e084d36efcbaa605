import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * Credentials the server must read back (webhook signing secrets, later object-store keys)
 * are sealed with AES-256-GCM before they reach the database, so a dump of the database alone
 * does not reveal them. A sealed value names the key that sealed it:
 *
 *   v1:<keyId>:<iv>:<tag>:<ciphertext>     (each part base64url)
 *
 * so a key rotation can tell values still under the previous key from re-sealed ones.
 * `purpose` is bound as additional authenticated data: a value sealed as one kind of
 * credential does not open as another (a copied ciphertext cannot change meaning).
 */
export const SEALED_PREFIX = "v1:";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type EncryptionKey = { id: string; key: Buffer };

export class SecretBoxError extends Error {
  constructor(
    message: string,
    readonly reason: "malformed" | "unknown_key" | "authentication_failed",
  ) {
    super(message);
    this.name = "SecretBoxError";
  }
}

/**
 * A short public fingerprint of a key (not the key: SHA-256 of a domain tag and the key), so
 * a ciphertext and the logs can say which key is meant without revealing anything about it.
 */
export function keyIdOf(key: Buffer): string {
  return createHash("sha256")
    .update("modeldeck-encryption-key-id\0")
    .update(key)
    .digest()
    .subarray(0, 6)
    .toString("base64url");
}

/**
 * Parses a 32-byte key given as 64 hex digits or base64 / base64url (44 or 43 characters).
 * Returns null for anything else, so callers can say which variable is wrong.
 */
export function parseEncryptionKey(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, "hex");
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(t)) {
    const b = Buffer.from(t.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (b.length === KEY_BYTES) return b;
  }
  return null;
}

export function toEncryptionKey(key: Buffer): EncryptionKey {
  if (key.length !== KEY_BYTES) throw new Error(`An encryption key must be ${KEY_BYTES} bytes.`);
  return { id: keyIdOf(key), key };
}

export function generateEncryptionKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export const isSealed = (value: string): boolean => value.startsWith(SEALED_PREFIX);

/** The id of the key a sealed value was made with (null if it is not a sealed value). */
export function sealedKeyId(value: string): string | null {
  if (!isSealed(value)) return null;
  return value.split(":")[1] ?? null;
}

/**
 * Seals with `current`; opens with any key of the ring (the current one and, during a
 * rotation, the previous one).
 */
export class SecretBox {
  private readonly byId: Map<string, Buffer>;

  constructor(
    readonly current: EncryptionKey,
    readonly others: readonly EncryptionKey[] = [],
  ) {
    this.byId = new Map([current, ...others].map((k) => [k.id, k.key]));
  }

  seal(plaintext: string, purpose: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.current.key, iv);
    cipher.setAAD(Buffer.from(purpose, "utf8"));
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${SEALED_PREFIX}${this.current.id}:${iv.toString("base64url")}:${tag.toString("base64url")}:${ct.toString("base64url")}`;
  }

  open(sealed: string, purpose: string): string {
    const parts = sealed.split(":");
    if (parts.length !== 5 || `${parts[0]}:` !== SEALED_PREFIX) {
      throw new SecretBoxError("The stored value is not a sealed secret.", "malformed");
    }
    const [, keyId, ivText, tagText, ctText] = parts as [string, string, string, string, string];
    const key = this.byId.get(keyId);
    if (!key) {
      throw new SecretBoxError(
        `The stored value was sealed with encryption key ${keyId}, which this process does not have (it has ${[...this.byId.keys()].join(", ")}). Set MODELDECK_ENCRYPTION_KEY (and MODELDECK_ENCRYPTION_KEY_PREVIOUS during a rotation) to the keys in use.`,
        "unknown_key",
      );
    }
    const iv = Buffer.from(ivText, "base64url");
    const tag = Buffer.from(tagText, "base64url");
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new SecretBoxError("The stored value is not a sealed secret.", "malformed");
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAAD(Buffer.from(purpose, "utf8"));
      decipher.setAuthTag(tag);
      return Buffer.concat([
        decipher.update(Buffer.from(ctText, "base64url")),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      throw new SecretBoxError(
        "The stored value does not authenticate under its key (tampered, or another purpose).",
        "authentication_failed",
      );
    }
  }

  /** True when the value is sealed with the current key (nothing to re-seal). */
  isCurrent(sealed: string): boolean {
    return sealedKeyId(sealed) === this.current.id;
  }
}
