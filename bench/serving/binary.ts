/**
 * Binary tensor data benchmark: the same inference requests sent to ModelDeck serving as JSON
 * and with the binary tensor data extension, on a model with a large input (an image,
 * FP32 [batch, 3, 224, 224]: 150,528 values, about 1 MB of JSON text or 588 KiB of bytes).
 * Run on demand (not in CI).
 *
 *   node --import tsx bench/serving/binary.ts [--duration 10] [--warmup 2] [--connections 64,1]
 *        [--bodies 4] [--repeat 1]
 *
 * One ModelDeck serving process (everything on: token auth, validation, batching, metrics, the
 * prediction log with its default payload sampling) on its own embedded PostgreSQL serves the
 * model for every case; for each connection count the JSON and binary forms alternate. The
 * bodies carry the same values (3 decimals, exact in both forms), and one request of each form
 * is checked to give the same logits before the load. The load generator (load.ts's autocannon
 * run) runs in this process, which does nothing else meanwhile.
 * Progress goes to stderr; the results (markdown) to stdout.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { encodeModel } from "../../lib/onnx/build";
import { seededRandom } from "../../lib/training/random";
import { runLoad, type LoadResult } from "./load";
import { startModelDeckTarget } from "./modeldeck-target";
import { benchModels, type BenchModel } from "./models";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "64,1" },
    bodies: { type: "string", default: "4" },
    repeat: { type: "string", default: "1" },
  },
});

const CHANNELS = 3;
const SIDE = 224;
const CLASSES = 10;
const VALUES = CHANNELS * SIDE * SIDE;
const SHAPE = [1, CHANNELS, SIDE, SIDE];

/** GlobalAveragePool → Flatten → MatMul + Add: a classifier head on a full-size image input. */
function imageModelBytes(): Buffer {
  const random = seededRandom(224);
  const weights = Array.from({ length: CHANNELS * CLASSES }, () => random() * 2 - 1);
  return encodeModel({
    graph: {
      name: "bench_image",
      inputs: [{ name: "image", type: "float32", shape: ["batch", CHANNELS, SIDE, SIDE] }],
      outputs: [{ name: "logits", type: "float32", shape: ["batch", CLASSES] }],
      initializers: [
        { name: "w", type: "float32", dims: [CHANNELS, CLASSES], data: weights },
        { name: "b", type: "float32", dims: [CLASSES], data: new Array(CLASSES).fill(0.1) },
      ],
      nodes: [
        { op: "GlobalAveragePool", inputs: ["image"], outputs: ["pooled"] },
        { op: "Flatten", inputs: ["pooled"], outputs: ["flat"], attributes: { axis: { i: 1 } } },
        { op: "MatMul", inputs: ["flat", "w"], outputs: ["scores"] },
        { op: "Add", inputs: ["scores", "b"], outputs: ["logits"] },
      ],
    },
  });
}

/** One image's values: 3 decimals, so JSON text and float32 bytes stand for the same floats. */
function imageValues(seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: VALUES }, () => Number(random().toFixed(3)));
}

function jsonBody(image: number[]): string {
  return JSON.stringify({
    inputs: [{ name: "image", shape: SHAPE, datatype: "FP32", data: image }],
  });
}

// The same JSON header for every body (only the bytes after it differ), so one
// Inference-Header-Content-Length header fits them all.
const BINARY_HEADER = Buffer.from(
  JSON.stringify({
    inputs: [
      {
        name: "image",
        shape: SHAPE,
        datatype: "FP32",
        parameters: { binary_data_size: VALUES * 4 },
      },
    ],
    parameters: { binary_data_output: true },
  }),
);

function binaryBody(image: number[]): Buffer {
  const floats = new Float32Array(image);
  return Buffer.concat([BINARY_HEADER, Buffer.from(floats.buffer)]);
}

const FORMS = {
  json: { headers: { "content-type": "application/json" } },
  binary: {
    headers: {
      "content-type": "application/octet-stream",
      "inference-header-content-length": String(BINARY_HEADER.length),
    },
  },
} as const;
type Form = keyof typeof FORMS;

/** Logits of one response of either form. */
async function logitsOf(res: Response): Promise<number[]> {
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.toString().slice(0, 300)}`);
  const headerLength = res.headers.get("inference-header-content-length");
  if (headerLength === null) {
    const json = JSON.parse(body.toString()) as { outputs: Array<{ data: number[] }> };
    return json.outputs[0]!.data;
  }
  const n = Number(headerLength);
  const header = JSON.parse(body.subarray(0, n).toString()) as {
    outputs: Array<{ parameters?: { binary_data_size?: number } }>;
  };
  const size = header.outputs[0]!.parameters!.binary_data_size!;
  return Array.from({ length: size / 4 }, (_, i) => body.readFloatLE(n + i * 4));
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "–");

async function main() {
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  const repeat = Number(values.repeat);
  const connections = values.connections.split(",").map(Number);
  const command = [
    "node",
    ...process.execArgv,
    "bench/serving/binary.ts",
    ...process.argv.slice(2),
  ];
  console.error(command.join(" "));
  const startedAt = new Date().toISOString();
  const loadAverage = os.loadavg()[0]!.toFixed(2);

  const dir = await mkdtemp(path.join(os.tmpdir(), "modeldeck-bench-binary-"));
  const workDir = await mkdtemp(path.join(dir, "modeldeck-"));
  const model: BenchModel = {
    key: "image",
    name: "bench-image",
    path: path.join(dir, "image.onnx"),
    inputName: "image",
    features: VALUES,
    outputs: [{ name: "logits", datatype: "FP32", perRow: [CLASSES] }],
    description: `image classifier head, FP32 [batch, ${CHANNELS}, ${SIDE}, ${SIDE}] → ${CLASSES}`,
  };
  const results = new Map<string, LoadResult[]>();
  let target: Awaited<ReturnType<typeof startModelDeckTarget>> | null = null;
  const images = Array.from({ length: Number(values.bodies) }, (_, i) => imageValues(i + 1));
  const bodies: Record<Form, Array<string | Buffer>> = {
    json: images.map(jsonBody),
    binary: images.map(binaryBody),
  };
  try {
    await writeFile(model.path, imageModelBytes());
    target = await startModelDeckTarget({
      model,
      models: benchModels(dir),
      logging: true,
      host: "127.0.0.1",
      port: 0,
      workDir,
    });
    const url = `${target.baseUrl}/v2/models/${model.name}/infer`;

    // The same request in both forms must give the same answer.
    const answers: number[][] = [];
    for (const form of ["json", "binary"] as const) {
      const res = await fetch(url, {
        method: "POST",
        headers: { ...FORMS[form].headers, ...target.headers },
        body: new Uint8Array(Buffer.from(bodies[form][0]!)),
      });
      answers.push(await logitsOf(res));
    }
    if (answers[0]!.length !== CLASSES || answers[0]!.join() !== answers[1]!.join()) {
      throw new Error(`JSON and binary answers differ: ${answers[0]} vs ${answers[1]}`);
    }

    for (let round = 1; round <= repeat; round++) {
      for (const conns of connections) {
        for (const form of ["json", "binary"] as const) {
          const r = await runLoad({
            url,
            bodies: bodies[form],
            connections: conns,
            durationS,
            warmupS,
            headers: { ...FORMS[form].headers, ...target.headers },
            timeoutS: 30,
            cpuPids: { server: target.pid, database: target.databasePid! },
          });
          const key = `${conns}/${form}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.error(
            `${conns} conn × ${form}: ${fmt(r.reqPerS)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, ` +
              `p99 ${fmt(r.p99Ms, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}`,
          );
        }
      }
    }
  } finally {
    await target?.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const size = (form: Form) => {
    const b = bodies[form][0]!;
    return typeof b === "string" ? Buffer.byteLength(b) : b.length;
  };
  const lines = [
    "```sh",
    command.join(" "),
    "```",
    "",
    `${startedAt}; nproc ${os.availableParallelism()}; load average ${loadAverage} at start; ` +
      `Node ${process.version}; model: ${model.description}`,
    "",
    "| connections | form | body bytes | runs | req/s | p50 ms | p99 ms | non-2xx | errors | vs JSON | server CPU µs/req |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const conns of connections) {
    const reqPerS = (form: Form) =>
      median((results.get(`${conns}/${form}`) ?? []).map((r) => r.reqPerS));
    for (const form of ["json", "binary"] as const) {
      const runs = results.get(`${conns}/${form}`) ?? [];
      const m = (f: (r: LoadResult) => number) => median(runs.map(f));
      lines.push(
        `| ${conns} | ${form} | ${size(form)} | ${runs.length} | ${fmt(m((r) => r.reqPerS))} | ` +
          `${fmt(
            m((r) => r.p50Ms),
            2,
          )} | ${fmt(
            m((r) => r.p99Ms),
            2,
          )} | ` +
          `${runs.reduce((n, r) => n + r.non2xx, 0)} | ${runs.reduce((n, r) => n + r.errors, 0)} | ` +
          `${form === "json" ? "1.00" : fmt(reqPerS("binary") / reqPerS("json"), 2)} | ` +
          `${fmt(
            m((r) => r.cpuUsPerResponse.server ?? NaN),
            1,
          )} |`,
      );
    }
  }
  console.log(lines.join("\n"));
}

await main();
