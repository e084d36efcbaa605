import pg from "pg";
import type { Logger } from "../log";
import { MODEL_EVENTS_CHANNEL, parseModelEvent, type ModelEvent } from "../registry/events";

/**
 * Listens to the registry's model-events channel on a dedicated connection (LISTEN needs one
 * session for its lifetime, which a pool cannot give). When the connection drops it
 * reconnects with backoff. `onConnected` runs after every (re)connection, once LISTEN is in
 * place: notifications sent while disconnected are lost, so the caller re-reads the registry
 * then, knowing that anything committed later will be notified.
 */
export type ModelEventListener = { stop: () => Promise<void>; readonly connected: boolean };

export function listenToModelEvents(opts: {
  connectionString: string;
  log: Logger;
  onEvent: (event: ModelEvent) => void;
  onConnected: () => void;
}): ModelEventListener {
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
      if (msg.channel !== MODEL_EVENTS_CHANNEL) return;
      const event = parseModelEvent(msg.payload);
      if (event) opts.onEvent(event);
      else opts.log.warn({ payload: msg.payload }, "ignored a malformed model event");
    });
    const lost = (error?: unknown) => {
      if (client !== c) return;
      client = null;
      if (connected) opts.log.warn({ err: error }, "model-events connection lost; reconnecting");
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
      await c.query(`LISTEN ${MODEL_EVENTS_CHANNEL}`);
      if (stopped) {
        await c.end();
        return;
      }
      connected = true;
      attempt = 0;
      opts.log.info({ channel: MODEL_EVENTS_CHANNEL }, "listening to model events");
      opts.onConnected();
    } catch (error) {
      if (attempt === 0) opts.log.warn({ err: error }, "cannot listen to model events yet");
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
