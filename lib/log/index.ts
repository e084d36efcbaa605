import pino, { type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs, one line per event, from every process. `process` names the
 * emitter (supervisor, web, serving, scheduler) so interleaved output stays attributable.
 */
export function createLogger(processName: string, level = process.env.MODELDECK_LOG_LEVEL): Logger {
  return pino({
    name: "modeldeck",
    level: level ?? "info",
    base: { process: processName, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        "password",
        "*.password",
        "token",
        "*.token",
        "secret",
        "*.secret",
        "headers.authorization",
        "headers.cookie",
      ],
      censor: "[redacted]",
    },
  });
}
