import { memoryAdapter } from "better-auth/adapters/memory";
import { describe, expect, it } from "vitest";
import { hashSessionToken, withHashedSessionTokens } from "./session-tokens";

/** The adapter wrapper over better-auth's own in-memory adapter: what is stored, what is returned. */
function setup() {
  const tables: Record<string, Record<string, unknown>[]> = {
    user: [],
    session: [],
    account: [],
    verification: [],
  };
  const adapter = withHashedSessionTokens(memoryAdapter(tables)({}));
  return { tables, adapter };
}

const session = (token: string, userId = "u1") => ({
  token,
  userId,
  expiresAt: new Date(Date.now() + 3600_000),
  createdAt: new Date(),
  updatedAt: new Date(),
});

describe("withHashedSessionTokens", () => {
  it("stores the hash, hands back the token, and finds, updates and deletes by token", async () => {
    const { tables, adapter } = setup();
    const created = await adapter.create<Record<string, unknown>>({
      model: "session",
      data: session("tok-1"),
    });
    expect(created.token).toBe("tok-1");
    expect(tables.session!.map((s) => s.token)).toEqual([hashSessionToken("tok-1")]);

    const where = [{ field: "token", value: "tok-1" }];
    const found = await adapter.findOne<Record<string, unknown>>({ model: "session", where });
    expect(found?.token).toBe("tok-1");
    // The stored hash is not a token: looking it up finds nothing.
    expect(
      await adapter.findOne({
        model: "session",
        where: [{ field: "token", value: hashSessionToken("tok-1") }],
      }),
    ).toBeNull();

    const later = new Date(Date.now() + 7200_000);
    const updated = await adapter.update<Record<string, unknown>>({
      model: "session",
      where,
      update: { expiresAt: later },
    });
    expect(updated?.token).toBe("tok-1");
    expect(tables.session![0]!.token).toBe(hashSessionToken("tok-1"));

    await adapter.create({ model: "session", data: session("tok-2") });
    const many = await adapter.findMany<Record<string, unknown>>({
      model: "session",
      where: [{ field: "token", value: ["tok-1", "tok-2"], operator: "in" }],
    });
    expect(many.map((s) => s.token).sort()).toEqual(["tok-1", "tok-2"]);
    // Listed by user, a session carries only its hash.
    const byUser = await adapter.findMany<Record<string, unknown>>({
      model: "session",
      where: [{ field: "userId", value: "u1" }],
    });
    expect(byUser.map((s) => s.token).sort()).toEqual(
      [hashSessionToken("tok-1"), hashSessionToken("tok-2")].sort(),
    );

    await adapter.delete({ model: "session", where });
    expect(tables.session!.map((s) => s.token)).toEqual([hashSessionToken("tok-2")]);
    expect(
      await adapter.deleteMany({
        model: "session",
        where: [{ field: "token", value: ["tok-2"], operator: "in" }],
      }),
    ).toBe(1);
    expect(tables.session).toHaveLength(0);
  });

  it("hashes inside transactions too, and leaves other models alone", async () => {
    const { tables, adapter } = setup();
    await adapter.transaction(async (trx) => {
      await trx.create({ model: "session", data: session("in-tx") });
      await trx.create({
        model: "verification",
        data: { identifier: "x", value: "token-like", expiresAt: new Date() },
      });
    });
    expect(tables.session!.map((s) => s.token)).toEqual([hashSessionToken("in-tx")]);
    expect(tables.verification!.map((v) => v.value)).toEqual(["token-like"]);
  });
});
