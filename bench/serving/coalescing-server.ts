/**
 * The reference target for a batching server: node:http + onnxruntime-node, requests that
 * arrive together are coalesced into one `session.run` (rows concatenated along dimension 0),
 * then each request gets its own rows back as OIP JSON. No auth, validation, logging, metrics
 * or hot swap: what those cost in ModelDeck is measured against this.
 *
 *   node --import tsx bench/serving/coalescing-server.ts <model.onnx> [port]   → prints LISTENING <port>
 *
 * Assumes every input is float32 with a batch dimension first, as the benchmark's models are.
 *
 * With COALESCING_LOG_URL (and COALESCING_MODEL_ID, COALESCING_VERSION_ID) it also does, in the
 * simplest way, the work ModelDeck's prediction log does for every request: one
 * `prediction_log` row per answer with the same columns (a UUIDv7, the time, model, version,
 * alias, status, the three durations, batch size, rows, the predicted class; the inputs and
 * outputs as JSON for one request in ten, ModelDeck's default sample rate), written every
 * 250 ms in one transaction with the per-minute rollups (lib/monitoring/rollups.ts's fold and
 * upsert), the live-chart notification and the probe for feedback that arrived first. The rows
 * are plain strings in an array; nothing is bounded, retried or measured. What ModelDeck's log
 * costs beyond this is ours.
 *
 * With COALESCING_WORKERS=N (> 1) it runs N such processes on one port (node:cluster), as
 * MODELDECK_SERVING_WORKERS does for ModelDeck.
 */
import cluster from "node:cluster";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as ort from "onnxruntime-node";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { metricsUpdatedNotifyQuery } from "../../lib/events/channels";
import { RollupFold, upsertRollupsQuery } from "../../lib/monitoring/rollups";
import { newRequestId } from "../../lib/serving/request-id";

const workers = Number(process.env.COALESCING_WORKERS ?? 1);
if (cluster.isPrimary && workers > 1) {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const forked = Array.from({ length: workers }, () =>
    cluster.fork({ COALESCING_PORT: String(port) }),
  );
  await Promise.all(forked.map((w) => new Promise((r) => w.once("listening", r))));
  console.log(`LISTENING ${port}`);
  process.on("SIGTERM", () => {
    for (const w of forked) w.process.kill("SIGTERM");
    setTimeout(() => process.exit(0), 500);
  });
  // The primary only forwards the stop; the serving code below runs in the workers.
  await new Promise(() => {});
}

const logUrl = process.env.COALESCING_LOG_URL;
const modelId = process.env.COALESCING_MODEL_ID ?? "";
const versionId = process.env.COALESCING_VERSION_ID ?? "";
const pool = logUrl ? new pg.Pool({ connectionString: logUrl, max: 1 }) : null;
const SAMPLE_RATE = 0.1;
let lines: string[] = [];
let ids: string[] = [];
let fold = new RollupFold();
let writing = false;
if (pool) {
  setInterval(() => {
    if (writing || lines.length === 0) return;
    const [batch, batchIds, deltas] = [lines, ids, fold.deltas()];
    [lines, ids, fold] = [[], [], new RollupFold()];
    writing = true;
    void (async () => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await pipeline(
          Readable.from([batch.join("")]),
          client.query(
            copyFrom(
              `COPY prediction_log ("requestId", at, "modelId", model, "versionId", version, alias, status, "latencyMs", "queueMs", "computeMs", "batchSize", rows, inputs, outputs, predicted, error, "instanceId") FROM STDIN`,
            ),
          ),
        );
        await client.query(upsertRollupsQuery(deltas));
        await client.query(metricsUpdatedNotifyQuery([modelId]));
        await client.query("COMMIT");
        await client.query(
          `SELECT "requestId" FROM pending_feedback WHERE "requestId" = ANY($1::text::uuid[])`,
          [`{${batchIds.join(",")}}`],
        );
      } finally {
        client.release();
        writing = false;
      }
    })();
  }, 250).unref();
}

/** COPY text escaping of a JSON value (backslashes doubled; JSON has no raw tabs or newlines). */
const copyJson = (value: unknown) => JSON.stringify(value).replaceAll("\\", "\\\\");

function logRow(
  p: { name: string; startedAt: number; inputs: unknown },
  outputs: unknown,
  timing: { queueMs: number; computeMs: number; batchSize: number },
  predicted: number,
): void {
  const now = Date.now();
  const latency = performance.now() - p.startedAt;
  const id = newRequestId();
  const sampled = Math.random() < SAMPLE_RATE;
  lines.push(
    `${id}\t${new Date(now).toISOString()}\t${modelId}\t${p.name}\t${versionId}\t1\tproduction\t200\t` +
      `${latency.toFixed(3)}\t${timing.queueMs.toFixed(3)}\t${timing.computeMs.toFixed(3)}\t${timing.batchSize}\t1\t` +
      `${sampled ? copyJson(p.inputs) : "\\N"}\t${sampled ? copyJson(outputs) : "\\N"}\t[${predicted}]\t\\N\tcoalescing\n`,
  );
  ids.push(id);
  fold.add(modelId, versionId, 1, now, 200, 1, latency);
}

const session = await ort.InferenceSession.create(process.argv[2]!);
type Pending = {
  inputs: { name: string; shape: number[]; data: number[] }[];
  res: http.ServerResponse;
  name: string;
  startedAt: number;
};
let pending: Pending[] = [];
let running = false;

async function drain() {
  running = true;
  while (pending.length) {
    const batch = pending;
    pending = [];
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of batch[0]!.inputs) {
      const width = input.data.length / input.shape[0]!;
      const rows = batch.reduce(
        (n, p) => n + p.inputs.find((i) => i.name === input.name)!.shape[0]!,
        0,
      );
      const data = new Float32Array(rows * width);
      let at = 0;
      for (const p of batch)
        for (const v of p.inputs.find((i) => i.name === input.name)!.data) data[at++] = v;
      feeds[input.name] = new ort.Tensor("float32", data, [rows, ...input.shape.slice(1)]);
    }
    const ranAt = performance.now();
    const results = await session.run(feeds);
    const timing = {
      queueMs: ranAt - batch[0]!.startedAt,
      computeMs: performance.now() - ranAt,
      batchSize: batch.length,
    };
    let row = 0;
    for (const p of batch) {
      const n = p.inputs[0]!.shape[0]!;
      const outputs = Object.entries(results).map(([name, t]) => {
        const width = t.data.length / t.dims[0]!;
        const data = Array.from((t.data as Float32Array).subarray(row * width, (row + n) * width));
        return { name, shape: [n, ...t.dims.slice(1)], datatype: "FP32", data };
      });
      row += n;
      p.res.writeHead(200, { "content-type": "application/json" });
      p.res.end(JSON.stringify({ model_name: p.name, outputs }));
      if (pool) {
        const scores = outputs[0]!.data;
        logRow(p, outputs, timing, scores.indexOf(Math.max(...scores)));
      }
    }
  }
  running = false;
}

const server = http.createServer((req, res) => {
  const startedAt = performance.now();
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const name = /^\/v2\/models\/([^/]+)\/infer$/.exec(req.url ?? "")?.[1] ?? "";
    pending.push({
      inputs: JSON.parse(Buffer.concat(chunks).toString("utf8")).inputs,
      res,
      name,
      startedAt,
    });
    // One run per event-loop turn: what arrived while the previous run was on its way joins the next.
    if (!running) setImmediate(() => void drain());
  });
});
server.listen(Number(process.env.COALESCING_PORT ?? process.argv[3] ?? 0), "127.0.0.1", () => {
  console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
