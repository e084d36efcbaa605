/**
 * The Open Inference Protocol's gRPC endpoint, on real serving processes with real
 * onnxruntime. The client is built from the protocol's `.proto` file alone (proto-loader, as
 * any gRPC client would be), never from ModelDeck's own types, and its answers are compared
 * with the HTTP endpoint's for the same inputs.
 */
import http2 from "node:http2";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import { encodeModel } from "../../../lib/onnx/build";
import { createModel } from "../../../lib/registry";
import {
  addVersion,
  classifierBytes,
  createClassifier,
  oneRow,
  postJson,
  promote,
  serveTestModels,
  storeFor,
  type ServingProcess,
} from "./harness";

const PROTO = path.resolve(import.meta.dirname, "../../../lib/serving/grpc/grpc_predict_v2.proto");
const definition = protoLoader.loadSync(PROTO, {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
});
const Service = (
  grpc.loadPackageDefinition(definition) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  }
).inference.GRPCInferenceService;

type Rpc = (
  request: unknown,
  metadata: grpc.Metadata,
  callback: (error: grpc.ServiceError | null, response: Answer) => void,
) => void;
// What proto-loader decodes, loosely: these tests check the fields they read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = any;

function channel(address: string): grpc.Client {
  return new Service(address, grpc.credentials.createInsecure());
}

function call(
  client: grpc.Client,
  method: string,
  request: unknown,
  token: string | null,
): Promise<Answer> {
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set("authorization", `Bearer ${token}`);
  const rpc = (client as unknown as Record<string, Rpc>)[method]!.bind(client);
  return new Promise((resolve, reject) =>
    rpc(request, metadata, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

/** The status a call fails with (the test fails if it succeeds). */
async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error("the call succeeded");
}

const fixture = serveTestModels();
const db = fixture.db;
const IRIS = "grpc-iris";
const ECHO = "grpc-echo";
let token: string;
let serving: ServingProcess;
let client: grpc.Client;

/** Identity of an INT64, a BOOL and a BYTES input: their values come back as sent. */
function echoBytes(): Buffer {
  return encodeModel({
    graph: {
      name: "echo",
      inputs: [
        { name: "ids", type: "int64", shape: ["batch", 2] },
        { name: "flags", type: "bool", shape: ["batch"] },
        { name: "words", type: "string", shape: ["batch"] },
      ],
      outputs: [
        { name: "ids_out", type: "int64", shape: ["batch", 2] },
        { name: "flags_out", type: "bool", shape: ["batch"] },
        { name: "words_out", type: "string", shape: ["batch"] },
      ],
      nodes: [
        { op: "Identity", inputs: ["ids"], outputs: ["ids_out"] },
        { op: "Identity", inputs: ["flags"], outputs: ["flags_out"] },
        { op: "Identity", inputs: ["words"], outputs: ["words_out"] },
      ],
    },
  });
}

const FEATURES = [5.1, 3.5, 1.4, 0.2];
const typedRow = (values = FEATURES) => ({
  model_name: IRIS,
  inputs: [
    { name: "features", datatype: "FP32", shape: [1, 4], contents: { fp32_contents: values } },
  ],
});
const f32Bytes = (values: number[]) => Buffer.from(new Float32Array(values).buffer);

beforeAll(async () => {
  const store = storeFor(fixture.dataDir);
  await createClassifier(db.client, store, IRIS, [classifierBytes(0), classifierBytes(1)], 1);
  await createModel(db.client, SYSTEM_ACTOR, { name: ECHO, task: "other" });
  await addVersion(db.client, store, ECHO, echoBytes());
  await promote(db.client, ECHO, 1);
  token = (await createApiToken(db.client, SYSTEM_ACTOR, { name: "grpc", role: "viewer" })).secret;
  serving = await fixture.spawn({
    grpc: true,
    env: { MODELDECK_SERVING_AUTH: "on", MODELDECK_PREDICTION_LOG: "on" },
  });
  client = channel(serving.grpcAddress!);
  // Served (the alias targets loaded) before the tests start.
  for (;;) {
    const ready = await call(client, "ModelReady", { name: IRIS }, token);
    if (ready.ready) break;
    await new Promise((r) => setTimeout(r, 50));
  }
}, 120_000);

const http = (route: string) =>
  fetch(`${serving.url}${route}`, { headers: { authorization: `Bearer ${token}` } });
const httpInfer = (model: string, body: unknown) =>
  postJson(`${serving.url}/v2/models/${model}/infer`, body, {
    authorization: `Bearer ${token}`,
  });

describe("health and metadata", () => {
  it("ServerLive and ServerReady answer without a token", async () => {
    expect(await call(client, "ServerLive", {}, null)).toEqual({ live: true });
    expect(await call(client, "ServerReady", {}, null)).toEqual({ ready: true });
  });

  it("ServerMetadata names the server", async () => {
    const meta = await call(client, "ServerMetadata", {}, token);
    const viaHttp = (await (await http("/v2")).json()) as Record<string, unknown>;
    expect(meta).toEqual({ name: "modeldeck", version: viaHttp.version, extensions: [] });
  });

  it("ModelMetadata says what the HTTP metadata says", async () => {
    const meta = await call(client, "ModelMetadata", { name: IRIS }, token);
    const viaHttp = (await (await http(`/v2/models/${IRIS}`)).json()) as {
      inputs: Array<{ shape: number[] }>;
      outputs: Array<{ shape: number[] }>;
    };
    const numeric = (ts: Array<{ name: string; datatype: string; shape: string[] }>) =>
      ts.map((t) => ({ ...t, shape: t.shape.map(Number) }));
    expect({
      ...meta,
      inputs: numeric(meta.inputs),
      outputs: numeric(meta.outputs),
    }).toEqual(viaHttp);
    expect(meta.inputs).toEqual([{ name: "features", datatype: "FP32", shape: ["-1", "4"] }]);
  });

  it("ModelReady: true for a served model and version, false for an unknown one", async () => {
    expect(await call(client, "ModelReady", { name: IRIS }, token)).toEqual({ ready: true });
    expect(await call(client, "ModelReady", { name: IRIS, version: "2" }, token)).toEqual({
      ready: true,
    });
    expect(await call(client, "ModelReady", { name: "no-such-model" }, token)).toEqual({
      ready: false,
    });
  });

  it("ModelMetadata of an unknown model is NOT_FOUND", async () => {
    const error = await failure(call(client, "ModelMetadata", { name: "no-such-model" }, token));
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(error.details).toMatch(/no-such-model/);
  });
});

describe("ModelInfer", () => {
  it("typed contents: the HTTP endpoint's answer, as typed contents", async () => {
    const answer = await call(client, "ModelInfer", { ...typedRow(), id: "req-1" }, token);
    const viaHttp = await httpInfer(IRIS, oneRow(FEATURES));
    expect(viaHttp.status).toBe(200);
    expect(answer).toMatchObject({ model_name: IRIS, model_version: "1", id: "req-1" });
    expect(answer.raw_output_contents).toEqual([]);
    const outputs = viaHttp.body.outputs as Array<{
      name: string;
      datatype: string;
      shape: number[];
      data: number[];
    }>;
    expect(answer.outputs.map((o: { name: string }) => o.name)).toEqual(outputs.map((o) => o.name));
    for (const expected of outputs) {
      const got = answer.outputs.find((o: { name: string }) => o.name === expected.name);
      expect(got.datatype).toBe(expected.datatype);
      expect(got.shape.map(Number)).toEqual(expected.shape);
      const values =
        expected.datatype === "INT64"
          ? got.contents.int64_contents.map(Number)
          : got.contents.fp32_contents;
      expect(values).toHaveLength(expected.data.length);
      values.forEach((v: number, i: number) => expect(v).toBeCloseTo(expected.data[i]!, 6));
    }
  });

  it("raw contents: answered with raw_output_contents holding the same values", async () => {
    const answer = await call(
      client,
      "ModelInfer",
      {
        model_name: IRIS,
        inputs: [{ name: "features", datatype: "FP32", shape: [1, 4] }],
        outputs: [{ name: "probabilities" }, { name: "label" }],
        raw_input_contents: [f32Bytes(FEATURES)],
      },
      token,
    );
    const viaHttp = await httpInfer(IRIS, oneRow(FEATURES));
    const byName = Object.fromEntries(
      (viaHttp.body.outputs as Array<{ name: string; data: number[] }>).map((o) => [
        o.name,
        o.data,
      ]),
    );
    expect(answer.outputs.map((o: { name: string }) => o.name)).toEqual(["probabilities", "label"]);
    expect(answer.outputs[0].contents).toBeNull();
    const [probabilities, label] = answer.raw_output_contents as Buffer[];
    const probs = new Float32Array(
      probabilities!.buffer.slice(
        probabilities!.byteOffset,
        probabilities!.byteOffset + probabilities!.byteLength,
      ),
    );
    expect([...probs]).toHaveLength(3);
    [...probs].forEach((v, i) => expect(v).toBeCloseTo(byName.probabilities![i]!, 6));
    expect(label!.byteLength).toBe(8);
    expect(Number(label!.readBigInt64LE(0))).toBe(byName.label![0]);
  });

  it("INT64, BOOL and BYTES contents, exact past 2^53, typed and raw", async () => {
    const big = "9007199254740993"; // 2^53 + 1: a JSON number cannot hold it
    const typed = await call(
      client,
      "ModelInfer",
      {
        model_name: ECHO,
        inputs: [
          {
            name: "ids",
            datatype: "INT64",
            shape: [1, 2],
            contents: { int64_contents: [big, "-7"] },
          },
          { name: "flags", datatype: "BOOL", shape: [1], contents: { bool_contents: [true] } },
          {
            name: "words",
            datatype: "BYTES",
            shape: [1],
            contents: { bytes_contents: [Buffer.from("héllo")] },
          },
        ],
      },
      token,
    );
    const out = Object.fromEntries(
      typed.outputs.map((o: { name: string; contents: unknown }) => [o.name, o.contents]),
    );
    expect(out.ids_out.int64_contents).toEqual([big, "-7"]);
    expect(out.flags_out.bool_contents).toEqual([true]);
    expect(out.words_out.bytes_contents.map(String)).toEqual(["héllo"]);

    const ids = Buffer.alloc(16);
    ids.writeBigInt64LE(2n ** 53n + 1n, 0);
    ids.writeBigInt64LE(-7n, 8);
    const word = Buffer.from("héllo");
    const words = Buffer.concat([Buffer.from([word.length, 0, 0, 0]), word]);
    const raw = await call(
      client,
      "ModelInfer",
      {
        model_name: ECHO,
        inputs: [
          { name: "ids", datatype: "INT64", shape: [1, 2] },
          { name: "flags", datatype: "BOOL", shape: [1] },
          { name: "words", datatype: "BYTES", shape: [1] },
        ],
        raw_input_contents: [ids, Buffer.from([1]), words],
      },
      token,
    );
    expect(raw.raw_output_contents.map((b: Buffer) => b.toString("hex"))).toEqual([
      ids.toString("hex"),
      "01",
      words.toString("hex"),
    ]);
  });

  it("another version by number, and the request id defaults to a generated one", async () => {
    const answer = await call(client, "ModelInfer", { ...typedRow(), model_version: "2" }, token);
    expect(answer.model_version).toBe("2");
    expect(answer.id).toMatch(/.+/);
    const label = answer.outputs.find((o: { name: string }) => o.name === "label");
    expect(label.contents.int64_contents).toEqual(["1"]);
  });
});

/**
 * Protocol buffers by hand, from the protocol's field numbers (ModelInferRequest: model_name 1,
 * inputs 5; InferInputTensor: name 1, datatype 2, shape 3, contents 5; InferTensorContents:
 * fp32_contents 6; ModelInferResponse: model_name 1, model_version 2, outputs 5;
 * InferOutputTensor: name 1, datatype 2, shape 3, contents 5): proves the served definition
 * is the protocol's on the wire, independently of any .proto file.
 */
const varint = (n: number): Buffer => {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.from(out);
};
const field = (num: number, payload: Buffer): Buffer =>
  Buffer.concat([varint((num << 3) | 2), varint(payload.length), payload]);
const text = (num: number, value: string) => field(num, Buffer.from(value, "utf8"));

type WireField = { num: number; wire: number; value: number | Buffer };
function readFields(buf: Buffer): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  const readVarint = () => {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = buf[at++]!;
      n += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) return n;
    }
  };
  while (at < buf.length) {
    const key = readVarint();
    const wire = key & 7;
    if (wire === 0) fields.push({ num: key >>> 3, wire, value: readVarint() });
    else if (wire === 2) {
      const len = readVarint();
      fields.push({ num: key >>> 3, wire, value: buf.subarray(at, at + len) });
      at += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return fields;
}
const bytesOf = (fields: WireField[], num: number) =>
  fields.filter((f) => f.num === num).map((f) => f.value as Buffer);

describe("on the wire", () => {
  it("a ModelInfer request encoded by hand from the protocol's field numbers", async () => {
    const packedShape = Buffer.concat([varint(1), varint(4)]);
    const contents = field(6, f32Bytes(FEATURES)); // packed repeated float
    const input = Buffer.concat([
      text(1, "features"),
      text(2, "FP32"),
      field(3, packedShape),
      field(5, contents),
    ]);
    const message = Buffer.concat([text(1, IRIS), field(5, input)]);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1); // not compressed, then the length
    message.copy(frame, 5);

    const session = http2.connect(`http://${serving.grpcAddress}`);
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/inference.GRPCInferenceService/ModelInfer",
        "content-type": "application/grpc",
        te: "trailers",
        authorization: `Bearer ${token}`,
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("trailers", (t) => (status = String(t["grpc-status"])));
      stream.end(frame);
      await new Promise((resolve, reject) => {
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      expect(status).toBe("0");
      const body = Buffer.concat(chunks);
      const response = readFields(body.subarray(5, 5 + body.readUInt32BE(1)));
      expect(bytesOf(response, 1)[0]!.toString()).toBe(IRIS);
      expect(bytesOf(response, 2)[0]!.toString()).toBe("1");
      const outputs = bytesOf(response, 5).map(readFields);
      const probabilities = outputs.find((o) => bytesOf(o, 1)[0]!.toString() === "probabilities")!;
      expect(bytesOf(probabilities, 2)[0]!.toString()).toBe("FP32");
      const packed = bytesOf(readFields(bytesOf(probabilities, 5)[0]!), 6)[0]!;
      const values = new Float32Array(
        packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.length),
      );

      const viaHttp = await httpInfer(IRIS, oneRow(FEATURES));
      const expected = (viaHttp.body.outputs as Array<{ name: string; data: number[] }>).find(
        (o) => o.name === "probabilities",
      )!.data;
      expect(values).toHaveLength(expected.length);
      [...values].forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    } finally {
      session.close();
    }
  });
});

describe("refusals, with the protocol's status codes and the HTTP endpoint's messages", () => {
  it("no token, or a bad one: UNAUTHENTICATED", async () => {
    for (const t of [null, "mdk_not-a-real-token-at-all-000000000"]) {
      for (const method of ["ServerMetadata", "ModelMetadata", "ModelReady", "ModelInfer"]) {
        const error = await failure(call(client, method, typedRow(), t));
        expect(error.code, `${method} with ${t ?? "no token"}`).toBe(grpc.status.UNAUTHENTICATED);
        expect(error.details).toMatch(t ? /invalid, expired or revoked/ : /Bearer/);
      }
    }
  });

  it("bad input: INVALID_ARGUMENT naming the problem, as the HTTP endpoint says it", async () => {
    const cases: Array<{ what: string; grpc: unknown; http: unknown; message: RegExp }> = [
      {
        what: "wrong datatype",
        grpc: {
          model_name: IRIS,
          inputs: [
            {
              name: "features",
              datatype: "FP64",
              shape: [1, 4],
              contents: { fp64_contents: FEATURES },
            },
          ],
        },
        http: { inputs: [{ name: "features", datatype: "FP64", shape: [1, 4], data: FEATURES }] },
        message: /datatype FP64 does not match the model, which expects FP32/,
      },
      {
        what: "wrong shape",
        grpc: {
          model_name: IRIS,
          inputs: [
            {
              name: "features",
              datatype: "FP32",
              shape: [1, 3],
              contents: { fp32_contents: [1, 2, 3] },
            },
          ],
        },
        http: { inputs: [{ name: "features", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }] },
        message: /shape \[1,3\] does not fit the model's \[batch, 4\]/,
      },
      {
        what: "unknown input",
        grpc: {
          model_name: IRIS,
          inputs: [
            {
              name: "petals",
              datatype: "FP32",
              shape: [1, 4],
              contents: { fp32_contents: FEATURES },
            },
          ],
        },
        http: { inputs: [{ name: "petals", datatype: "FP32", shape: [1, 4], data: FEATURES }] },
        message: /Input "petals" is not an input of this model/,
      },
      {
        what: "too few values",
        grpc: typedRow([1, 2, 3]),
        http: oneRow([1, 2, 3]),
        message: /shape \[1,4\] needs 4 values, got 3/,
      },
    ];
    for (const c of cases) {
      const error = await failure(call(client, "ModelInfer", c.grpc, token));
      expect(error.code, c.what).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details, c.what).toMatch(c.message);
      const viaHttp = await httpInfer(IRIS, c.http);
      expect(viaHttp.status, c.what).toBe(400);
      expect(error.details, c.what).toBe(viaHttp.body.error);
      expect(error.metadata.get("modeldeck-error-code"), c.what).toEqual([viaHttp.body.code]);
    }
  });

  it("raw contents of the wrong length, or typed and raw mixed: INVALID_ARGUMENT", async () => {
    const short = await failure(
      call(
        client,
        "ModelInfer",
        {
          model_name: IRIS,
          inputs: [{ name: "features", datatype: "FP32", shape: [1, 4] }],
          raw_input_contents: [f32Bytes([1, 2, 3])],
        },
        token,
      ),
    );
    expect(short.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(short.details).toMatch(/Input "features".*needs 16 bytes.*got 12/);

    const mixed = await failure(
      call(
        client,
        "ModelInfer",
        { ...typedRow(), raw_input_contents: [f32Bytes(FEATURES)] },
        token,
      ),
    );
    expect(mixed.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(mixed.details).toMatch(/typed contents.*raw_input_contents/);

    const wrongField = await failure(
      call(
        client,
        "ModelInfer",
        {
          model_name: IRIS,
          inputs: [
            {
              name: "features",
              datatype: "FP32",
              shape: [1, 4],
              contents: { int_contents: [1, 2, 3, 4] },
            },
          ],
        },
        token,
      ),
    );
    expect(wrongField.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(wrongField.details).toMatch(/FP32 takes its values in fp32_contents, but int_contents/);
  });

  it("unknown model or version: NOT_FOUND", async () => {
    const model = await failure(
      call(client, "ModelInfer", { ...typedRow(), model_name: "no-such-model" }, token),
    );
    expect(model.code).toBe(grpc.status.NOT_FOUND);
    expect(model.details).toMatch(/no-such-model/);
    const version = await failure(
      call(client, "ModelInfer", { ...typedRow(), model_version: "99" }, token),
    );
    expect(version.code).toBe(grpc.status.NOT_FOUND);
  });

  it("a message larger than MODELDECK_SERVING_MAX_BODY_BYTES: RESOURCE_EXHAUSTED", async () => {
    const small = await fixture.spawn({
      grpc: true,
      env: { MODELDECK_SERVING_MAX_BODY_BYTES: "1024" },
    });
    const c = channel(small.grpcAddress!);
    try {
      const error = await failure(
        call(c, "ModelInfer", typedRow(Array.from({ length: 400 }, () => 1)), null),
      );
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      c.close();
      await small.stop();
    }
  });
});

describe("bookkeeping", () => {
  it("gRPC calls are in the prediction log and the metrics, with the HTTP-equivalent status", async () => {
    const since = new Date();
    const metricsText = async () => (await fetch(`${serving.url}/metrics`)).text();
    const counter = (text: string, status: string) =>
      Number(
        new RegExp(
          `^modeldeck_inference_requests_total\\{model="${IRIS}",version="1",status="${status}"\\} (\\d+)`,
          "m",
        ).exec(text)?.[1] ?? 0,
      );
    const m0 = await metricsText();
    for (let i = 0; i < 3; i++) await call(client, "ModelInfer", typedRow(), token);
    await failure(call(client, "ModelInfer", typedRow([1, 2]), token));
    const m1 = await metricsText();
    expect(counter(m1, "200") - counter(m0, "200")).toBe(3);
    expect(counter(m1, "400") - counter(m0, "400")).toBe(1);

    let rows: Array<{ status: number; error: string | null; version: number | null }> = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      rows = await db.client.predictionLog.findMany({
        where: { model: IRIS, at: { gte: since } },
        select: { status: true, error: true, version: true },
      });
      if (rows.length >= 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows.map((r) => r.status).sort()).toEqual([200, 200, 200, 400]);
    expect(rows.find((r) => r.status === 400)!.error).toMatch(/needs 4 values, got 2/);
    expect(rows.every((r) => r.version === 1)).toBe(true);
  });
});

describe("serving processes", () => {
  it("hot swap under gRPC load: 16 callers, zero failed calls, answers from both versions", async () => {
    const MODEL = "grpc-swap";
    await createClassifier(
      db.client,
      storeFor(fixture.dataDir),
      MODEL,
      [classifierBytes(0), classifierBytes(1)],
      1,
    );
    for (;;) {
      const ready = await call(client, "ModelReady", { name: MODEL }, token);
      if (ready.ready) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const channels = Array.from({ length: 4 }, () => channel(serving.grpcAddress!));
    type Sample = { startedAt: number; ok: boolean; label: string | null; error?: string };
    const samples: Sample[] = [];
    let stop = false;
    const running = Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const c = channels[i % channels.length]!;
        while (!stop) {
          const startedAt = Date.now();
          try {
            const answer = await call(c, "ModelInfer", { ...typedRow(), model_name: MODEL }, token);
            const label = answer.outputs.find((o: { name: string }) => o.name === "label");
            samples.push({ startedAt, ok: true, label: label.contents.int64_contents[0] });
          } catch (error) {
            samples.push({ startedAt, ok: false, label: null, error: String(error) });
          }
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 1_500));
    await promote(db.client, MODEL, 2);
    const committedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2_500));
    stop = true;
    await running;
    for (const c of channels) c.close();

    const failed = samples.filter((s) => !s.ok);
    expect(failed, JSON.stringify(failed.slice(0, 3))).toHaveLength(0);
    expect(samples.length).toBeGreaterThan(500);
    expect(
      samples.filter((s) => s.startedAt < committedAt - 50 && s.label === "0").length,
    ).toBeGreaterThan(100);
    const late = samples.filter((s) => s.startedAt >= committedAt + 1_000);
    expect(late.length).toBeGreaterThan(100);
    expect(late.filter((s) => s.label !== "1")).toHaveLength(0);
  }, 60_000);

  it("two cluster workers share the gRPC port; ServerReady is false once a drain starts", async () => {
    const cluster = await fixture.spawn({
      grpc: true,
      env: {
        MODELDECK_SERVING_WORKERS: "2",
        MODELDECK_SERVING_DRAIN_DELAY_SECONDS: "2",
      },
    });
    // One channel is one connection, which the cluster gives to one worker: use several.
    const channels = Array.from({ length: 6 }, () => channel(cluster.grpcAddress!));
    try {
      for (;;) {
        const ready = await call(channels[0]!, "ModelReady", { name: IRIS }, null);
        if (ready.ready) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const answers = await Promise.all(
        channels.flatMap((c) => [1, 2, 3].map(() => call(c, "ModelInfer", typedRow(), null))),
      );
      expect(answers).toHaveLength(18);
      for (const a of answers) expect(a.model_version).toBe("1");

      const stopped = cluster.stop("SIGTERM");
      let ready = true;
      const deadline = Date.now() + 1_500;
      while (ready && Date.now() < deadline) {
        ready = (await call(channels[1]!, "ServerReady", {}, null)).ready;
        if (ready) await new Promise((r) => setTimeout(r, 50));
      }
      expect(ready).toBe(false);
      // Still answering while the drain delay runs.
      expect((await call(channels[1]!, "ModelInfer", typedRow(), null)).model_version).toBe("1");
      await stopped;
    } finally {
      for (const c of channels) c.close();
    }
  }, 90_000);
});
