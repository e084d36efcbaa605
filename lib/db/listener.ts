import pg from "pg";
import type { Logger } from "../log";

/**
 * Listens to a Postgres NOTIFY channel on a dedicated connection (LISTEN needs one
 * session for its lifetime, which a pool cannot give). When the connection drops it
 * reconnects with backoff. `onConnected` runs after every (re)connection, once LISTEN is in
 * place: notifications sent while disconnected are lost, so the caller re-reads what it
 * follows then, knowing that anything committed later will be notified.
 */
export type ChannelListener = { stop: () => Promise<void>; readonly connected: boolean };

export function listenToChannel(opts: {
  connectionString: string;
  /** A fixed identifier of ours (not user input): it is part of the LISTEN statement. */
  channel: string;
  log: Logger;
  onNotification: (payload: string | undefined) => void;
  onConnected: () => void;
}): ChannelListener {
  if (!/^[a-z_][a-z0-9_]*$/.test(opts.channel)) throw new Error(`Bad channel name ${opts.channel}`);
  let client: pg.Client | null = null;
  let stopped = false;
  let connected = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | null = null;

  const schedule = () => {
    if (stopped || retryTimer) return;
    const delay = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
    attempt++;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void connect();
    }, delay);
  };

  const connect = async () => {
    const c = new pg.Client({ connectionString: opts.connectionString, keepAlive: true });
    client = c;
    c.on("notification", (msg) => {
      if (msg.channel === opts.channel) opts.onNotification(msg.payload);
    });
    const lost = (error?: unknown) => {
      if (client !== c) return;
      client = null;
      if (connected) {
        opts.log.warn(
          { err: error, channel: opts.channel },
          "notification connection lost; reconnecting",
        );
      }
      connected = false;
      c.removeAllListeners();
      c.on("error", () => undefined);
      void c.end().catch(() => undefined);
      schedule();
    };
    c.on("error", lost);
    c.on("end", () => lost());
    try {
      await c.connect();
      await c.query(`LISTEN ${opts.channel}`);
      if (stopped) {
        await c.end();
        return;
      }
      connected = true;
      attempt = 0;
      opts.log.info({ channel: opts.channel }, "listening for notifications");
      opts.onConnected();
    } catch (error) {
      if (attempt === 0) opts.log.warn({ err: error }, "cannot listen for notifications yet");
      lost(error);
    }
  };

  void connect();
  return {
    get connected() {
      return connected;
    },
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = null;
      connected = false;
      if (c) {
        c.removeAllListeners();
        c.on("error", () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
