/**
 * Steady load for tests: `clients` concurrent loops, each sending one request at a time over
 * its own keep-alive connection, until stopped. Every answer is recorded (status, which
 * upstream answered per the proxy's `x-upstream`, the model version the body names), so a
 * test can count failures and see when a new version started answering where.
 */
import http from "node:http";

export type LoadSample = {
  /** Wall clock (Date.now()) when the answer (or failure) arrived. */
  at: number;
  status: number;
  upstream: string | null;
  modelVersion: string | null;
  requestId: string | null;
  /** The error for transport failures (status 0) and the body's error text otherwise. */
  error: string | null;
};

export type LoadRun = {
  samples: LoadSample[];
  failures: () => LoadSample[];
  /** Resolves when every client's last request is answered. */
  stop: () => Promise<LoadSample[]>;
};

export function startLoad(opts: {
  url: string;
  clients: number;
  body: unknown;
  headers?: Record<string, string>;
  onSample?: (sample: LoadSample) => void;
}): LoadRun {
  const payload = JSON.stringify(opts.body);
  const target = new URL(opts.url);
  const samples: LoadSample[] = [];
  let running = true;

  const once = (agent: http.Agent) =>
    new Promise<LoadSample>((resolve) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
            ...opts.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (e) =>
            resolve(
              sample(
                0,
                (res.headers["x-upstream"] as string | undefined) ?? null,
                null,
                null,
                e.message,
              ),
            ),
          );
          res.on("end", () => {
            let body: Record<string, unknown> = {};
            try {
              body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
              // not JSON: kept as an error below
            }
            resolve(
              sample(
                res.statusCode ?? 0,
                (res.headers["x-upstream"] as string | undefined) ?? null,
                typeof body.model_version === "string" ? body.model_version : null,
                (res.headers["x-request-id"] as string | undefined) ?? null,
                res.statusCode === 200 ? null : String(body.error ?? "unreadable body"),
              ),
            );
          });
        },
      );
      req.on("error", (e) => resolve(sample(0, null, null, null, e.message)));
      req.end(payload);
    });

  const sample = (
    status: number,
    upstream: string | null,
    modelVersion: string | null,
    requestId: string | null,
    error: string | null,
  ): LoadSample => ({
    at: Date.now(),
    status,
    upstream,
    modelVersion,
    requestId,
    error,
  });

  const loops = Array.from({ length: opts.clients }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (running) {
      const s = await once(agent);
      samples.push(s);
      opts.onSample?.(s);
    }
    agent.destroy();
  });

  return {
    samples,
    failures: () => samples.filter((s) => s.status !== 200),
    async stop() {
      running = false;
      await Promise.all(loops);
      return samples;
    },
  };
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
