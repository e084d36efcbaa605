import type { Logger } from "../../lib/log";

/**
 * Shutdown wiring shared by every child process. A child started by the supervisor has an
 * IPC channel; when the supervisor dies (even by SIGKILL) the channel closes, and the child
 * shuts itself down instead of lingering with its port bound.
 */
/**
 * Past this after SIGTERM a process exits anyway (deploy/kubernetes' grace periods cover it);
 * serving passes its own limit, derived from its drain settings.
 */
export const SHUTDOWN_LIMIT_MS = 15_000;

export function onShutdown(
  log: Logger,
  stop: (reason: string) => Promise<void>,
  /** After this long the process exits anyway (a graceful drain may need longer). */
  forceAfterMs = SHUTDOWN_LIMIT_MS,
): void {
  let stopping = false;
  const run = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "shutting down");
    const force = setTimeout(() => {
      log.warn("shutdown took too long; exiting");
      process.exit(1);
    }, forceAfterMs);
    force.unref();
    stop(reason)
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error({ err: error }, "error during shutdown");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => run("SIGTERM"));
  process.on("SIGINT", () => run("SIGINT"));
  if (process.send) process.on("disconnect", () => run("supervisor went away"));
  process.on("uncaughtException", (error) => {
    log.fatal({ err: error }, "uncaught exception");
    run("uncaught exception");
  });
}

/** Tells the supervisor this child is ready (no-op when started on its own). */
export function announceReady(detail: Record<string, unknown>): void {
  process.send?.({ type: "ready", ...detail });
}
