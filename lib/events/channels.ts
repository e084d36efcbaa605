import { z } from "zod";
import { ALERT_EVENTS_CHANNEL } from "../alerts/notify";
import { MODEL_EVENTS_CHANNEL, modelEventSchema } from "../registry/events";

export { ALERT_EVENTS_CHANNEL };

/**
 * The Postgres NOTIFY channels that live pages follow, and what their payloads look like.
 * Every payload is a hint to re-read, never the data itself: notifications are lost while a
 * listener is disconnected, and Postgres caps a payload at 8000 bytes.
 */

/** The serving process, after each prediction-log flush: these models' rollups changed. */
export const METRICS_CHANNEL = "modeldeck_metrics";

export const LIVE_CHANNELS = [METRICS_CHANNEL, MODEL_EVENTS_CHANNEL, ALERT_EVENTS_CHANNEL] as const;

const metricsNotification = z.object({
  type: z.literal("metrics.updated"),
  /** Model ids (not names): the serving process knows ids. */
  models: z.array(z.string()).max(1000),
});

/** lib/alerts/notify.ts: alert.<state>, rule.<change>, silence.<change>. */
const alertNotification = z.object({
  type: z.string().regex(/^[a-z]+\.[a-z_]+$/),
  alertId: z.string().nullable().optional(),
  ruleId: z.string().nullable().optional(),
  modelId: z.string().nullable().optional(),
});

/**
 * What `GET /api/v1/events` sends, by SSE event name (the `topic`). The same shapes are the
 * event stream's contract in lib/api/contracts/events.ts.
 */
export const metricsEventSchema = z.object({
  type: z.literal("metrics.updated"),
  modelIds: z.array(z.string()),
});
export const alertEventSchema = z.object({
  /** alert.pending | alert.firing | alert.resolved | alert.acknowledged | …, rule.*, silence.* */
  type: z.string(),
  alertId: z.string().nullable(),
  ruleId: z.string().nullable(),
  modelId: z.string().nullable(),
});

export type LiveEvent =
  | { topic: "metrics"; data: z.infer<typeof metricsEventSchema> }
  | { topic: "model"; data: z.infer<typeof modelEventSchema> }
  | { topic: "alert"; data: z.infer<typeof alertEventSchema> };
export type LiveTopic = LiveEvent["topic"];
export const LIVE_TOPICS = ["metrics", "model", "alert"] as const satisfies readonly LiveTopic[];

function parseJson(payload: string | undefined): unknown {
  if (!payload) return undefined;
  try {
    return JSON.parse(payload);
  } catch {
    return undefined;
  }
}

/** A notification as the event a live page receives, or null when it is malformed. */
export function parseLiveNotification(
  channel: string,
  payload: string | undefined,
): LiveEvent | null {
  const json = parseJson(payload);
  if (channel === METRICS_CHANNEL) {
    const parsed = metricsNotification.safeParse(json);
    return parsed.success
      ? { topic: "metrics", data: { type: parsed.data.type, modelIds: parsed.data.models } }
      : null;
  }
  if (channel === MODEL_EVENTS_CHANNEL) {
    const parsed = modelEventSchema.safeParse(json);
    return parsed.success ? { topic: "model", data: parsed.data } : null;
  }
  if (channel === ALERT_EVENTS_CHANNEL) {
    const parsed = alertNotification.safeParse(json);
    return parsed.success
      ? {
          topic: "alert",
          data: {
            type: parsed.data.type,
            alertId: parsed.data.alertId ?? null,
            ruleId: parsed.data.ruleId ?? null,
            modelId: parsed.data.modelId ?? null,
          },
        }
      : null;
  }
  return null;
}

/** The models an event concerns (empty: none in particular, e.g. an alert on job runs). */
export function modelIdsOf(event: LiveEvent): string[] {
  switch (event.topic) {
    case "metrics":
      return event.data.modelIds;
    case "model":
      return [event.data.modelId];
    case "alert":
      return event.data.modelId ? [event.data.modelId] : [];
  }
}

/**
 * The statement that announces these models' rollups changed (for node-postgres `query`;
 * delivered when the surrounding transaction commits). The serving process sends it after
 * each prediction-log flush.
 */
export function metricsUpdatedNotifyQuery(modelIds: string[]): { text: string; values: unknown[] } {
  // 36-character UUIDs: 150 per payload stay well under Postgres's 8000-byte cap.
  const payloads: string[] = [];
  for (let i = 0; i < modelIds.length; i += 150) {
    payloads.push(JSON.stringify({ type: "metrics.updated", models: modelIds.slice(i, i + 150) }));
  }
  return {
    text: "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
    values: [METRICS_CHANNEL, payloads],
  };
}
