import { listenToChannel, type ChannelListener } from "../db/listener";
import type { Logger } from "../log";
import { MODEL_EVENTS_CHANNEL, parseModelEvent, type ModelEvent } from "../registry/events";

/**
 * The registry's model events, for the serving process. `onConnected` runs after every
 * (re)connection once LISTEN is in place: notifications sent while disconnected are lost, so
 * the caller re-reads the registry then.
 */
export function listenToModelEvents(opts: {
  connectionString: string;
  log: Logger;
  onEvent: (event: ModelEvent) => void;
  onConnected: () => void;
}): ChannelListener {
  return listenToChannel({
    connectionString: opts.connectionString,
    channel: MODEL_EVENTS_CHANNEL,
    log: opts.log,
    onConnected: opts.onConnected,
    onNotification: (payload) => {
      const event = parseModelEvent(payload);
      if (event) opts.onEvent(event);
      else opts.log.warn({ payload }, "ignored a malformed model event");
    },
  });
}
