import { AUTH_EVENTS_CHANNEL, parseAuthEvent, type AuthEvent } from "../auth/events";
import { listenToChannel, type ChannelListener } from "../db/listener";
import type { Logger } from "../log";
import { MODEL_EVENTS_CHANNEL, parseModelEvent, type ModelEvent } from "../registry/events";

/**
 * What a serving instance listens to: the registry's model events (hot swap) and, when it
 * checks tokens, the auth events that invalidate its token cache (lib/auth/events.ts). Both
 * channels share one connection per instance. `onConnected` runs after every (re)connection
 * once LISTEN is in place: notifications sent while disconnected are lost, so the caller
 * re-reads the registry (and re-checks its cached tokens) then.
 */
export function listenToServingEvents(opts: {
  connectionString: string;
  log: Logger;
  onModelEvent: (event: ModelEvent) => void;
  onAuthEvent?: (event: AuthEvent) => void;
  onConnected: () => void;
}): ChannelListener {
  const onAuthEvent = opts.onAuthEvent;
  return listenToChannel({
    connectionString: opts.connectionString,
    channel: onAuthEvent ? [MODEL_EVENTS_CHANNEL, AUTH_EVENTS_CHANNEL] : MODEL_EVENTS_CHANNEL,
    log: opts.log,
    onConnected: opts.onConnected,
    onNotification: (payload, channel) => {
      if (channel === AUTH_EVENTS_CHANNEL) {
        const event = parseAuthEvent(payload);
        if (event) onAuthEvent?.(event);
        else opts.log.warn({ payload }, "ignored a malformed auth event");
        return;
      }
      const event = parseModelEvent(payload);
      if (event) opts.onModelEvent(event);
      else opts.log.warn({ payload }, "ignored a malformed model event");
    },
  });
}
