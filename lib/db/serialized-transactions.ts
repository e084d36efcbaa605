import type {
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  Transaction,
} from "@prisma/driver-adapter-utils";

/**
 * Prisma 7's query interpreter loads the relations of one operation (an `include`, a nested
 * `select`) in parallel. Outside a transaction each read takes its own pooled connection; inside
 * an interactive transaction they all go to the transaction's one `pg` client, which queues
 * them but warns ("Calling client.query() when the client is already executing a query is
 * deprecated", an error from pg@9). Queuing them here, per transaction, keeps the same order of
 * execution without relying on that deprecated behaviour.
 */
export function withSerializedTransactions(
  factory: SqlDriverAdapterFactory,
): SqlDriverAdapterFactory {
  return new Proxy(factory, {
    get(target, prop) {
      if (prop === "connect") {
        return async () => serializeAdapter(await target.connect());
      }
      return bound(target, prop);
    },
  });
}

function serializeAdapter(adapter: SqlDriverAdapter): SqlDriverAdapter {
  return new Proxy(adapter, {
    get(target, prop) {
      if (prop === "startTransaction") {
        return async (...args: Parameters<SqlDriverAdapter["startTransaction"]>) =>
          serializeTransaction(await target.startTransaction(...args));
      }
      return bound(target, prop);
    },
  });
}

function serializeTransaction(tx: Transaction): Transaction {
  // Every call waits for the previous one to settle, whatever its outcome.
  let tail: Promise<unknown> = Promise.resolve();
  const queued =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const run = tail.then(
        () => fn(...args),
        () => fn(...args),
      );
      tail = run.catch(() => undefined);
      return run;
    };
  const queryRaw = queued(tx.queryRaw.bind(tx));
  const executeRaw = queued(tx.executeRaw.bind(tx));
  const commit = queued(tx.commit.bind(tx));
  const rollback = queued(tx.rollback.bind(tx));
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === "queryRaw") return queryRaw;
      if (prop === "executeRaw") return executeRaw;
      if (prop === "commit") return commit;
      if (prop === "rollback") return rollback;
      return bound(target, prop);
    },
  });
}

/** Methods of the wrapped object run with it as `this` (its classes use private fields). */
function bound(target: object, prop: string | symbol): unknown {
  const value: unknown = Reflect.get(target, prop);
  return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}
