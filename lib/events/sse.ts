import { modelIdsOf, type LiveTopic } from "./channels";
import type { LiveEventHub, LiveSignal } from "./hub";

/**
 * One browser's Server-Sent Events stream over the process's LiveEventHub: `retry:` first,
 * then `ready` once LISTEN is in place, the events that pass the filter, `resync` after the
 * hub reconnected, and a comment line as a heartbeat so proxies and the browser keep the
 * connection open. Missed events are not replayed (there is no event id): a client re-reads
 * what it shows on every `ready` and `resync`.
 *
 * The stream ends, and its subscription goes, when the client disconnects (the request's
 * signal aborts or the body is cancelled), when the client stops reading (more than
 * `maxQueued` events pending), or after `maxLifetimeMs`: the browser then reconnects after
 * `retry` and is authenticated again, so a revoked session does not keep a stream forever.
 */
export type SseStreamOptions = {
  hub: LiveEventHub;
  topics: ReadonlySet<LiveTopic>;
  /** Only events about this model (plus those about no model in particular). */
  modelId?: string;
  signal?: AbortSignal;
  heartbeatMs?: number;
  retryMs?: number;
  maxLifetimeMs?: number;
  maxQueued?: number;
};

export const SSE_DEFAULTS = {
  heartbeatMs: 15_000,
  retryMs: 3_000,
  maxLifetimeMs: 30 * 60_000,
  maxQueued: 256,
} as const;

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  // no-transform: compression middleware (next start's included) must not buffer the stream.
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

/** One SSE message; `data` is JSON on a single line (JSON.stringify never emits newlines). */
export function formatSseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function liveEventStream(opts: SseStreamOptions): ReadableStream<Uint8Array> {
  const heartbeatMs = opts.heartbeatMs ?? SSE_DEFAULTS.heartbeatMs;
  const maxQueued = opts.maxQueued ?? SSE_DEFAULTS.maxQueued;
  const lifetime = opts.maxLifetimeMs ?? SSE_DEFAULTS.maxLifetimeMs;
  const encoder = new TextEncoder();
  let cleanup: (() => void) | null = null;

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          cleanup?.();
          try {
            controller.close();
          } catch {
            // already closed or errored by the consumer
          }
        };
        const write = (text: string): boolean => {
          if (closed) return false;
          // A consumer that stopped reading would make this queue grow without bound.
          if ((controller.desiredSize ?? 1) <= 0) {
            close();
            return false;
          }
          try {
            controller.enqueue(encoder.encode(text));
            return true;
          } catch {
            close();
            return false;
          }
        };

        const onSignal = (signal: LiveSignal) => {
          if (signal.kind === "ready") {
            write(formatSseMessage("ready", { topics: [...opts.topics], heartbeatMs }));
          } else if (signal.kind === "resync") {
            write(formatSseMessage("resync", {}));
          } else {
            const { event } = signal;
            if (!opts.topics.has(event.topic)) return;
            if (opts.modelId) {
              const ids = modelIdsOf(event);
              if (ids.length > 0 && !ids.includes(opts.modelId)) return;
            }
            write(formatSseMessage(event.topic, event.data));
          }
        };

        write(`retry: ${opts.retryMs ?? SSE_DEFAULTS.retryMs}\n: connected\n\n`);
        const unsubscribe = opts.hub.subscribe(onSignal);
        const heartbeat = setInterval(() => write(": heartbeat\n\n"), heartbeatMs);
        // ±10 % so streams opened together do not all reconnect together.
        const end = setTimeout(close, lifetime * (0.9 + Math.random() * 0.2));
        const onAbort = () => close();
        cleanup = () => {
          unsubscribe();
          clearInterval(heartbeat);
          clearTimeout(end);
          opts.signal?.removeEventListener("abort", onAbort);
          cleanup = null;
        };
        if (opts.signal?.aborted) close();
        else opts.signal?.addEventListener("abort", onAbort);
      },
      cancel() {
        cleanup?.();
      },
    },
    new CountQueuingStrategy({ highWaterMark: maxQueued }),
  );
}
