import { createHash } from "node:crypto";
import type {
  DBAdapter,
  DBAdapterInstance,
  DBTransactionAdapter,
  Where,
} from "better-auth/adapters";

/**
 * Session tokens are stored as their SHA-256 (hex), never in clear: the cookie carries the
 * token signed with the auth secret, and the database only the token's hash. Someone who
 * reads the database (a dump, a backup, a replica) and the secret can therefore not build a
 * cookie that is accepted. The token is 32 random characters, so an unsalted fast hash is
 * enough (nothing to guess); lookups stay an indexed equality on the unique column.
 *
 * better-auth reads and writes sessions by token through its database adapter; the adapter
 * below hashes every token on its way in and hands back the token the caller asked with on
 * the way out, so better-auth itself (sign-in, session lookup and refresh, sign-out) works
 * unchanged. A session listed by user carries only its hash, which opens nothing: the
 * better-auth routes that hand listed tokens back to clients are switched off (lib/auth/auth.ts).
 */
export function hashSessionToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

const SESSION_MODEL = "session";
const TOKEN_FIELD = "token";

type Row = Record<string, unknown>;

/** The where clause with each token replaced by its hash, and hash → token for the results. */
function hashWhere(where: Where[] | undefined): {
  where: Where[] | undefined;
  plain: Map<string, string>;
} {
  const plain = new Map<string, string>();
  if (!where) return { where, plain };
  const hashed = where.map((w) => {
    if (w.field !== TOKEN_FIELD) return w;
    const one = (t: string) => {
      const h = hashSessionToken(t);
      plain.set(h, t);
      return h;
    };
    if (typeof w.value === "string") return { ...w, value: one(w.value) };
    if (Array.isArray(w.value)) return { ...w, value: (w.value as string[]).map(one) };
    return w;
  });
  return { where: hashed, plain };
}

function restore<T>(row: T, plain: Map<string, string>): T {
  if (!row || typeof row !== "object") return row;
  const r = row as Row;
  const token = typeof r[TOKEN_FIELD] === "string" ? plain.get(r[TOKEN_FIELD]) : undefined;
  return token === undefined ? row : ({ ...r, [TOKEN_FIELD]: token } as T);
}

type Ops = DBTransactionAdapter;

function withHashedTokenOps<A extends Ops>(adapter: A): A {
  const isSession = (model: string) => model === SESSION_MODEL;
  return {
    ...adapter,
    create: (async (data: Parameters<Ops["create"]>[0]) => {
      if (!isSession(data.model)) return adapter.create(data);
      const input = data.data as Row;
      const token = input[TOKEN_FIELD];
      if (typeof token !== "string") return adapter.create(data);
      const hash = hashSessionToken(token);
      const row = await adapter.create({ ...data, data: { ...input, [TOKEN_FIELD]: hash } });
      return restore(row, new Map([[hash, token]]));
    }) as Ops["create"],
    findOne: (async (data: Parameters<Ops["findOne"]>[0]) => {
      if (!isSession(data.model)) return adapter.findOne(data);
      const { where, plain } = hashWhere(data.where);
      return restore(await adapter.findOne({ ...data, where: where! }), plain);
    }) as Ops["findOne"],
    findMany: (async (data: Parameters<Ops["findMany"]>[0]) => {
      if (!isSession(data.model)) return adapter.findMany(data);
      const { where, plain } = hashWhere(data.where);
      const rows = await adapter.findMany({ ...data, where });
      return rows.map((r) => restore(r, plain));
    }) as Ops["findMany"],
    count: (async (data: Parameters<Ops["count"]>[0]) => {
      if (!isSession(data.model)) return adapter.count(data);
      return adapter.count({ ...data, where: hashWhere(data.where).where });
    }) as Ops["count"],
    update: (async (data: Parameters<Ops["update"]>[0]) => {
      if (!isSession(data.model)) return adapter.update(data);
      const { where, plain } = hashWhere(data.where);
      return restore(await adapter.update({ ...data, where: where! }), plain);
    }) as Ops["update"],
    updateMany: (async (data: Parameters<Ops["updateMany"]>[0]) => {
      if (!isSession(data.model)) return adapter.updateMany(data);
      return adapter.updateMany({ ...data, where: hashWhere(data.where).where! });
    }) as Ops["updateMany"],
    delete: (async (data: Parameters<Ops["delete"]>[0]) => {
      if (!isSession(data.model)) return adapter.delete(data);
      return adapter.delete({ ...data, where: hashWhere(data.where).where! });
    }) as Ops["delete"],
    deleteMany: (async (data: Parameters<Ops["deleteMany"]>[0]) => {
      if (!isSession(data.model)) return adapter.deleteMany(data);
      return adapter.deleteMany({ ...data, where: hashWhere(data.where).where! });
    }) as Ops["deleteMany"],
    consumeOne: (async (data: Parameters<Ops["consumeOne"]>[0]) => {
      if (!isSession(data.model)) return adapter.consumeOne(data);
      const { where, plain } = hashWhere(data.where);
      return restore(await adapter.consumeOne({ ...data, where: where! }), plain);
    }) as Ops["consumeOne"],
    incrementOne: (async (data: Parameters<Ops["incrementOne"]>[0]) => {
      if (!isSession(data.model)) return adapter.incrementOne(data);
      const { where, plain } = hashWhere(data.where);
      return restore(await adapter.incrementOne({ ...data, where: where! }), plain);
    }) as Ops["incrementOne"],
  };
}

export function withHashedSessionTokens(adapter: DBAdapter): DBAdapter {
  return {
    ...withHashedTokenOps(adapter),
    // Work done inside a transaction goes through the transaction's adapter: wrap it too.
    transaction: (callback) => adapter.transaction((trx) => callback(withHashedTokenOps(trx))),
  };
}

/** better-auth's `database` option: `adapterInstance` with session tokens hashed. */
export function hashingSessionTokens(adapterInstance: DBAdapterInstance): DBAdapterInstance {
  return (options) => withHashedSessionTokens(adapterInstance(options));
}
