import pg from "pg";
import type { Logger } from "../log";

/**
 * Listens to Postgres NOTIFY channels on one dedicated connection (LISTEN needs one
 * session for its lifetime, which a pool cannot give). When the connection drops it
 * reconnects with backoff. `onConnected` runs after every (re)connection, once LISTEN is in
 * place: notifications sent while disconnected are lost, so the caller re-reads what it
 * follows then, knowing that anything committed later will be notified.
 */
export type ChannelListener = { stop: () => Promise<void>; readonly connected: boolean };

export function listenToChannel(opts: {
  connectionString: string;
  /** Fixed identifiers of ours (not user input): they are part of the LISTEN statements. */
  channel: string | readonly string[];
  log: Logger;
  onNotification: (payload: string | undefined, channel: string) => void;
  onConnected: () => void;
  /** Shown in pg_stat_activity, so the connection can be told apart. */
  applicationName?: string;
}): ChannelListener {
  const channels: readonly string[] =
    typeof opts.channel === "string" ? [opts.channel] : opts.channel;
  for (const channel of channels) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Bad channel name ${channel}`);
  }
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
    const c = new pg.Client({
      connectionString: opts.connectionString,
      keepAlive: true,
      application_name: opts.applicationName,
    });
    client = c;
    c.on("notification", (msg) => {
      if (channels.includes(msg.channel)) opts.onNotification(msg.payload, msg.channel);
    });
    const lost = (error?: unknown) => {
      if (client !== c) return;
      client = null;
      if (connected) {
        opts.log.warn({ err: error, channels }, "notification connection lost; reconnecting");
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
      for (const channel of channels) await c.query(`LISTEN ${channel}`);
      if (stopped) {
        await c.end();
        return;
      }
      connected = true;
      attempt = 0;
      opts.log.info({ channels }, "listening for notifications");
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
