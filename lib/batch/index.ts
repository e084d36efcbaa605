export * from "./batch";
export { BatchPoller, type BatchPollerOptions } from "./poller";
