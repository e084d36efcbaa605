/**
 * The reference target for a batching server: node:http + onnxruntime-node, requests that
 * arrive together are coalesced into one `session.run` (rows concatenated along dimension 0),
 * then each request gets its own rows back as OIP JSON. No auth, validation, logging, metrics
 * or hot swap: what those cost in ModelDeck is measured against this.
 *
 *   node --import tsx bench/serving/coalescing-server.ts <model.onnx> [port]   → prints LISTENING <port>
 *
 * Assumes every input is float32 with a batch dimension first, as the benchmark's models are.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as ort from "onnxruntime-node";

const session = await ort.InferenceSession.create(process.argv[2]!);
type Pending = {
  inputs: { name: string; shape: number[]; data: number[] }[];
  res: http.ServerResponse;
  name: string;
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
    const results = await session.run(feeds);
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
    }
  }
  running = false;
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const name = /^\/v2\/models\/([^/]+)\/infer$/.exec(req.url ?? "")?.[1] ?? "";
    pending.push({ inputs: JSON.parse(Buffer.concat(chunks).toString("utf8")).inputs, res, name });
    // One run per event-loop turn: what arrived while the previous run was on its way joins the next.
    if (!running) setImmediate(() => void drain());
  });
});
server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () => {
  console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
