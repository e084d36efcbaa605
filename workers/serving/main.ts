import cluster from "node:cluster";
import v8 from "node:v8";
import { getConfig } from "../../lib/config";

// Allocation-site pretenuring misfires on a server: the objects of the requests in flight
// survive the scavenge that finds them (a few ms of life, tens of requests at once), so V8
// starts allocating every request's objects straight in the old generation, which then
// grows by megabytes a second and makes each scavenge several times slower. Measured in
// bench/serving (MLP, 64 clients, logging off): scavenges 6–9 ms → 1–2 ms, the heap flat at
// 50 MB instead of climbing past 140, server CPU per request 85–95 µs → 53 µs. Set before the
// serving code is loaded, so no allocation site has been pretenured yet.
v8.setFlagsFromString("--no-allocation-site-pretenuring");

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
