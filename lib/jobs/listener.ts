import pg from "pg";
import type { Logger } from "../log";
import { JOB_EVENTS_CHANNEL, parseJobEvent, type JobEvent } from "./events";

/**
 * LISTENs to the job-events channel on a dedicated connection, reconnecting with backoff.
 * `onConnected` runs after every (re)connection once LISTEN is in place, so the caller can
 * re-read what it may have missed while disconnected.
 */
export type JobEventListener = { stop: () => Promise<void>; readonly connected: boolean };

export function listenToJobEvents(opts: {
  connectionString: string;
  log: Logger;
  onEvent: (event: JobEvent) => void;
  onConnected: () => void;
}): JobEventListener {
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
      if (msg.channel !== JOB_EVENTS_CHANNEL) return;
      const event = parseJobEvent(msg.payload);
      if (event) opts.onEvent(event);
    });
    const lost = (error?: unknown) => {
      if (client !== c) return;
      client = null;
      if (connected) opts.log.warn({ err: error }, "job-events connection lost; reconnecting");
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
      await c.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
      if (stopped) {
        await c.end();
        return;
      }
      connected = true;
      attempt = 0;
      opts.onConnected();
    } catch (error) {
      if (attempt === 0) opts.log.warn({ err: error }, "cannot listen to job events yet");
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
