import { describe, expect, it } from "vitest";
import { parseAuthEvent } from "./events";

describe("auth events", () => {
  it.each([
    [{ kind: "token", tokenId: "t1", change: "revoked" }],
    [{ kind: "token", tokenId: "t1", change: "created" }],
    [{ kind: "user", userId: "u1", change: "disabled" }],
    [{ kind: "user", userId: "u1", change: "role" }],
  ])("parses %o", (event) => {
    expect(parseAuthEvent(JSON.stringify(event))).toEqual(event);
  });

  it.each([
    undefined,
    "",
    "not json",
    JSON.stringify({ kind: "token", change: "revoked" }),
    JSON.stringify({ kind: "user", userId: "u1", change: "renamed" }),
    JSON.stringify({ kind: "session", id: "s1" }),
  ])("ignores %s", (payload) => {
    expect(parseAuthEvent(payload)).toBeNull();
  });
});
