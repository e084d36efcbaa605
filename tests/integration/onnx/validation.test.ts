/**
 * Every class of bad upload gives OnnxValidationError with its reason, through the same
 * inspectOnnxFile call the upload route makes (parse + onnxruntime in a child process).
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildLogisticRegressionModel, encodeModel, writeModelFile } from "../../../lib/onnx/build";
import { inspectOnnxFile } from "../../../lib/onnx/inspect";
import { checkOnnxLoads } from "../../../lib/onnx/load-check";
import { onnxType } from "../../../lib/onnx/onnx-schema";
import { seededRandom } from "../../../lib/training/random";
import { tempDir, VAD_DIR, validationError, waitUntilGone } from "./helpers";

const dir = await tempDir("onnx-validation");
const at = (name: string) => path.join(dir, name);

async function fileWith(name: string, bytes: Uint8Array | string): Promise<string> {
  await writeFile(at(name), bytes);
  return at(name);
}

const LR = buildLogisticRegressionModel({
  weights: [
    [1, 0],
    [0, 1],
  ],
  bias: [0, 0],
});

/** A float32 MatMul model whose weight has `mib` MiB: slow enough to load to be cut short. */
async function bigModel(name: string, mib: number): Promise<string> {
  const columns = 256;
  const rows = (mib * 2 ** 20) / 4 / columns;
  await writeModelFile(
    at(name),
    {
      graph: {
        name: "big",
        nodes: [{ op: "MatMul", inputs: ["x", "W"], outputs: ["y"] }],
        inputs: [{ name: "x", type: "float32", shape: ["batch", rows] }],
        outputs: [{ name: "y", type: "float32", shape: ["batch", columns] }],
      },
    },
    [{ name: "W", type: "float32", dims: [rows, columns], fill: (chunk) => chunk.fill(1) }],
  );
  return at(name);
}

describe("inspectOnnxFile refuses", () => {
  it("an empty file", async () => {
    const e = await validationError(inspectOnnxFile(await fileWith("empty.onnx", "")));
    expect(e.reason).toBe("empty");
    expect(e.message).toBe("The file is empty.");
  });

  it("random bytes", async () => {
    const random = seededRandom(123);
    const bytes = Uint8Array.from({ length: 64 * 1024 }, () => Math.floor(random() * 256));
    const e = await validationError(inspectOnnxFile(await fileWith("random.onnx", bytes)));
    expect(e.reason).toBe("not_protobuf");
    expect(e.message).toBe(
      "This is not an ONNX model: it does not parse as a protocol-buffer ModelProto.",
    );
  });

  it("a zip file", async () => {
    // A real (stored, uncompressed) ZIP archive holding one small file.
    const name = Buffer.from("model.onnx");
    const data = Buffer.from("not really");
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(central.length + name.length, 12);
    end.writeUInt32LE(local.length + name.length + data.length, 16);
    const zip = Buffer.concat([local, name, data, central, name, end]);
    const e = await validationError(inspectOnnxFile(await fileWith("model.zip.onnx", zip)));
    expect(e.reason).toBe("not_protobuf");
    expect(e.message).toBe(
      "This is not an ONNX model: it does not parse as a protocol-buffer ModelProto (looks like a ZIP archive (PyTorch .pt and Keras .keras files are ZIP archives)).",
    );
  });

  it("a text file renamed .onnx", async () => {
    const text = "name,score\nalice,3\nbob,5\n";
    const e = await validationError(inspectOnnxFile(await fileWith("scores.onnx", text)));
    expect(e.reason).toBe("not_protobuf");
    expect(e.message).toBe(
      "This is not an ONNX model: it does not parse as a protocol-buffer ModelProto (looks like a text file).",
    );
  });

  it("a protocol buffer that is not a model", async () => {
    const Tensor = onnxType("TensorProto");
    const bytes = Tensor.encode(
      Tensor.fromObject({ dims: [2], data_type: 1, name: "input_0", raw_data: Buffer.alloc(8) }),
    ).finish();
    const e = await validationError(inspectOnnxFile(await fileWith("input_0.pb.onnx", bytes)));
    expect(e.reason).toBe("not_onnx");
  });

  it("a truncated model (a real third-party one cut in half)", async () => {
    const bytes = await readFile(path.join(VAD_DIR, "silero_vad_legacy.onnx"));
    const half = bytes.subarray(0, Math.floor(bytes.length / 2));
    const e = await validationError(inspectOnnxFile(await fileWith("half.onnx", half)));
    expect(e.reason).toBe("truncated");
    expect(e.message).toBe(
      'The model is truncated: the file ends in the middle of graph › node 1 (If "If_25") › attribute "then_branch" › graph › node 77 (If "If_177") › attribute "then_branch" › graph › initializer 8 "345". It has 903,761 bytes; the model needs at least 1,807,326. Upload the complete file.',
    );
  });

  it("a model whose weights are in external data files, even with the file next to it", async () => {
    const file = await fileWith(
      "external.onnx",
      encodeModel({
        graph: {
          name: "g",
          nodes: [{ op: "Add", inputs: ["x", "w"], outputs: ["y"] }],
          inputs: [{ name: "x", type: "float32", shape: [4] }],
          outputs: [{ name: "y", type: "float32", shape: [4] }],
          initializers: [
            {
              name: "w",
              type: "float32",
              dims: [4],
              external: { location: "external.onnx.data", offset: 0, length: 16 },
            },
          ],
        },
      }),
    );
    await writeFile(at("external.onnx.data"), Buffer.alloc(16));
    // onnxruntime itself would load it (it reads the data file): the refusal is ModelDeck's.
    await expect(checkOnnxLoads(file)).resolves.toMatchObject({ inputNames: ["x"] });
    const e = await validationError(inspectOnnxFile(file));
    expect(e.reason).toBe("external_data");
    expect(e.message).toBe(
      "This model keeps a tensor in separate files (external.onnx.data), which a single-file upload cannot include. Save it with the weights inside the .onnx file (onnx.save_model(model, path, save_as_external_data=False)); that is possible below 2 GiB.",
    );
  });

  it("a well-formed model onnxruntime refuses: unknown operator, wrong types", async () => {
    const unknownOp = await fileWith(
      "unknown-op.onnx",
      encodeModel({
        graph: {
          name: "g",
          nodes: [{ op: "NoSuchOp", name: "mystery", inputs: ["x"], outputs: ["y"] }],
          inputs: [{ name: "x", type: "float32", shape: [1] }],
          outputs: [{ name: "y", type: "float32", shape: [1] }],
        },
      }),
    );
    const e = await validationError(inspectOnnxFile(unknownOp));
    expect(e.reason).toBe("load_failed");
    expect(e.message).toMatch(
      /^onnxruntime cannot load this model: .*No Op registered for NoSuchOp/,
    );
    expect(e.message).not.toContain(dir); // no server paths in what people see

    const mismatch = await fileWith(
      "type-mismatch.onnx",
      encodeModel({
        graph: {
          name: "g",
          nodes: [{ op: "Add", inputs: ["x", "n"], outputs: ["y"] }],
          inputs: [
            { name: "x", type: "float32", shape: [1] },
            { name: "n", type: "int64", shape: [1] },
          ],
          outputs: [{ name: "y", type: "float32", shape: [1] }],
        },
      }),
    );
    const m = await validationError(inspectOnnxFile(mismatch));
    expect(m.reason).toBe("load_failed");
    expect(m.message).toMatch(/^onnxruntime cannot load this model: .*Type/);
  });

  it("a model that takes longer to load than allowed, and the loader is killed", async () => {
    const file = await bigModel("slow.onnx", 64);
    let pid = 0;
    const started = Date.now();
    const e = await validationError(
      checkOnnxLoads(file, { timeoutMs: 20, onSpawn: (p) => (pid = p) }),
    );
    expect(e.reason).toBe("load_timeout");
    expect(e.message).toBe(
      "onnxruntime did not finish loading the model within 20 ms; it was stopped. A model this slow to load is not accepted.",
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(pid).toBeGreaterThan(0);
    expect(await waitUntilGone(pid)).toBe(true);
    // With the default limit it loads.
    await expect(inspectOnnxFile(file)).resolves.toMatchObject({ parameterBytes: 64 * 2 ** 20 });
    const timeout = await validationError(inspectOnnxFile(file, { loadTimeoutMs: 20 }));
    expect(timeout.reason).toBe("load_timeout");
  });
});

describe("inspectOnnxFile", () => {
  it("can be cancelled: the load child is killed", async () => {
    const file = await bigModel("cancel.onnx", 64);
    const controller = new AbortController();
    let pid = 0;
    const check = checkOnnxLoads(file, {
      signal: controller.signal,
      onSpawn: (p) => {
        pid = p;
        setTimeout(() => controller.abort(new Error("upload cancelled")), 50);
      },
    });
    await expect(check).rejects.toThrow("upload cancelled");
    expect(await waitUntilGone(pid)).toBe(true);
  });

  it("accepts a model under any file name, and leaves the file as it was", async () => {
    const file = await fileWith("no extension", LR);
    await expect(inspectOnnxFile(file)).resolves.toMatchObject({ producerName: "modeldeck" });
    expect(await readFile(file)).toEqual(LR);
  });

  it("runs several checks at once (they queue for a few children)", async () => {
    const file = await fileWith("many.onnx", LR);
    const results = await Promise.all(Array.from({ length: 5 }, () => checkOnnxLoads(file)));
    for (const r of results) expect(r.inputNames).toEqual(["features"]);
  });
});
