/**
 * The binary tensor data extension against the real serving stack (node:http, onnxruntime,
 * registry in Postgres): requests assembled byte by byte from the extension's specification and
 * sent with a raw http.request (not our own encoder), binary outputs decoded by hand and compared
 * with the JSON form's answer; mixed binary / JSON inputs and outputs; every framing error.
 */
import http from "node:http";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { encodeModel } from "../../../lib/onnx/build";
import { createModel } from "../../../lib/registry";
import { seededRandom } from "../../../lib/training/random";
import { updateServingSettings } from "../../../lib/serving/settings";
import { useTestDatabase } from "../helpers/db";
import {
  addVersion,
  classifierBytes,
  createClassifier,
  postJson,
  promote,
  startInProcessServing,
  storeFor,
  tempDataDir,
  type InProcessServing,
} from "./harness";

const db = useTestDatabase({ truncate: false });
let data: Awaited<ReturnType<typeof tempDataDir>>;
let serving: InProcessServing;
const CLASSIFIER = "binary-classifier";
const MIXED = "binary-mixed";

/** sum = a + float(b); positive = a > 0; echo = text. Inputs and outputs of three kinds. */
function mixedModelBytes(): Buffer {
  return encodeModel({
    graph: {
      name: "mixed",
      inputs: [
        { name: "a", type: "float32", shape: ["batch", 3] },
        { name: "b", type: "int64", shape: ["batch", 3] },
        { name: "text", type: "string", shape: ["batch"] },
      ],
      outputs: [
        { name: "sum", type: "float32", shape: ["batch", 3] },
        { name: "positive", type: "bool", shape: ["batch", 3] },
        { name: "echo", type: "string", shape: ["batch"] },
      ],
      initializers: [{ name: "zero", type: "float32", dims: [], data: [0] }],
      nodes: [
        { op: "Cast", inputs: ["b"], outputs: ["b_float"], attributes: { to: { i: 1 } } },
        { op: "Add", inputs: ["a", "b_float"], outputs: ["sum"] },
        { op: "Greater", inputs: ["a", "zero"], outputs: ["positive"] },
        { op: "Identity", inputs: ["text"], outputs: ["echo"] },
      ],
    },
  });
}

beforeAll(async () => {
  const { truncateAll } = await import("../helpers/db");
  await truncateAll(db.url);
  data = await tempDataDir();
  const store = storeFor(data.dir);
  await createClassifier(db.client, store, CLASSIFIER, [classifierBytes(2)], 1);
  await createModel(db.client, SYSTEM_ACTOR, { name: MIXED, task: "other" });
  await addVersion(db.client, store, MIXED, mixedModelBytes());
  await promote(db.client, MIXED, 1);
  serving = await startInProcessServing({
    db: db.client,
    databaseUrl: db.url,
    dataDir: data.dir,
    maxBodyBytes: 64 * 1024,
  });
});

afterAll(async () => {
  await serving?.stop();
  await data?.cleanup();
});

type RawResponse = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

/** POSTs exactly these bytes with exactly these headers (plus Content-Length). */
function rawPost(
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<RawResponse> {
  const url = new URL(serving.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: "POST",
        headers: { ...headers, "content-length": String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The extension's framing: JSON text, then the tensors' bytes; the header says the JSON length. */
function binaryRequest(json: string, ...tensors: Buffer[]) {
  const header = Buffer.from(json, "utf8");
  return {
    body: Buffer.concat([header, ...tensors]),
    headers: {
      "content-type": "application/octet-stream",
      "inference-header-content-length": String(header.length),
    },
  };
}

function float32LE(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

/** BYTES: per element a 4-byte little-endian length, then the bytes. */
function bytesElements(values: string[]): Buffer {
  return Buffer.concat(
    values.flatMap((s) => {
      const text = Buffer.from(s, "utf8");
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      return [length, text];
    }),
  );
}

type HeaderOutput = {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown[];
  parameters?: { binary_data_size?: number };
};

/** Splits a binary response by hand: the JSON header, and each binary output's bytes by name. */
function splitResponse(res: RawResponse) {
  const jsonLength = Number(res.headers["inference-header-content-length"]);
  const header = JSON.parse(res.body.subarray(0, jsonLength).toString("utf8")) as {
    outputs: HeaderOutput[];
  } & Record<string, unknown>;
  const bytes = new Map<string, Buffer>();
  let at = jsonLength;
  for (const o of header.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    bytes.set(o.name, res.body.subarray(at, at + size));
    at += size;
  }
  expect(at).toBe(res.body.length);
  return { header, bytes };
}

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
];

describe("binary tensor data extension", () => {
  it("is advertised in the server metadata", async () => {
    const res = await fetch(`${serving.url}/v2`);
    expect(await res.json()).toMatchObject({ extensions: ["binary_tensor_data"] });
  });

  it("answers a request built byte by byte from the specification like the JSON form", async () => {
    const json = `{"id":"spec","inputs":[{"name":"features","shape":[2,4],"datatype":"FP32","parameters":{"binary_data_size":32}}],"outputs":[{"name":"label","parameters":{"binary_data":true}},{"name":"probabilities","parameters":{"binary_data":true}}]}`;
    const { body, headers } = binaryRequest(json, float32LE(ROWS.flat()));
    const res = await rawPost(`/v2/models/${CLASSIFIER}/infer`, body, headers);

    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/octet-stream");
    const jsonLength = Number(res.headers["inference-header-content-length"]);
    expect(Number(res.headers["content-length"])).toBe(jsonLength + 2 * 8 + 2 * 3 * 4);
    const { header, bytes } = splitResponse(res);
    expect(header).toMatchObject({ model_name: CLASSIFIER, model_version: "1", id: "spec" });
    expect(header.outputs).toEqual([
      { name: "label", shape: [2], datatype: "INT64", parameters: { binary_data_size: 16 } },
      {
        name: "probabilities",
        shape: [2, 3],
        datatype: "FP32",
        parameters: { binary_data_size: 24 },
      },
    ]);
    const label = bytes.get("label")!;
    const labels = [0, 1].map((i) => Number(label.readBigInt64LE(i * 8)));
    const probs = bytes.get("probabilities")!;
    const probabilities = Array.from({ length: 6 }, (_, i) => probs.readFloatLE(i * 4));

    const viaJson = await postJson(`${serving.url}/v2/models/${CLASSIFIER}/infer`, {
      inputs: [{ name: "features", shape: [2, 4], datatype: "FP32", data: ROWS }],
    });
    const outputs = viaJson.body.outputs as Array<{ name: string; data: number[] }>;
    expect(labels).toEqual(outputs[0]!.data);
    expect(labels).toEqual([2, 2]);
    expect(probabilities).toEqual(outputs[1]!.data);
  });

  it("mixes binary and JSON inputs and outputs (BYTES and BOOL too)", async () => {
    const json = JSON.stringify({
      inputs: [
        { name: "a", shape: [2, 3], datatype: "FP32", parameters: { binary_data_size: 24 } },
        { name: "b", shape: [2, 3], datatype: "INT64", data: [1, 2, 3, 4, 5, 6] },
        { name: "text", shape: [2], datatype: "BYTES", parameters: { binary_data_size: 17 } },
      ],
      parameters: { binary_data_output: true },
      outputs: [
        { name: "sum" },
        { name: "positive", parameters: { binary_data: false } },
        { name: "echo" },
      ],
    });
    const { body, headers } = binaryRequest(
      json,
      float32LE([0.5, -1, 2, -0.25, 0, 3]),
      bytesElements(["héllo", "☃"]),
    );
    expect(bytesElements(["héllo", "☃"]).length).toBe(17);
    const res = await rawPost(`/v2/models/${MIXED}/infer`, body, headers);
    expect(res.status).toBe(200);
    const { header, bytes } = splitResponse(res);
    expect(header.outputs.map((o) => [o.name, o.parameters?.binary_data_size, o.data])).toEqual([
      ["sum", 24, undefined],
      ["positive", undefined, [true, false, true, false, false, true]],
      ["echo", 17, undefined],
    ]);
    const sum = bytes.get("sum")!;
    expect(Array.from({ length: 6 }, (_, i) => sum.readFloatLE(i * 4))).toEqual([
      1.5, 1, 5, 3.75, 5, 9,
    ]);
    expect(bytes.get("echo")).toEqual(bytesElements(["héllo", "☃"]));
  });

  it("sends binary outputs for a JSON-only request that asks for them (no header on the request)", async () => {
    const res = await rawPost(
      `/v2/models/${CLASSIFIER}/infer`,
      Buffer.from(
        JSON.stringify({
          inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: ROWS[0] }],
          parameters: { binary_data_output: true },
        }),
      ),
      { "content-type": "application/json" },
    );
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/octet-stream");
    const { header, bytes } = splitResponse(res);
    expect(header.outputs.map((o) => o.parameters?.binary_data_size)).toEqual([8, 12]);
    expect(bytes.get("label")!.readBigInt64LE(0)).toBe(2n);
  });

  it("answers JSON when a binary request asks for no binary output", async () => {
    const json = `{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}],"outputs":[{"name":"label"}]}`;
    const { body, headers } = binaryRequest(json, float32LE(ROWS[0]!));
    const res = await rawPost(`/v2/models/${CLASSIFIER}/infer`, body, headers);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.headers["inference-header-content-length"]).toBeUndefined();
    expect(JSON.parse(res.body.toString()).outputs).toEqual([
      { name: "label", shape: [1], datatype: "INT64", data: [2] },
    ]);
  });

  it("takes a gzip- or deflate-compressed binary body", async () => {
    const json = `{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}],"parameters":{"binary_data_output":true}}`;
    const { body, headers } = binaryRequest(json, float32LE(ROWS[0]!));
    for (const [encoding, compress] of [
      ["gzip", zlib.gzipSync],
      ["deflate", zlib.deflateSync],
    ] as const) {
      const res = await rawPost(`/v2/models/${CLASSIFIER}/infer`, compress(body), {
        ...headers,
        "content-encoding": encoding,
      });
      expect(res.status).toBe(200);
      expect(splitResponse(res).bytes.get("label")!.readBigInt64LE(0)).toBe(2n);
    }
  });

  it("logs a sampled binary request's inputs and outputs as the JSON form would show them", async () => {
    await updateServingSettings(db.client, SYSTEM_ACTOR, CLASSIFIER, { payloadSampleRate: 1 });
    const until = Date.now() + 5_000;
    while (serving.router.sampleRate(CLASSIFIER) !== 1 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const json = `{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}],"outputs":[{"name":"label","parameters":{"binary_data":true}}]}`;
    const { body, headers } = binaryRequest(json, float32LE([1, 2, 3, 4]));
    const res = await rawPost(`/v2/models/${CLASSIFIER}/infer`, body, headers);
    expect(res.status).toBe(200);
    const requestId = res.headers["x-request-id"] as string;
    let row = null;
    while (!row && Date.now() < until + 5_000) {
      row = await db.client.predictionLog.findFirst({ where: { requestId } });
      if (!row) await new Promise((r) => setTimeout(r, 25));
    }
    expect(row).toMatchObject({
      status: 200,
      rows: 1,
      inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
      outputs: [{ name: "label", shape: [1], datatype: "INT64", data: [2] }],
    });
  });
});

describe("binary framing errors are 400 JSON naming what is wrong", () => {
  const features = (size: number) =>
    `{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":${size}}}]}`;
  const cases: Array<{
    what: string;
    body: Buffer;
    headers: Record<string, string>;
    status?: number;
    code: string;
    mentions: string[];
  }> = [
    (() => {
      const r = binaryRequest(features(12), float32LE([1, 2, 3]));
      return {
        what: "byte length does not match the shape",
        ...r,
        code: "bad_data",
        mentions: ['Input "features"', "needs 16 bytes", "got 12"],
      };
    })(),
    (() => {
      const r = binaryRequest(features(16), float32LE([1, 2, 3, 4]));
      return {
        what: "header length not a number",
        body: r.body,
        headers: { ...r.headers, "inference-header-content-length": "twelve" },
        code: "bad_header_length",
        mentions: ["Inference-Header-Content-Length", '"twelve"'],
      };
    })(),
    (() => {
      const r = binaryRequest(features(16), float32LE([1, 2, 3, 4]));
      return {
        what: "header length negative",
        body: r.body,
        headers: { ...r.headers, "inference-header-content-length": "-5" },
        code: "bad_header_length",
        mentions: ["non-negative integer", '"-5"'],
      };
    })(),
    (() => {
      const r = binaryRequest(features(16), float32LE([1, 2, 3, 4]));
      return {
        what: "header length over the body",
        body: r.body,
        headers: { ...r.headers, "inference-header-content-length": String(r.body.length + 10) },
        code: "bad_header_length",
        mentions: [`is ${r.body.length + 10}`, `only ${r.body.length} bytes`],
      };
    })(),
    (() => {
      const r = binaryRequest(features(16), float32LE([1, 2, 3, 4]));
      return {
        what: "header length short of the JSON",
        body: r.body,
        headers: {
          ...r.headers,
          "inference-header-content-length": String(Buffer.byteLength(features(16)) - 2),
        },
        code: "malformed_json",
        mentions: ["The JSON request (the first"],
      };
    })(),
    (() => {
      const r = binaryRequest(features(16), float32LE([1, 2]));
      return {
        what: "missing bytes",
        ...r,
        code: "missing_binary_data",
        mentions: ['Input "features"', '"binary_data_size" is 16', "only 8 bytes"],
      };
    })(),
    (() => {
      const r = binaryRequest(features(16), float32LE([1, 2, 3, 4, 5]));
      return {
        what: "trailing bytes",
        ...r,
        code: "trailing_binary_data",
        mentions: ["20 bytes after", "add up to 16", "4 bytes are left over"],
      };
    })(),
    (() => {
      const r = binaryRequest(features(16), float32LE([1, 2, 3, 4]));
      return {
        what: "octet-stream without the header",
        body: r.body,
        headers: { "content-type": "application/octet-stream" },
        code: "missing_header_length",
        mentions: ["Inference-Header-Content-Length"],
      };
    })(),
    (() => {
      const r = binaryRequest(features(16), float32LE([1, 2, 3, 4]));
      return {
        what: "an unsupported Content-Encoding",
        body: r.body,
        headers: { ...r.headers, "content-encoding": "br" },
        status: 415,
        code: "unsupported_encoding",
        mentions: ['"br"', "gzip"],
      };
    })(),
    (() => {
      const r = binaryRequest(features(16), float32LE([1, 2, 3, 4]));
      return {
        what: "a body that is not the gzip it says",
        body: r.body,
        headers: { ...r.headers, "content-encoding": "gzip" },
        code: "bad_encoding",
        mentions: ["not valid gzip"],
      };
    })(),
    {
      what: "binary_data_size with JSON data and no binary part",
      body: Buffer.from(
        `{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4],"parameters":{"binary_data_size":16}}]}`,
      ),
      headers: { "content-type": "application/json" },
      code: "invalid_request",
      mentions: ['Input "features"', "Inference-Header-Content-Length"],
    },
  ];

  for (const c of cases) {
    it(c.what, async () => {
      const res = await rawPost(`/v2/models/${CLASSIFIER}/infer`, c.body, c.headers);
      expect(res.status).toBe(c.status ?? 400);
      expect(res.headers["content-type"]).toBe("application/json");
      const error = JSON.parse(res.body.toString()) as { error: string; code: string };
      expect(error.code).toBe(c.code);
      for (const m of c.mentions) expect(error.error).toContain(m);
    });
  }

  it("a binary body to the simple form is refused", async () => {
    const r = binaryRequest(features(16), float32LE([1, 2, 3, 4]));
    const res = await rawPost(`/v2/models/${CLASSIFIER}/predict`, r.body, r.headers);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).error).toContain("/infer");
  });

  it("a fuzz of 400 corrupted binary requests yields no 5xx and only JSON errors", async () => {
    const random = seededRandom(20261207);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const sizes = [0, 1, 4, 15, 16, 17, 64, -1, 1.5, "16", null, 1e12];
    const datatypes = ["FP32", "FP16", "BOOL", "BYTES", "INT64", "UINT8", "FP64"];
    const shapes = [
      [1, 4],
      [2, 4],
      [0, 4],
      [1, 1],
      [1, 4, 1],
    ];
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 20; batch++) {
      const requests = Array.from({ length: 20 }, () => {
        const json = JSON.stringify({
          inputs: [
            {
              name: random() < 0.9 ? "features" : "other",
              shape: pick(shapes),
              datatype: pick(datatypes),
              parameters: { binary_data_size: pick(sizes) },
              ...(random() < 0.05 ? { data: [1, 2, 3, 4] } : {}),
            },
          ],
          ...(random() < 0.3 ? { parameters: { binary_data_output: pick([true, 1, "x"]) } } : {}),
        });
        const tensor = Buffer.from(
          Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)),
        );
        const { body, headers } = binaryRequest(json, tensor);
        const headerLength = pick([
          headers["inference-header-content-length"],
          headers["inference-header-content-length"],
          String(Number(headers["inference-header-content-length"]) + pick([-3, -1, 1, 7])),
          "0",
          "-1",
          "x",
          "",
          String(body.length + 1),
        ]);
        const cut = random() < 0.15 ? body.subarray(0, Math.floor(random() * body.length)) : body;
        return rawPost(`/v2/models/${CLASSIFIER}/infer`, cut, {
          ...headers,
          "inference-header-content-length": headerLength,
        });
      });
      for (const res of await Promise.all(requests)) {
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, res.body.toString().slice(0, 300)).toBeLessThan(500);
        if (res.status !== 200) {
          expect(res.headers["content-type"]).toBe("application/json");
          expect(typeof JSON.parse(res.body.toString()).error).toBe("string");
        }
      }
    }
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(400);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(300);
    const ok = binaryRequest(
      `{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}`,
      float32LE(ROWS[0]!),
    );
    expect((await rawPost(`/v2/models/${CLASSIFIER}/infer`, ok.body, ok.headers)).status).toBe(200);
  });

  it("a body decompressing beyond the limit is a 413", async () => {
    const huge = zlib.gzipSync(Buffer.alloc(200 * 1024, 32));
    const res = await rawPost(`/v2/models/${CLASSIFIER}/infer`, huge, {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString()).error).toContain("once decompressed");
  });
});
