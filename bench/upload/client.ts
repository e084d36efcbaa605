/**
 * The client side of the upload benchmark, a separate process so that generating and
 * sending the payload does not count against the server. Streams `--bytes` of generated
 * data (never held in memory) as a raw body or as multipart, with a declared
 * Content-Length like browsers and curl send, and prints one JSON line with the result.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    bytes: { type: "string", default: String(1024 ** 3) },
    kind: { type: "string", default: "raw" },
    seed: { type: "string", default: String(Date.now()) },
    header: { type: "string", multiple: true, default: [] },
    "timeout-s": { type: "string", default: "300" },
  },
});
if (!values.url) throw new Error("--url is required");
const url = new URL(values.url);
const total = Number(values.bytes);
const kind = values.kind;
if (kind !== "raw" && kind !== "multipart") throw new Error("--kind must be raw or multipart");

const CHUNK = 64 * 1024;
const block = randomBytes(1024 * 1024);

/**
 * Pseudo-random content, unique per seed (so every run stores a new artifact and pays for
 * its fsync instead of hitting the deduplication path), produced chunk by chunk.
 */
function payload(): Readable {
  let sent = 0;
  let index = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (sent >= total) return void this.push(null);
      const size = Math.min(CHUNK, total - sent);
      const chunk = Buffer.allocUnsafe(size);
      block.copy(chunk, 0, (index * CHUNK) % block.length, ((index * CHUNK) % block.length) + size);
      if (size >= 16) {
        chunk.writeDoubleLE(Number(values.seed), 0);
        chunk.writeDoubleLE(index, 8);
      }
      sent += size;
      index += 1;
      this.push(chunk);
    },
  });
}

async function* multipart(boundary: string) {
  yield Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nbench upload\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.onnx"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
  yield* payload();
  yield Buffer.from(`\r\n--${boundary}--\r\n`);
}

const headers: Record<string, string> = {};
for (const line of values.header) {
  const at = line.indexOf(":");
  if (at < 1) throw new Error(`--header "${line}" is not "Name: value"`);
  headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
}
let body: Readable;
if (kind === "raw") {
  headers["content-type"] = "application/octet-stream";
  headers["content-length"] = String(total);
  body = payload();
} else {
  const boundary = `----modeldeck-bench-${values.seed}`;
  // Framing length, measured on an empty payload's framing (same boundary, same fields).
  const framing =
    Buffer.byteLength(
      `--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nbench upload\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.onnx"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`,
    ) + Buffer.byteLength(`\r\n--${boundary}--\r\n`);
  headers["content-type"] = `multipart/form-data; boundary=${boundary}`;
  headers["content-length"] = String(total + framing);
  body = Readable.from(multipart(boundary));
}

const timeout = AbortSignal.timeout(Number(values["timeout-s"]) * 1000);
const started = performance.now();
const result = await new Promise<{ status: number; text: string }>((resolve, reject) => {
  const req = http.request(url, { method: "POST", headers, signal: timeout });
  req.on("response", (res) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (c: string) => (text += c));
    res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    res.on("error", reject);
  });
  req.on("error", reject);
  pipeline(body, req).catch(reject);
}).catch((error: unknown) => ({ status: 0, text: String(error) }));
const elapsedMs = performance.now() - started;

let response: unknown = result.text;
try {
  response = JSON.parse(result.text);
} catch {
  // not JSON: keep the text
}
console.log(JSON.stringify({ status: result.status, bytes: total, elapsedMs, response }));
process.exit(result.status >= 200 && result.status < 300 ? 0 : 1);
