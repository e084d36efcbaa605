import { describe, expect, it } from "vitest";
import { InvalidArtifactKeyError } from "./errors";
import { artifactKeyFor, isSha256Hex, parseArtifactKey } from "./keys";

const hex = "0123456789abcdef".repeat(4);

describe("artifact keys", () => {
  it("derives the key from the digest, lower-casing it", () => {
    expect(artifactKeyFor(hex)).toBe(`sha256/01/23/${hex}`);
    expect(artifactKeyFor(hex.toUpperCase())).toBe(`sha256/01/23/${hex}`);
    expect(parseArtifactKey(artifactKeyFor(hex))).toEqual({
      sha256: hex,
      segments: ["sha256", "01", "23", hex],
    });
  });

  it.each([
    "",
    hex.slice(1),
    `${hex}a`,
    `${hex.slice(1)}g`,
    `../${hex.slice(3)}`,
    ` ${hex.slice(1)}`,
    `${hex.slice(1)}\0`,
  ])("rejects the digest %j", (digest) => {
    expect(isSha256Hex(digest)).toBe(false);
    expect(() => artifactKeyFor(digest)).toThrow(InvalidArtifactKeyError);
  });

  it.each([
    `sha256/01/23/${hex}/`,
    `/sha256/01/23/${hex}`,
    `sha256/01/23/../23/${hex}`,
    `sha256/01/24/${hex}`,
    `sha256/0/123/${hex}`,
    `sha256//01/23/${hex}`,
    `sha256/01/23/${hex.toUpperCase()}`,
    `sha512/01/23/${hex}`,
    "../../../etc/passwd",
    "/etc/passwd",
    `sha256/01/23/${hex}\0.txt`,
    `sha256\\01\\23\\${hex}`,
  ])("rejects the key %j", (key) => {
    expect(() => parseArtifactKey(key)).toThrow(InvalidArtifactKeyError);
  });

  it("quotes a bounded, printable form of the offending value", () => {
    const error = (() => {
      try {
        parseArtifactKey(`${"x".repeat(500)}\u0000`);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message.length).toBeLessThan(200);
    expect(error?.message).not.toContain("\u0000");
  });
});
