import "./v8-flags";
import cluster from "node:cluster";
import { getConfig } from "../../lib/config";

/**
 * The serving process (data plane). With MODELDECK_SERVING_WORKERS > 1 this process is the
 * primary of a node:cluster that runs that many serving workers on one port
 * (workers/serving/primary.ts); otherwise it serves itself (workers/serving/instance.ts).
 */
if (cluster.isPrimary && getConfig().serving.workers > 1) {
  await import("./primary");
} else {
  await import("./instance");
}
