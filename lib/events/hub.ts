import { listenToChannel, type ChannelListener } from "../db/listener";
import { createLogger, type Logger } from "../log";
import { LIVE_CHANNELS, parseLiveNotification, type LiveEvent } from "./channels";

/**
 * Fans the live-page NOTIFY channels out to every open event stream of this process through
 * ONE LISTEN connection, however many browsers are connected. The connection opens with the
 * first subscriber and closes a while after the last one leaves (so navigating between pages
 * does not reconnect each time).
 */
export type LiveSignal =
  /** LISTEN is in place: from now on every change is delivered. Sent to each new subscriber. */
  | { kind: "ready" }
  /** The connection was lost and is back: changes in between were missed; re-read. */
  | { kind: "resync" }
  | { kind: "event"; event: LiveEvent };

export type LiveSubscriber = (signal: LiveSignal) => void;

export class LiveEventHub {
  private readonly subscribers = new Set<LiveSubscriber>();
  /** Subscribers that have not had their "ready" yet (LISTEN not in place when they came). */
  private readonly waiting = new Set<LiveSubscriber>();
  private listener: ChannelListener | null = null;
  private everConnected = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: {
      connectionString: string;
      log: Logger;
      /** How long the connection stays open after the last subscriber left. */
      lingerMs?: number;
    },
  ) {}

  /** Open event streams of this process. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Whether the LISTEN connection is open (tests, health). */
  get connected(): boolean {
    return this.listener?.connected ?? false;
  }

  /** Adds a subscriber; it gets "ready" once LISTEN is in place. Returns the unsubscribe. */
  subscribe(subscriber: LiveSubscriber): () => void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    this.subscribers.add(subscriber);
    if (this.listener?.connected) this.deliver(subscriber, { kind: "ready" });
    else this.waiting.add(subscriber);
    this.listener ??= this.listen();
    return () => this.unsubscribe(subscriber);
  }

  /** Closes the connection now (process shutdown, tests); subscribers are dropped. */
  async stop(): Promise<void> {
    this.subscribers.clear();
    this.waiting.clear();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const listener = this.listener;
    this.listener = null;
    this.everConnected = false;
    await listener?.stop();
  }

  private unsubscribe(subscriber: LiveSubscriber) {
    if (!this.subscribers.delete(subscriber)) return;
    this.waiting.delete(subscriber);
    if (this.subscribers.size > 0 || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.subscribers.size === 0) void this.stop();
    }, this.opts.lingerMs ?? 30_000);
    this.idleTimer.unref();
  }

  private listen(): ChannelListener {
    return listenToChannel({
      connectionString: this.opts.connectionString,
      channel: LIVE_CHANNELS,
      log: this.opts.log,
      applicationName: "modeldeck-live-events",
      onConnected: () => {
        const reconnected = this.everConnected;
        this.everConnected = true;
        for (const s of this.subscribers) {
          const fresh = this.waiting.has(s);
          if (fresh || reconnected) this.deliver(s, { kind: fresh ? "ready" : "resync" });
        }
        this.waiting.clear();
      },
      onNotification: (payload, channel) => {
        const event = parseLiveNotification(channel, payload);
        if (!event) {
          this.opts.log.warn({ channel, payload }, "ignored a malformed live notification");
          return;
        }
        for (const s of this.subscribers) this.deliver(s, { kind: "event", event });
      },
    });
  }

  private deliver(subscriber: LiveSubscriber, signal: LiveSignal) {
    try {
      subscriber(signal);
    } catch (error) {
      // One broken stream must not keep the others from their events.
      this.opts.log.warn({ err: error }, "a live event subscriber failed; dropping it");
      this.unsubscribe(subscriber);
    }
  }
}

/** The web process's hub, on globalThis so dev reloads do not open a second connection. */
const globalForHub = globalThis as unknown as { modeldeckLiveEventHub?: LiveEventHub };

export function getLiveEventHub(): LiveEventHub {
  if (globalForHub.modeldeckLiveEventHub) return globalForHub.modeldeckLiveEventHub;
  const connectionString = process.env.DATABASE_URL;
  if (!connectionString) throw new Error("DATABASE_URL is not set.");
  const hub = new LiveEventHub({ connectionString, log: createLogger("web") });
  globalForHub.modeldeckLiveEventHub = hub;
  return hub;
}
