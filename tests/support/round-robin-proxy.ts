/**
 * A small round-robin HTTP proxy in front of serving instances, standing in for a Kubernetes
 * Service (or any load balancer) in tests. node:http with a keep-alive agent per upstream;
 * it retries nothing: a request that fails upstream is answered 502 and counted, so tests
 * see failures honestly.
 *
 * Like a Service with readiness probes, an upstream is in rotation only while its
 * `/v2/health/ready` answers 200 (polled every `healthIntervalMs`). Like a load balancer's
 * passive health check, a connection error takes it out at once (the failed request is not
 * retried). Its idle keep-alive connections close after `idleTimeoutMs`, which must stay
 * below the servers' keep-alive timeout (lib/serving/http-server.ts says why).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type UpstreamStats = {
  name: string;
  url: string;
  inRotation: boolean;
  /** Requests sent to it and not answered or failed yet. */
  inFlight: number;
  dispatched: number;
  answered: number;
  failed: number;
  /** `dispatched` when it last left the rotation (null while it never has). */
  dispatchedWhenTakenOut: number | null;
  /** `inFlight` when it last left the rotation: all that can still fail on it after that. */
  inFlightWhenTakenOut: number | null;
};

type Upstream = UpstreamStats & { target: URL; agent: http.Agent; removed: boolean };

export type RoundRobinProxy = {
  url: string;
  add(name: string, url: string): void;
  /** Stops routing to it and forgets it (its counters stay in `stats`). */
  remove(name: string): void;
  stats(): UpstreamStats[];
  upstream(name: string): UpstreamStats;
  close(): Promise<void>;
};

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export async function startRoundRobinProxy(
  opts: { healthIntervalMs?: number; idleTimeoutMs?: number; maxSocketsPerUpstream?: number } = {},
): Promise<RoundRobinProxy> {
  const healthIntervalMs = opts.healthIntervalMs ?? 100;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 4_000;
  const upstreams: Upstream[] = [];
  let next = 0;

  const setRotation = (u: Upstream, inRotation: boolean) => {
    if (u.inRotation && !inRotation) {
      u.dispatchedWhenTakenOut = u.dispatched;
      u.inFlightWhenTakenOut = u.inFlight;
    }
    u.inRotation = inRotation;
  };

  const pick = (): Upstream | undefined => {
    const live = upstreams.filter((u) => u.inRotation && !u.removed);
    if (live.length === 0) return undefined;
    next = (next + 1) % live.length;
    return live[next];
  };

  const server = http.createServer((req, res) => {
    const upstream = pick();
    if (!upstream) {
      req.resume();
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "no upstream in rotation", code: "proxy_no_upstream" }));
      return;
    }
    upstream.inFlight++;
    upstream.dispatched++;
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      upstream.inFlight--;
      if (ok) upstream.answered++;
      else upstream.failed++;
    };
    const fail = (error: Error) => {
      // Passive health check: out of rotation until its readiness answers again (taken out
      // before this request is settled, so it counts as in flight at that moment).
      setRotation(upstream, false);
      settle(false);
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json", "x-upstream": upstream.name });
        res.end(
          JSON.stringify({
            error: error.message,
            code: "proxy_upstream_failed",
            upstream: upstream.name,
          }),
        );
      } else res.destroy();
    };
    const outgoing = http.request(
      {
        host: upstream.target.hostname,
        port: upstream.target.port,
        method: req.method,
        path: req.url,
        headers: endToEnd(req.headers),
        agent: upstream.agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, {
          ...endToEnd(answer.headers),
          "x-upstream": upstream.name,
        });
        answer.pipe(res);
        answer.once("end", () => settle(true));
        answer.once("error", fail);
      },
    );
    outgoing.once("error", fail);
    req.pipe(outgoing);
  });
  server.keepAliveTimeout = 65_000;

  const probe = (u: Upstream) =>
    new Promise<boolean>((resolve) => {
      const r = http.get(
        new URL("/v2/health/ready", u.target),
        { agent: false, timeout: 1_000 },
        (answer) => {
          answer.resume();
          resolve(answer.statusCode === 200);
        },
      );
      r.once("timeout", () => r.destroy(new Error("probe timeout")));
      r.once("error", () => resolve(false));
    });
  let probing = false;
  const health = setInterval(() => {
    if (probing) return;
    probing = true;
    void Promise.all(
      upstreams
        .filter((u) => !u.removed)
        .map(async (u) => {
          setRotation(u, await probe(u));
        }),
    ).finally(() => (probing = false));
  }, healthIntervalMs);

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const find = (name: string) => {
    const u = upstreams.find((x) => x.name === name);
    if (!u) throw new Error(`no upstream ${name}`);
    return u;
  };
  const view = (u: Upstream): UpstreamStats => ({
    name: u.name,
    url: u.url,
    inRotation: u.inRotation && !u.removed,
    inFlight: u.inFlight,
    dispatched: u.dispatched,
    answered: u.answered,
    failed: u.failed,
    dispatchedWhenTakenOut: u.dispatchedWhenTakenOut,
    inFlightWhenTakenOut: u.inFlightWhenTakenOut,
  });
  return {
    url: `http://127.0.0.1:${port}`,
    add(name, url) {
      const u: Upstream = {
        name,
        url,
        target: new URL(url),
        agent: new http.Agent({
          keepAlive: true,
          maxSockets: opts.maxSocketsPerUpstream ?? 64,
          timeout: idleTimeoutMs,
        }),
        inRotation: false,
        removed: false,
        inFlight: 0,
        dispatched: 0,
        answered: 0,
        failed: 0,
        dispatchedWhenTakenOut: null,
        inFlightWhenTakenOut: null,
      };
      upstreams.push(u);
      void probe(u).then((ok) => setRotation(u, ok));
    },
    remove(name) {
      const u = find(name);
      u.removed = true;
      u.agent.destroy();
    },
    stats: () => upstreams.map(view),
    upstream: (name) => view(find(name)),
    async close() {
      clearInterval(health);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      for (const u of upstreams) u.agent.destroy();
    },
  };
}
