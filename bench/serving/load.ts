/**
 * Load generator for the serving benchmark (autocannon), run as its own process so that the
 * server under test and the load share the machine's cores the same way in every case.
 *
 *   node --import tsx bench/serving/load.ts --url http://127.0.0.1:PORT/v2/models/m/infer \
 *        --bodies <file: one JSON body per line> [--connections 64] [--duration 10] [--warmup 2] \
 *        [--header "Authorization: Bearer mdk_…"] [--timeout-s 10]
 *
 * Headers can also come as a JSON object in the environment variable BENCH_LOAD_HEADERS
 * (the runner passes the target's token that way, so it does not show in `ps`).
 *
 * Keep-alive connections, no pipelining: each connection sends a POST, waits for the answer,
 * sends the next (a closed loop, like N synchronous clients). The bodies are cycled through.
 * A warm-up run of --warmup seconds (its own connections) comes first and is not counted.
 * Latency is taken from every 2xx response, at microsecond resolution (autocannon's own
 * histogram has 1 ms steps). Prints one JSON line: LoadResult.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

export interface LoadResult {
  connections: number;
  /** Measured seconds (after warm-up). */
  seconds: number;
  /** Responses received, any status. */
  responses: number;
  /** 2xx responses per second. */
  reqPerS: number;
  /** Latency of 2xx responses, ms. */
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  non2xx: number;
  /** Connection errors (resets, refused) and timeouts. */
  errors: number;
  timeouts: number;
  /** Status code → count, for diagnosing non-2xx answers. */
  statusCodes: Record<string, number>;
  warmup: { reqPerS: number; non2xx: number; errors: number };
  /**
   * CPU time per response during the measured run, in µs, of the processes named in
   * BENCH_CPU_PIDS (`{"server": pid, "database": postmasterPid}`; a process and its direct
   * children). Unlike req/s this does not move with what else the machine runs.
   */
  cpuUsPerResponse: Record<string, number>;
}

/** utime + stime of a process and its direct children (a postmaster's backends), in ms. */
export function cpuMsOfTree(root: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(entry) === root || Number(fields[1]) === root) {
        ticks += Number(fields[11]) + Number(fields[12]);
      }
    } catch {
      // exited meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

const envCpuPids: Record<string, number> = JSON.parse(process.env.BENCH_CPU_PIDS ?? "{}");
const sampleCpu = (cpuPids: Record<string, number>) =>
  Object.fromEntries(Object.entries(cpuPids).map(([name, pid]) => [name, cpuMsOfTree(pid)]));

interface RunOptions {
  url: string;
  /** Cycled; a Buffer is sent as is (binary bodies). */
  bodies: Array<string | Buffer>;
  connections: number;
  durationS: number;
  headers: Record<string, string>;
  timeoutS: number;
  /** Processes whose CPU time to report (see LoadResult); default BENCH_CPU_PIDS. */
  cpuPids?: Record<string, number>;
}

function run(opts: RunOptions, latencies: number[] | null): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        duration: opts.durationS,
        pipelining: 1,
        timeout: opts.timeoutS,
        headers: { "content-type": "application/json", ...opts.headers },
        requests: opts.bodies.map((body) => ({ method: "POST" as const, body })),
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error) : resolve(result)),
    );
    if (latencies) {
      instance.on("response", (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      });
    }
  });
}

export async function runLoad(opts: RunOptions & { warmupS: number }): Promise<LoadResult> {
  const warm = opts.warmupS > 0 ? await run({ ...opts, durationS: opts.warmupS }, null) : null;
  const latencies: number[] = [];
  const cpuPids = opts.cpuPids ?? envCpuPids;
  const cpuBefore = sampleCpu(cpuPids);
  const result = await run(opts, latencies);
  const cpuAfter = sampleCpu(cpuPids);
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies.length === 0
      ? NaN
      : latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]),
  );
  const responses = Object.values(statusCodes).reduce((n, c) => n + c, 0);
  const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
  return {
    connections: opts.connections,
    seconds,
    responses,
    reqPerS: result["2xx"] / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    meanMs: latencies.reduce((s, x) => s + x, 0) / (latencies.length || NaN),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    warmup: warm
      ? {
          reqPerS: warm["2xx"] / warm.duration,
          non2xx: warm.non2xx,
          errors: warm.errors,
        }
      : { reqPerS: NaN, non2xx: 0, errors: 0 },
    cpuUsPerResponse: Object.fromEntries(
      Object.keys(cpuPids).map((name) => [
        name,
        // A backend that exits mid-run takes its ticks with it: never report below zero.
        (Math.max(0, cpuAfter[name]! - cpuBefore[name]!) * 1000) / Math.max(responses, 1),
      ]),
    ),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      bodies: { type: "string" },
      connections: { type: "string", default: "64" },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      header: { type: "string", multiple: true, default: [] },
      "timeout-s": { type: "string", default: "10" },
    },
  });
  if (!values.url || !values.bodies) throw new Error("--url and --bodies are required");
  const bodies = (await readFile(values.bodies, "utf8")).split("\n").filter((l) => l.trim());
  if (bodies.length === 0) throw new Error(`${values.bodies} holds no request bodies`);
  const headers: Record<string, string> = {};
  const fromEnv = process.env.BENCH_LOAD_HEADERS;
  if (fromEnv) {
    for (const [name, value] of Object.entries(JSON.parse(fromEnv) as Record<string, string>)) {
      headers[name.toLowerCase()] = String(value);
    }
  }
  for (const h of values.header) {
    const colon = h.indexOf(":");
    if (colon < 1) throw new Error(`--header "${h}" is not "Name: value"`);
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  const result = await runLoad({
    url: values.url,
    bodies,
    connections: Number(values.connections),
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
    headers,
    timeoutS: Number(values["timeout-s"]),
  });
  console.log(JSON.stringify(result));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  await main();
}
