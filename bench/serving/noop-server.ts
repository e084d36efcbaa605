/**
 * The ceiling of any Node HTTP server on this machine: reads and JSON.parses the same Open
 * Inference Protocol body, then answers with a fixed OIP-shaped response. No inference.
 *
 *   node --import tsx bench/serving/noop-server.ts <model.onnx> [port]   → prints LISTENING <port>
 *
 * The model path is accepted (same argv as naive-server.ts) and ignored.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

const ANSWER = JSON.stringify({
  model_name: "noop",
  outputs: [{ name: "output", shape: [1, 1], datatype: "FP32", data: [0] }],
});

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    let status = 200;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { inputs?: unknown };
      if (!Array.isArray(body.inputs)) status = 400;
    } catch {
      status = 400;
    }
    res.writeHead(status, { "content-type": "application/json" });
    res.end(status === 200 ? ANSWER : '{"error":"bad request"}');
  });
});
server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () => {
  console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
