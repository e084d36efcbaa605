import { InvalidArtifactKeyError } from "./errors";

/**
 * Keys are derived only from the lowercase hex sha256: `sha256/ab/cd/<64 hex>`. Two levels of
 * two hex characters keep directories small (65,536 leaves) for any realistic registry.
 * Everything that maps a key to a location goes through `parseArtifactKey`, so a string
 * that did not come from `artifactKeyFor` can never name a path.
 */
const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/** Accepts upper or lower case (clients paste digests from tools that print either). */
export function artifactKeyFor(sha256: string): string {
  const hex = typeof sha256 === "string" ? sha256.toLowerCase() : "";
  if (!SHA256_HEX.test(hex)) throw new InvalidArtifactKeyError(String(sha256));
  return `sha256/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex}`;
}

/** Returns the key's digest and path segments, or throws before anything touches the disk. */
export function parseArtifactKey(key: string): { sha256: string; segments: string[] } {
  const match = typeof key === "string" ? KEY.exec(key) : null;
  // The prefix directories must be the digest's own first bytes, so each digest has exactly
  // one key (and `exists` cannot be fooled by a key filed under the wrong prefix).
  if (!match || match[3]!.slice(0, 2) !== match[1] || match[3]!.slice(2, 4) !== match[2]) {
    throw new InvalidArtifactKeyError(String(key));
  }
  return { sha256: match[3]!, segments: ["sha256", match[1]!, match[2]!, match[3]!] };
}
