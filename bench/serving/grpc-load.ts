/**
 * gRPC load generator for the serving benchmark: the Open Inference Protocol's ModelInfer
 * (KServe v2 GRPCInferenceService), run as its own process like load.ts.
 *
 *   node --import tsx bench/serving/grpc-load.ts --address 127.0.0.1:PORT --model m \
 *        --bodies <file: one OIP JSON body per line> [--connections 64] [--channels 4] \
 *        [--duration 10] [--warmup 2] [--timeout-s 10]
 *
 * The token comes as `{"authorization": "Bearer mdk_…"}` in BENCH_LOAD_HEADERS (as for
 * load.ts). Each JSON body becomes a ModelInferRequest with typed contents (FP32 data in
 * fp32_contents, and so on), encoded once from the protocol's .proto file before the run, so
 * the generator spends no CPU on protobuf per call (as autocannon sends prepared bodies).
 * `--connections` calls are in flight at all times (a closed loop: each caller sends the
 * next call when its answer arrived), spread over `--channels` channels, each one HTTP/2
 * connection speaking gRPC's wire format (see channelOf). Answers are not decoded (one is,
 * before the run, to check it). A warm-up of
 * --warmup seconds on the same channels comes first and is not counted. Prints one JSON line
 * in load.ts's LoadResult form: `non2xx` counts calls that ended with a status other than OK,
 * `statusCodes` maps gRPC status codes to counts.
 */
import { readFile } from "node:fs/promises";
import http2 from "node:http2";
import path from "node:path";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { FIELD_OF } from "../../lib/serving/grpc/tensors";
import { cpuMsOfTree, type LoadResult } from "./load";

const PROTO = path.resolve(import.meta.dirname, "../../lib/serving/grpc/grpc_predict_v2.proto");
const METHOD = "/inference.GRPCInferenceService/ModelInfer";

type JsonInput = { name: string; shape: number[]; datatype: string; data: unknown[] };

/** A JSON OIP body as a ModelInferRequest with typed contents. */
function inferRequestOf(model: string, json: string): Record<string, unknown> {
  const body = JSON.parse(json) as { inputs: JsonInput[] };
  return {
    model_name: model,
    inputs: body.inputs.map((i) => {
      const field = FIELD_OF[i.datatype];
      if (!field) throw new Error(`no typed contents field for ${i.datatype}`);
      return {
        name: i.name,
        datatype: i.datatype,
        shape: i.shape,
        contents: { [field]: (i.data as unknown[]).flat(Infinity) },
      };
    }),
  };
}

type Call = (request: Buffer, done: (status: number, body: Buffer | null) => void) => void;

/**
 * One channel: an HTTP/2 connection speaking gRPC's wire format directly (a 5-byte frame
 * header per message, the status in trailers). A load generator built on @grpc/grpc-js spent
 * about 1 ms of CPU per call on the client side, saturating its core long before the server;
 * this one costs a small fraction of that, as autocannon does for HTTP/1.1.
 */
function channelOf(
  address: string,
  headers: Record<string, string>,
  timeoutS: number,
): Call & {
  close: () => void;
} {
  const session = http2.connect(`http://${address}`);
  session.on("error", () => undefined);
  const requestHeaders = {
    ":method": "POST",
    ":path": METHOD,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
  };
  const call: Call = (request, done) => {
    const stream = session.request(requestHeaders);
    const chunks: Buffer[] = [];
    let status: number | null = null;
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), timeoutS * 1000);
    const statusOf = (h: http2.IncomingHttpHeaders) => {
      const s = h["grpc-status"];
      if (s !== undefined) status = Number(s);
    };
    stream.on("response", statusOf); // a trailers-only answer (an error) has it here
    stream.on("trailers", statusOf);
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => undefined);
    stream.on("close", () => {
      clearTimeout(timer);
      if (status === null) done(grpc.status.DEADLINE_EXCEEDED, null);
      else done(status, status === 0 ? Buffer.concat(chunks) : null);
    });
    stream.end(request);
  };
  return Object.assign(call, { close: () => session.close() });
}

/** A message as it goes on the wire: uncompressed flag, 4-byte big-endian length, message. */
function framed(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

interface Tally {
  latencies: number[] | null;
  ok: number;
  failed: number;
  timeouts: number;
  codes: Record<string, number>;
}

async function closedLoop(
  calls: Call[],
  requests: Buffer[],
  connections: number,
  durationS: number,
  tally: Tally,
): Promise<{ seconds: number }> {
  const started = performance.now();
  const until = started + durationS * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, (_, i) => {
      const call = calls[i % calls.length]!;
      return new Promise<void>((resolve) => {
        const one = () => {
          if (performance.now() >= until) return resolve();
          const request = requests[next++ % requests.length]!;
          const t0 = performance.now();
          call(request, (code) => {
            tally.codes[code] = (tally.codes[code] ?? 0) + 1;
            if (code !== grpc.status.OK) {
              tally.failed++;
              if (code === grpc.status.DEADLINE_EXCEEDED) tally.timeouts++;
            } else {
              tally.ok++;
              tally.latencies?.push(performance.now() - t0);
            }
            one();
          });
        };
        one();
      });
    }),
  );
  return { seconds: (performance.now() - started) / 1000 };
}

async function main() {
  const { values } = parseArgs({
    options: {
      address: { type: "string" },
      model: { type: "string" },
      bodies: { type: "string" },
      connections: { type: "string", default: "64" },
      channels: { type: "string", default: "4" },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      "timeout-s": { type: "string", default: "10" },
    },
  });
  if (!values.address || !values.model || !values.bodies) {
    throw new Error("--address, --model and --bodies are required");
  }
  const connections = Number(values.connections);
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  const timeoutS = Number(values["timeout-s"]);

  const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, arrays: true });
  const Service = (
    grpc.loadPackageDefinition(definition) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    }
  ).inference.GRPCInferenceService;
  const modelInfer = Service.service.ModelInfer!;
  const requests = (await readFile(values.bodies, "utf8"))
    .split("\n")
    .filter((l) => l.trim())
    .map((json) => framed(modelInfer.requestSerialize(inferRequestOf(values.model!, json))));
  if (requests.length === 0) throw new Error(`${values.bodies} holds no request bodies`);

  const headers = JSON.parse(process.env.BENCH_LOAD_HEADERS ?? "{}") as Record<string, string>;
  const lowered = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );
  const calls = Array.from(
    { length: Math.max(1, Math.min(Number(values.channels), connections)) },
    () => channelOf(values.address!, lowered, timeoutS),
  );

  // One checked call: the answer must decode and hold outputs.
  const answer = await new Promise<{ outputs?: unknown[] }>((resolve, reject) =>
    calls[0]!(requests[0]!, (status, body) =>
      status === 0 && body
        ? resolve(modelInfer.responseDeserialize(body.subarray(5)) as { outputs?: unknown[] })
        : reject(new Error(`check call: gRPC status ${status}`)),
    ),
  );
  if (!answer.outputs?.length) throw new Error("check call: the answer has no outputs");

  const empty = (): Tally => ({ latencies: null, ok: 0, failed: 0, timeouts: 0, codes: {} });
  const warm = empty();
  const warmRun =
    warmupS > 0 ? await closedLoop(calls, requests, connections, warmupS, warm) : { seconds: NaN };

  const cpuPids: Record<string, number> = JSON.parse(process.env.BENCH_CPU_PIDS ?? "{}");
  const sampleCpu = () =>
    Object.fromEntries(Object.entries(cpuPids).map(([name, pid]) => [name, cpuMsOfTree(pid)]));
  const tally: Tally = { ...empty(), latencies: [] };
  const cpuBefore = sampleCpu();
  const { seconds } = await closedLoop(calls, requests, connections, durationS, tally);
  const cpuAfter = sampleCpu();
  for (const c of calls) c.close();

  const latencies = tally.latencies!.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies.length === 0
      ? NaN
      : latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  const responses = tally.ok + tally.failed;
  const result: LoadResult = {
    connections,
    seconds,
    responses,
    reqPerS: tally.ok / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    meanMs: latencies.reduce((s, x) => s + x, 0) / (latencies.length || NaN),
    non2xx: tally.failed - tally.timeouts,
    errors: 0,
    timeouts: tally.timeouts,
    statusCodes: tally.codes,
    warmup: { reqPerS: warm.ok / warmRun.seconds, non2xx: warm.failed, errors: 0 },
    cpuUsPerResponse: Object.fromEntries(
      Object.keys(cpuPids).map((name) => [
        name,
        (Math.max(0, cpuAfter[name]! - cpuBefore[name]!) * 1000) / Math.max(responses, 1),
      ]),
    ),
  };
  console.log(JSON.stringify(result));
}

await main();
