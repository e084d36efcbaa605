import { listenToChannel, type ChannelListener } from "../db/listener";
import type { Logger } from "../log";
import { JOB_EVENTS_CHANNEL, parseJobEvent, type JobEvent } from "./events";

/**
 * The job events, for the scheduler. `onConnected` runs after every (re)connection once
 * LISTEN is in place, so the caller can re-read what it may have missed while disconnected.
 */
export type JobEventListener = ChannelListener;

export function listenToJobEvents(opts: {
  connectionString: string;
  log: Logger;
  onEvent: (event: JobEvent) => void;
  onConnected: () => void;
}): JobEventListener {
  return listenToChannel({
    connectionString: opts.connectionString,
    channel: JOB_EVENTS_CHANNEL,
    log: opts.log,
    onConnected: opts.onConnected,
    onNotification: (payload) => {
      const event = parseJobEvent(payload);
      if (event) opts.onEvent(event);
    },
  });
}
