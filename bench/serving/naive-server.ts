/**
 * The inference server a user would write by hand: node:http + onnxruntime-node, one
 * session.run per request, Open Inference Protocol v2 JSON in and out. No auth, no batching,
 * no logging, no metrics: the yardstick ModelDeck's serving process is compared with.
 *
 *   node --import tsx bench/serving/naive-server.ts <model.onnx> [port]   → prints LISTENING <port>
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as ort from "onnxruntime-node";

const session = await ort.InferenceSession.create(process.argv[2]!);
const OIP_TYPES: Record<string, string> = { float32: "FP32", int64: "INT64" };

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    try {
      const name = /^\/v2\/models\/([^/]+)\/infer$/.exec(req.url ?? "")?.[1];
      if (req.method !== "POST" || !name)
        throw Object.assign(new Error("not found"), { status: 404 });
      const { inputs } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const feeds: Record<string, ort.Tensor> = {};
      for (const i of inputs)
        feeds[i.name] = new ort.Tensor("float32", Float32Array.from(i.data), i.shape);
      const results = await session.run(feeds);
      const outputs = Object.entries(results).map(([output, t]) => ({
        name: output,
        shape: t.dims,
        datatype: OIP_TYPES[t.type] ?? t.type,
        data: Array.from(t.data as ArrayLike<number | bigint>, Number),
      }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ model_name: name, outputs }));
    } catch (error) {
      res.writeHead((error as { status?: number }).status ?? 400, {
        "content-type": "application/json",
      });
      res.end(JSON.stringify({ error: String(error) }));
    }
  });
});
server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () => {
  console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
