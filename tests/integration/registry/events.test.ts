import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { Prisma, PrismaClient } from "../../../lib/db/generated/client";
import {
  archiveVersion,
  createVersion,
  deleteModel,
  getAliasHistory,
  MODEL_EVENTS_CHANNEL,
  parseModelEvent,
  removeAlias,
  setAlias,
  type ModelEvent,
} from "../../../lib/registry";
import { useRegistryDb } from "./fixtures";

const M = "fraud-detector";

describe("lib/registry model events (LISTEN/NOTIFY)", () => {
  const t = useRegistryDb();
  const { db } = t;

  const listeners: pg.Client[] = [];
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((c) => c.end()));
  });

  /** A LISTEN on its own connection, as the serving process would hold one. */
  async function listen() {
    const client = new pg.Client({ connectionString: db.url });
    listeners.push(client);
    await client.connect();
    const events: ModelEvent[] = [];
    let wake: () => void = () => {};
    client.on("notification", (message) => {
      if (message.channel !== MODEL_EVENTS_CHANNEL) return;
      const event = parseModelEvent(message.payload);
      expect(event, message.payload).not.toBeNull();
      events.push(event!);
      wake();
    });
    await client.query(`LISTEN ${MODEL_EVENTS_CHANNEL}`);
    return {
      events,
      /** Resolves once `n` events in total have arrived (or fails after `ms`). */
      async waitFor(n: number, ms = 5_000) {
        const deadline = Date.now() + ms;
        while (events.length < n) {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`expected ${n} events, got ${events.length}`);
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, left);
          });
        }
        return events;
      },
    };
  }

  /**
   * The client, except that inside its transactions writing the audit entry fails, after
   * everything else (including the NOTIFY) was issued: the transaction rolls back.
   */
  function withFailingAudit(client: PrismaClient, notifies: string[]): PrismaClient {
    const wrapTx = (tx: Prisma.TransactionClient) =>
      new Proxy(tx, {
        get(target, prop, receiver) {
          if (prop === "auditEntry") {
            return { create: () => Promise.reject(new Error("audit store unavailable")) };
          }
          if (prop === "$executeRaw") {
            return (strings: TemplateStringsArray, ...values: unknown[]) => {
              if (strings.join("?").includes("pg_notify")) notifies.push(String(values[1]));
              return target.$executeRaw(strings, ...values);
            };
          }
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    return new Proxy(client, {
      get(target, prop, receiver) {
        if (prop !== "$transaction") return Reflect.get(target, prop, receiver) as unknown;
        return (fn: (tx: Prisma.TransactionClient) => Promise<unknown>, options?: object) =>
          target.$transaction((tx) => fn(wrapTx(tx)), options);
      },
    });
  }

  it("delivers an alias.moved event after the move commits", async () => {
    const operator = await t.seedActor("operator");
    await t.seedModel(operator);
    const [v1, v2] = await t.seedVersions(operator, M, 2);
    await setAlias(db.client, operator, { modelName: M, alias: "production", version: 1 });

    const listener = await listen();
    const moved = await setAlias(db.client, operator, {
      modelName: M,
      alias: "production",
      version: 2,
      reason: "better",
    });
    const [event] = await listener.waitFor(1);
    expect(moved.outcome).toBe("moved");
    expect(event).toEqual({
      type: "alias.moved",
      modelId: v2!.modelId,
      model: M,
      alias: "production",
      version: 2,
      versionId: v2!.id,
      fromVersion: 1,
      kind: "promote",
      historyId: moved.outcome === "moved" ? moved.history.id : "",
      actor: operator.label,
      at: moved.outcome === "moved" ? moved.history.at : "",
    });
    expect(v1!.version).toBe(1);
  });

  it("delivers nothing for a change that rolled back after issuing its NOTIFY, nor for a refused one", async () => {
    const operator = await t.seedActor("operator");
    await t.seedModel(operator);
    await t.seedVersions(operator, M, 3);
    await setAlias(db.client, operator, { modelName: M, alias: "production", version: 1 });
    await archiveVersion(db.client, operator, { modelName: M, version: 3 });
    const listener = await listen();

    const notifies: string[] = [];
    const failing = withFailingAudit(db.client, notifies);
    await expect(
      setAlias(failing, operator, { modelName: M, alias: "production", version: 2 }),
    ).rejects.toThrow("audit store unavailable");
    // The NOTIFY really was issued in that transaction...
    expect(notifies).toHaveLength(1);
    expect(JSON.parse(notifies[0]!)).toMatchObject({ type: "alias.moved", version: 2 });
    // ...and everything it did was rolled back.
    expect((await db.client.modelAlias.findFirstOrThrow()).versionId).toBe(
      (await db.client.modelVersion.findFirstOrThrow({ where: { version: 1 } })).id,
    );
    expect(await getAliasHistory(db.client, M)).toHaveLength(1);

    // A refused change (archived target) issues nothing either.
    await t.refused(409, () =>
      setAlias(db.client, operator, { modelName: M, alias: "production", version: 3 }),
    );

    // Notifications arrive in commit order: once this marker's event is here, any event of
    // the failed attempts would have arrived before it.
    await setAlias(db.client, operator, { modelName: M, alias: "staging", version: 2 });
    const events = await listener.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events.map((e) => [e.type, e.alias, e.version])).toEqual([
      ["alias.moved", "staging", 2],
    ]);
  });

  it("announces each kind of registry change, in commit order", async () => {
    const admin = await t.seedActor("admin");
    const listener = await listen();
    await t.seedModel(admin);
    await createVersion(db.client, admin, t.versionInput(M, "a"));
    await createVersion(db.client, admin, t.versionInput(M, "b"));
    await setAlias(db.client, admin, { modelName: M, alias: "staging", version: 1 });
    await setAlias(db.client, admin, { modelName: M, alias: "staging", version: 2 });
    await removeAlias(db.client, admin, { modelName: M, alias: "staging" });
    await archiveVersion(db.client, admin, { modelName: M, version: 1 });
    await deleteModel(db.client, admin, M);

    const events = await listener.waitFor(8);
    expect(events.map((e) => [e.type, e.alias, e.version, e.fromVersion ?? null])).toEqual([
      ["model.created", null, null, null],
      ["version.created", null, 1, null],
      ["version.created", null, 2, null],
      ["alias.moved", "staging", 1, null],
      ["alias.moved", "staging", 2, 1],
      ["alias.removed", "staging", null, 2],
      ["version.archived", null, 1, null],
      ["model.deleted", null, null, null],
    ]);
    expect(new Set(events.map((e) => e.model))).toEqual(new Set([M]));
    expect(events.every((e) => e.actor === admin.label && !Number.isNaN(Date.parse(e.at)))).toBe(
      true,
    );
  });

  it("under concurrent promotions, events follow the history order", async () => {
    const operator = await t.seedActor("operator");
    await t.seedModel(operator);
    const versions = await t.seedVersions(operator, M, 15);
    const clients = await t.clients(4);
    const listener = await listen();
    await Promise.all(
      versions.map((v, i) =>
        setAlias(clients[i % clients.length]!, operator, {
          modelName: M,
          alias: "production",
          version: v.version,
        }),
      ),
    );
    const events = await listener.waitFor(15);
    const history = (await getAliasHistory(db.client, M, "production")).reverse();
    expect(events.map((e) => e.historyId)).toEqual(history.map((h) => h.id));
    expect(events.map((e) => e.fromVersion)).toEqual(
      history.map((h) => h.fromVersion?.version ?? null),
    );
  });

  it("parseModelEvent rejects what is not an event", () => {
    expect(parseModelEvent(undefined)).toBeNull();
    expect(parseModelEvent("not json")).toBeNull();
    expect(parseModelEvent('{"type":"alias.moved"}')).toBeNull();
  });
});
