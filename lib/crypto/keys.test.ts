import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, ConfigError } from "../config";
import { KEY_FILE, loadEncryptionKeys, writeKeyFileExclusive } from "./keys";
import { generateEncryptionKey, parseEncryptionKey } from "./secret-box";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "modeldeck-keys-"));
  dirs.push(d);
  return d;
};
const none = { key: undefined, previousKey: undefined };

describe("loadEncryptionKeys", () => {
  it("generates a key file once (0600), reports it, and reads the same key afterwards", () => {
    const dataDir = path.join(tempDir(), "nested", "data");
    const first = loadEncryptionKeys({ dataDir, encryption: none });
    expect(first.source).toMatchObject({ kind: "file", generated: true });
    const file = path.join(dataDir, KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(parseEncryptionKey(readFileSync(file, "utf8"))?.equals(first.box.current.key)).toBe(
      true,
    );
    const again = loadEncryptionKeys({ dataDir, encryption: none });
    expect(again.source).toMatchObject({ kind: "file", generated: false });
    expect(again.box.current.id).toBe(first.box.current.id);
  });

  it("lets exactly one of several writers create the file; every writer gets that key", () => {
    const file = path.join(tempDir(), KEY_FILE);
    const candidates = [1, 2, 3, 4].map(() => generateEncryptionKey());
    const results = candidates.map((k) => writeKeyFileExclusive(file, k));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results[0]!.key.equals(candidates[0]!)).toBe(true);
  });

  it("takes the key (and the previous one) from the environment without touching the disk", () => {
    const dataDir = path.join(tempDir(), "untouched");
    const key = generateEncryptionKey().toString("base64");
    const previousKey = generateEncryptionKey().toString("hex");
    const loaded = loadEncryptionKeys({ dataDir, encryption: { key, previousKey } });
    expect(loaded.source.kind).toBe("env");
    expect(loaded.box.others).toHaveLength(1);
    expect(() => statSync(dataDir)).toThrow();
  });
});

describe("encryption key configuration", () => {
  it("refuses a malformed key, and a previous key without a current one, with a clear message", () => {
    expect(() => loadConfig({ MODELDECK_ENCRYPTION_KEY: "too-short" })).toThrow(ConfigError);
    expect(() => loadConfig({ MODELDECK_ENCRYPTION_KEY: "too-short" })).toThrow(
      /MODELDECK_ENCRYPTION_KEY: expected a 32-byte key/,
    );
    const key = generateEncryptionKey().toString("base64");
    expect(() => loadConfig({ MODELDECK_ENCRYPTION_KEY_PREVIOUS: key })).toThrow(
      /only read with MODELDECK_ENCRYPTION_KEY/,
    );
    expect(loadConfig({ MODELDECK_ENCRYPTION_KEY: key }).encryption.key).toBe(key);
    // An empty value (an optional Secret key left blank) means unset.
    expect(
      loadConfig({ MODELDECK_ENCRYPTION_KEY: key, MODELDECK_ENCRYPTION_KEY_PREVIOUS: "" })
        .encryption,
    ).toEqual({ key, previousKey: undefined });
  });
});
