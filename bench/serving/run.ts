/**
 * Serving benchmark: requests per second and latency of the inference data plane
 * (Open Inference Protocol v2, POST /v2/models/{name}/infer, one row per request), ModelDeck's
 * serving process against a hand-written server and a no-op server measured in the same run.
 * Run on demand (not in CI): it saturates the machine for a minute or more.
 *
 *   node --import tsx bench/serving/run.ts [--duration 10] [--warmup 2] [--repeat 1]
 *        [--cases noop,naive,coalescing,coalescing-log,coalescing-2,coalescing-2-log,modeldeck,modeldeck-nolog,modeldeck-grpc] [--models logreg,mlp]
 *        [--connections 1,64] [--rows 1] [--skip-inprocess] [--inprocess-budget-ms 2000]
 *
 * Every case (model × connections × target) starts its target in a fresh process, sends one
 * checked request, then runs the load generator (bench/serving/load.ts, its own process) for
 * --warmup seconds (not counted) and --duration seconds, and stops the target. Targets are
 * interleaved within each model × connections group and rounds repeat with --repeat, so drift
 * in the machine's state spreads over all cases. A case whose target fails to start is
 * skipped and the reason printed.
 * Progress goes to stderr; the results (markdown) to stdout.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { inProcessTable, type InProcessResult } from "./inprocess";
import type { LoadResult } from "./load";
import { startLoggedCoalescingTarget, startModelDeckTarget } from "./modeldeck-target";
import {
  MODEL_KEYS,
  checkInferResponse,
  inferRequestBody,
  writeBenchModels,
  type BenchModel,
  type ModelKey,
  type Target,
  type TargetOptions,
} from "./models";

const here = path.dirname(fileURLToPath(import.meta.url));

const TARGETS = [
  "noop",
  "naive",
  "coalescing",
  "coalescing-log",
  "coalescing-2",
  "coalescing-2-log",
  "modeldeck",
  "modeldeck-nolog",
  "modeldeck-grpc",
] as const;
type TargetName = (typeof TARGETS)[number];

const LABELS: Record<TargetName, string> = {
  noop: "no-op (parse JSON, fixed answer)",
  naive: "naive (node:http + one session.run per request)",
  coalescing: "coalescing prototype (one session.run per event-loop turn)",
  "coalescing-log": "coalescing prototype + the prediction log's work per request",
  "coalescing-2": "coalescing prototype, two processes on one port (node:cluster)",
  "coalescing-2-log": "coalescing prototype, two processes + the prediction log's work",
  modeldeck: "ModelDeck serving",
  "modeldeck-nolog": "ModelDeck serving, prediction logging off",
  "modeldeck-grpc": "ModelDeck serving over gRPC (ModelInfer, typed contents)",
};

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    repeat: { type: "string", default: "1" },
    cases: { type: "string", default: TARGETS.join(",") },
    models: { type: "string", default: MODEL_KEYS.join(",") },
    connections: { type: "string", default: "1,64" },
    rows: { type: "string", default: "1" },
    bodies: { type: "string", default: "16" },
    "skip-inprocess": { type: "boolean", default: false },
    "inprocess-budget-ms": { type: "string", default: "2000" },
    "start-timeout-s": { type: "string", default: "60" },
  },
});

function list<T extends string>(text: string, allowed: readonly T[], flag: string): T[] {
  const items = text.split(",").map((s) => s.trim()) as T[];
  for (const item of items) {
    if (!allowed.includes(item)) {
      throw new Error(`--${flag}: unknown "${item}" (known: ${allowed.join(", ")})`);
    }
  }
  return items;
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number`);
  return n;
}

// ----- child processes -----------------------------------------------------------------------------

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => process.exit(130));
}

function spawnTracked(
  args: string[],
  env?: Record<string, string>,
  nodeArgs: string[] = [],
): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: env ? { ...process.env, ...env } : process.env,
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(killer);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** noop-server.ts / naive-server.ts: argv <model> 0, prints "LISTENING <port>". */
async function startChildServer(
  file: string,
  model: BenchModel,
  env?: Record<string, string>,
): Promise<Target> {
  // BENCH_SERVING_NODE_ARGS (e.g. --cpu-prof) applies to every server under test alike.
  const nodeArgs = process.env.BENCH_SERVING_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawnTracked([path.join(here, file), model.path, "0"], env, nodeArgs);
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on("line", (line) => {
      if (process.env.BENCH_SERVING_STDOUT === "inherit") process.stderr.write(`${line}\n`);
      const m = /^LISTENING (\d+)$/.exec(line.trim());
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`${file} exited (${signal ?? code}) before listening`)),
    );
  }).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    headers: {},
    pid: child.pid!,
    stop: () => stopChild(child),
  };
}

function startTarget(name: TargetName, opts: TargetOptions): Promise<Target> {
  switch (name) {
    case "noop":
      return startChildServer("noop-server.ts", opts.model);
    case "naive":
      return startChildServer("naive-server.ts", opts.model);
    case "coalescing":
      return startChildServer("coalescing-server.ts", opts.model);
    case "coalescing-2":
      return startChildServer("coalescing-server.ts", opts.model, { COALESCING_WORKERS: "2" });
    case "coalescing-log":
      return startLoggedCoalescingTarget(opts, (env) =>
        startChildServer("coalescing-server.ts", opts.model, env),
      );
    case "coalescing-2-log":
      return startLoggedCoalescingTarget(opts, (env) =>
        startChildServer("coalescing-server.ts", opts.model, { ...env, COALESCING_WORKERS: "2" }),
      );
    case "modeldeck":
    case "modeldeck-nolog":
      return startModelDeckTarget(opts);
    case "modeldeck-grpc":
      return startModelDeckTarget({ ...opts, grpc: true });
  }
}

/** One request before the load: the target must answer 200 with the model's outputs. */
async function checkTarget(name: TargetName, url: string, target: Target, model: BenchModel) {
  const body = inferRequestBody(model, Number(values.rows), 1);
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`check request: HTTP ${res.status}: ${text.slice(0, 300)}`);
  const json = JSON.parse(text) as unknown;
  // The no-op server's answer is fixed, not the model's outputs.
  const problem =
    name === "noop"
      ? Array.isArray((json as { outputs?: unknown }).outputs)
        ? null
        : "no outputs array"
      : checkInferResponse(model, Number(values.rows), json);
  if (problem) throw new Error(`check request: ${problem}: ${text.slice(0, 300)}`);
}

function runLoadChild(
  url: string,
  bodiesFile: string,
  connections: number,
  target: Target,
  grpcModel?: string,
) {
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  const child = spawnTracked(
    [
      ...(grpcModel
        ? [path.join(here, "grpc-load.ts"), "--address", target.grpcAddress!, "--model", grpcModel]
        : [path.join(here, "load.ts"), "--url", url]),
      "--bodies",
      bodiesFile,
      "--connections",
      String(connections),
      "--duration",
      String(durationS),
      "--warmup",
      String(warmupS),
    ],
    {
      BENCH_LOAD_HEADERS: JSON.stringify(target.headers),
      BENCH_CPU_PIDS: JSON.stringify({
        server: target.pid,
        ...(target.databasePid ? { database: target.databasePid } : {}),
      }),
    },
  );
  return new Promise<LoadResult>((resolve, reject) => {
    // Bounded: autocannon stops itself after warm-up + duration; this is the backstop.
    const killer = setTimeout(() => child.kill("SIGKILL"), (durationS + warmupS + 30) * 1000);
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code, signal) => {
      clearTimeout(killer);
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? "") as LoadResult);
      } catch {
        reject(new Error(`load generator exited (${signal ?? code}) without a result: ${out}`));
      }
    });
  });
}

async function runInProcess(dir: string): Promise<InProcessResult[]> {
  const child = spawnTracked([
    path.join(here, "inprocess.ts"),
    "--dir",
    dir,
    "--json",
    "--budget-ms",
    values["inprocess-budget-ms"],
  ]);
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  await new Promise((resolve) => child.once("exit", resolve));
  return JSON.parse(out.trim().split("\n").pop() ?? "[]") as InProcessResult[];
}

// ----- the machine ---------------------------------------------------------------------------------

function describeMachine(): string[] {
  const quote = (a: string) => (/^[\w./=,:@-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const script = path.relative(process.cwd(), process.argv[1]!) || process.argv[1]!;
  const workers = process.env.MODELDECK_SERVING_WORKERS;
  const command =
    (workers ? `MODELDECK_SERVING_WORKERS=${quote(workers)} ` : "") +
    ["node", ...process.execArgv, script, ...process.argv.slice(2)].map(quote).join(" ");
  let nproc = String(os.availableParallelism());
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    // nproc missing: keep Node's count.
  }
  let cpu = os.cpus()[0]?.model ?? "unknown";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  return [
    "```sh",
    command,
    "```",
    "",
    `${new Date().toISOString()}; nproc ${nproc}; CPU ${cpu}; ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM; ` +
      `load average ${os.loadavg()[0]!.toFixed(2)} at start; Node ${process.version}; ` +
      `onnxruntime-node ${version("onnxruntime-node")}; autocannon ${version("autocannon")}`,
  ];
}

// ----- main ----------------------------------------------------------------------------------------

type CaseKey = `${ModelKey}/${number}/${TargetName}`;

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : "–";

/** Median CPU µs per response of one measured process over the runs, or "–". */
function cpu(runs: LoadResult[], process: string): string {
  const values = runs.map((r) => r.cpuUsPerResponse?.[process]).filter((v) => v !== undefined);
  return values.length === 0 ? "–" : fmt(median(values as number[]), 1);
}

async function main() {
  const targets = list(values.cases, TARGETS, "cases");
  const modelKeys = list(values.models, MODEL_KEYS, "models");
  const connections = values.connections.split(",").map((c) => positive(c, "connections"));
  positive(values.duration, "duration");
  const repeat = positive(values.repeat, "repeat");
  const rows = positive(values.rows, "rows");
  const startTimeoutMs = positive(values["start-timeout-s"], "start-timeout-s") * 1000;

  const header = describeMachine();
  console.error(header.join("\n"));
  const dir = await mkdtemp(path.join(os.tmpdir(), "modeldeck-bench-serving-"));
  const results = new Map<CaseKey, LoadResult[]>();
  const skipped = new Map<string, string[]>();
  let inProcess: InProcessResult[] = [];
  try {
    const models = await writeBenchModels(dir);
    const bodyFiles = {} as Record<ModelKey, string>;
    for (const key of modelKeys) {
      bodyFiles[key] = path.join(dir, `bodies-${key}.txt`);
      const bodies = Array.from({ length: Number(values.bodies) }, (_, i) =>
        inferRequestBody(models[key], rows, i + 1),
      );
      await writeFile(bodyFiles[key], bodies.join("\n") + "\n");
    }

    if (!values["skip-inprocess"]) {
      console.error("in-process session.run …");
      inProcess = await runInProcess(dir);
    }

    for (let round = 1; round <= repeat; round++) {
      for (const key of modelKeys) {
        const model = models[key];
        for (const conns of connections) {
          for (const name of targets) {
            const label = `${key} × ${conns} conn × ${name}${repeat > 1 ? ` #${round}` : ""}`;
            const workDir = await mkdtemp(path.join(dir, `${name}-`));
            let target: Target | null = null;
            try {
              target = await withTimeout(
                startTarget(name, {
                  model,
                  models,
                  logging: name !== "modeldeck-nolog",
                  host: "127.0.0.1",
                  port: 0,
                  workDir,
                }),
                startTimeoutMs,
                `starting ${name}`,
              );
              const url = `${target.baseUrl}/v2/models/${encodeURIComponent(model.name)}/infer`;
              await checkTarget(name, url, target, model);
              const r = await runLoadChild(
                url,
                bodyFiles[key],
                conns,
                target,
                name === "modeldeck-grpc" ? model.name : undefined,
              );
              const caseKey: CaseKey = `${key}/${conns}/${name}`;
              results.set(caseKey, [...(results.get(caseKey) ?? []), r]);
              console.error(
                `${label}: ${fmt(r.reqPerS)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, ` +
                  `p99 ${fmt(r.p99Ms, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}` +
                  (r.non2xx ? ` ${JSON.stringify(r.statusCodes)}` : ""),
              );
            } catch (error) {
              const reason = error instanceof Error ? error.message : String(error);
              console.error(`${label}: SKIPPED: ${reason}`);
              const why = `${name}: ${reason}`;
              skipped.set(why, [...(skipped.get(why) ?? []), `${key}/${conns}`]);
            } finally {
              await target?.stop();
              await rm(workDir, { recursive: true, force: true });
            }
          }
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const lines = [
    "| model | connections | target | runs | req/s | p50 ms | p99 ms | non-2xx | errors | vs naive | vs no-op | vs coalescing | p99 / coalescing's | server CPU µs/req | database CPU µs/req |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const key of modelKeys) {
    for (const conns of connections) {
      const get = (name: TargetName) => results.get(`${key}/${conns}/${name}`) ?? [];
      const rps = (name: TargetName) => median(get(name).map((r) => r.reqPerS));
      const p99 = (name: TargetName) => median(get(name).map((r) => r.p99Ms));
      for (const name of targets) {
        const runs = get(name);
        if (runs.length === 0) continue;
        const sum = (f: (r: LoadResult) => number) => runs.reduce((n, r) => n + f(r), 0);
        lines.push(
          `| ${key} | ${conns} | ${LABELS[name]} | ${runs.length} | ${fmt(rps(name))} | ` +
            `${fmt(median(runs.map((r) => r.p50Ms)), 2)} | ` +
            `${fmt(p99(name), 2)} | ${sum((r) => r.non2xx)} | ` +
            `${sum((r) => r.errors)} | ${ratio(rps(name), rps("naive"))} | ` +
            `${ratio(rps(name), rps("noop"))} | ${ratio(rps(name), rps("coalescing"))} | ` +
            `${ratio(p99(name), p99("coalescing"))} | ${cpu(runs, "server")} | ${cpu(runs, "database")} |`,
        );
      }
    }
  }
  const out = [
    "## Serving",
    "",
    ...header,
    "",
    `One POST /v2/models/{name}/infer per request, ${rows} row(s) each (${values.bodies} distinct ` +
      `bodies cycled), keep-alive, closed loop; ${values.duration} s measured after a ` +
      `${values.warmup} s warm-up, ${repeat} round(s), each case in a fresh server process; ` +
      `load generator (autocannon) in its own process on the same cores. ` +
      `Medians over rounds; ratios are req/s against the same model and connections in this run. ` +
      `CPU µs/req: CPU time (user + system, /proc) the server process, and the target's own ` +
      `PostgreSQL (postmaster and backends), spent per response during the measured run; ` +
      `unlike req/s it barely moves with other load on the machine.` +
      (targets.includes("modeldeck-grpc")
        ? ` The gRPC row sends the same inputs as ModelInfer calls with typed contents ` +
          `(bench/serving/grpc-load.ts: as many calls in flight as connections, over 4 ` +
          `channels, requests encoded before the run).`
        : ""),
    "",
    ...lines,
  ];
  if (skipped.size > 0) {
    out.push("", "Skipped:", "");
    for (const [why, where] of skipped) out.push(`- ${why} (${where.join(", ")})`);
  }
  if (inProcess.length > 0) {
    out.push(
      "",
      "In-process `session.run` on a prepared tensor (no HTTP, no JSON), default session options:",
      "",
      inProcessTable(inProcess),
    );
  }
  console.log(out.join("\n"));
}

await main();
