import { AggregatorRegistry, type Registry } from "prom-client";

/** Messages between serving workers and their primary (workers/serving/primary.ts). */
export const METRICS_REQUEST = "modeldeck:metrics-request";
export const METRICS_REPLY = "modeldeck:metrics-reply";

export type MetricsRequest = { type: typeof METRICS_REQUEST; id: number };
export type MetricsReply = {
  type: typeof METRICS_REPLY;
  id: number;
  text?: string;
  error?: string;
};
export type WorkerMessage = MetricsRequest | { type: "ready" } | undefined;

/**
 * In a serving worker: answers the primary's requests for this worker's metrics (prom-client's
 * AggregatorRegistry protocol) and returns the function the /metrics route uses, which asks
 * the primary for the metrics of every worker together.
 */
export function clusterMetricsFromPrimary(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // constructing it installs the worker's answering listener
  let next = 0;
  const pending = new Map<
    number,
    { resolve: (text: string) => void; reject: (e: Error) => void }
  >();
  process.on("message", (message: MetricsReply | undefined) => {
    if (message?.type !== METRICS_REPLY) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.text ?? "");
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      process.send!({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
      setTimeout(() => {
        if (pending.delete(id)) reject(new Error("The serving primary did not send the metrics."));
      }, 5_000).unref();
    });
}
