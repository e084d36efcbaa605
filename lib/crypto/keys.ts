import { randomUUID } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadConfig, type AppConfig } from "../config";
import {
  generateEncryptionKey,
  parseEncryptionKey,
  SecretBox,
  SecretBoxError,
  toEncryptionKey,
  type EncryptionKey,
} from "./secret-box";

/**
 * Where the encryption key comes from: MODELDECK_ENCRYPTION_KEY (and, during a rotation,
 * MODELDECK_ENCRYPTION_KEY_PREVIOUS), or else a key file in the data directory, generated
 * on first use. The key never goes into the database: a dump must not carry what opens it.
 */
export const KEY_FILE = "encryption.key";
/** Present only during a rotation of a generated key (`modeldeck keys rotate`). */
export const PREVIOUS_KEY_FILE = "encryption.previous.key";

export type KeySource =
  { kind: "env" } | { kind: "file"; path: string; previousPath: string; generated: boolean };

export type LoadedKeys = { box: SecretBox; source: KeySource };

type KeyConfig = Pick<AppConfig, "dataDir" | "encryption">;

function readKeyFile(file: string): EncryptionKey | null {
  let text: string;
  try {
    text = readFileSync(/*turbopackIgnore: true*/ file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const key = parseEncryptionKey(text);
  if (!key) {
    throw new Error(
      `${file} does not hold a 32-byte key (64 hex digits or base64). Restore it from your backup.`,
    );
  }
  return toEncryptionKey(key);
}

/**
 * Writes `key` to `file` only if no file is there yet, and returns the key the file holds
 * afterwards. The key is written to a private temporary file and hard-linked into place:
 * the link either creates the complete file or fails with EEXIST, so processes starting at
 * once agree on one key and none reads a half-written file.
 */
export function writeKeyFileExclusive(file: string, key: Buffer): EncryptionKey {
  mkdirSync(/*turbopackIgnore: true*/ path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(/*turbopackIgnore: true*/ tmp, key.toString("base64") + "\n", {
    mode: 0o600,
    flag: "wx",
  });
  chmodSync(tmp, 0o600); // the umask may have narrowed it, never widened: make it exact
  try {
    linkSync(tmp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(tmp);
  }
  const written = readKeyFile(file);
  if (!written) throw new Error(`${file} vanished while it was being created.`);
  return written;
}

export function loadEncryptionKeys(config: KeyConfig): LoadedKeys {
  const { key, previousKey } = config.encryption;
  if (key) {
    const current = toEncryptionKey(parseEncryptionKey(key)!);
    const previous = previousKey ? [toEncryptionKey(parseEncryptionKey(previousKey)!)] : [];
    return { box: new SecretBox(current, previous), source: { kind: "env" } };
  }
  // turbopackIgnore: runtime files from configuration, not files of the build (else the Next
  // build traces the whole project).
  const file = path.join(/*turbopackIgnore: true*/ config.dataDir, KEY_FILE);
  const previousPath = path.join(/*turbopackIgnore: true*/ config.dataDir, PREVIOUS_KEY_FILE);
  let current = readKeyFile(file);
  let generated = false;
  if (!current) {
    const candidate = generateEncryptionKey();
    current = writeKeyFileExclusive(file, candidate);
    generated = current.key.equals(candidate);
  }
  const previous = readKeyFile(previousPath);
  return {
    box: new SecretBox(current, previous && previous.id !== current.id ? [previous] : []),
    source: { kind: "file", path: file, previousPath, generated },
  };
}

/** What a process logs at start about its key, so operators know what to back up. */
export function describeKeySource(loaded: LoadedKeys): {
  level: "info" | "warn";
  message: string;
  fields: Record<string, unknown>;
} {
  const fields = {
    keyId: loaded.box.current.id,
    previousKeyIds: loaded.box.others.map((k) => k.id),
  };
  if (loaded.source.kind === "env") {
    return {
      level: "info",
      message: "encryption key from MODELDECK_ENCRYPTION_KEY",
      fields,
    };
  }
  const where = { ...fields, keyFile: loaded.source.path };
  return loaded.source.generated
    ? {
        level: "warn",
        message: `generated an encryption key for stored credentials at ${loaded.source.path}: back it up (it is not in the database, and without it stored webhook secrets cannot be read), or set MODELDECK_ENCRYPTION_KEY`,
        fields: where,
      }
    : {
        level: "info",
        message: `encryption key for stored credentials from ${loaded.source.path} (keep a backup of it)`,
        fields: where,
      };
}

const globalForKeys = globalThis as unknown as { modeldeckKeys?: LoadedKeys };

export function getEncryptionKeys(): LoadedKeys {
  // Read from the environment now rather than through getConfig's cache, so a reset (after
  // a rotation, in tests) sees the keys as they are set at that moment.
  globalForKeys.modeldeckKeys ??= loadEncryptionKeys(loadConfig());
  return globalForKeys.modeldeckKeys;
}

/** Forgets the loaded keys (tests, and after a rotation in this process). */
export function resetEncryptionKeys(): void {
  globalForKeys.modeldeckKeys = undefined;
}

export function sealSecret(plaintext: string, purpose: string): string {
  return getEncryptionKeys().box.seal(plaintext, purpose);
}

/**
 * Opens a stored credential. A generated key can be rotated under a running process (the
 * rotation replaces the key file): on a value under a key this process does not know, the
 * files are read once more before giving up.
 */
export function openSecret(sealed: string, purpose: string): string {
  const loaded = getEncryptionKeys();
  try {
    return loaded.box.open(sealed, purpose);
  } catch (error) {
    if (
      !(error instanceof SecretBoxError) ||
      error.reason !== "unknown_key" ||
      loaded.source.kind !== "file"
    ) {
      throw error;
    }
    resetEncryptionKeys();
    return getEncryptionKeys().box.open(sealed, purpose);
  }
}
