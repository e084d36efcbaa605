/**
 * Memory: inspecting a large model keeps the process's memory flat. Heavy (writes a 320 MiB
 * file, about 10 s), so it runs only with MODELDECK_HEAVY_TESTS=1; MODELDECK_HEAVY_MODEL_MIB
 * picks another size (e.g. 1024).
 *   MODELDECK_HEAVY_TESTS=1 npx vitest run --project integration tests/integration/onnx/large-model
 */
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { writeLargeMatMulModel } from "../../support/large-model";
import { checkOnnxLoads } from "../../../lib/onnx/load-check";
import { tempDir } from "./helpers";

const heavy = process.env.MODELDECK_HEAVY_TESTS === "1";
const MIB = Number(process.env.MODELDECK_HEAVY_MODEL_MIB ?? 320);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const script = path.resolve("tests/integration/onnx/fixtures/measure-memory.ts");

interface Measurement {
  ms: number;
  growth: number;
  peak: number;
}

async function measure(mode: "parse" | "inspect" | "naive", file: string): Promise<Measurement> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", script, mode, file],
    { maxBuffer: 1024 * 1024, env: { ...process.env, NODE_OPTIONS: "" } },
  );
  return JSON.parse(stdout.trim().split("\n").pop()!) as Measurement;
}

describe.skipIf(!heavy)(`a ${MIB} MiB model`, () => {
  it("is parsed and inspected with bounded memory", { timeout: 600_000 }, async () => {
    const dir = await tempDir("onnx-large");
    const file = path.join(dir, "large.onnx");
    await writeLargeMatMulModel(file, {
      mib: MIB,
      columns: 10_240,
      fill: (chunk, offset) => {
        for (let i = 0; i < chunk.length; i += 4) {
          chunk.writeFloatLE(((offset + i) % 1009) / 1e4, i);
        }
      },
    });
    const { size } = await stat(file);

    const naive = await measure("naive", file);
    const parse = await measure("parse", file);
    const inspect = await measure("inspect", file);
    const load = await checkOnnxLoads(file, { timeoutMs: 300_000 });
    console.log(
      `[large-model] file ${mib(size)}\n` +
        `  parse (streaming):             ${parse.ms.toFixed(0)} ms, peak RSS +${mib(parse.growth)}\n` +
        `  inspect (parse + load check):  ${inspect.ms.toFixed(0)} ms, peak RSS +${mib(inspect.growth)} in this process\n` +
        `  onnxruntime in the child:      load ${load.loadMs} ms, peak RSS ${mib(load.childMaxRssBytes)}\n` +
        `  for comparison, readFile + protobufjs decode: ${naive.ms.toFixed(0)} ms, peak RSS +${mib(naive.growth)}`,
    );
    // The method sees a spike: the naive approach holds the whole file.
    expect(naive.growth).toBeGreaterThan(size * 0.9);
    expect(parse.growth).toBeLessThan(16 * 2 ** 20);
    expect(inspect.growth).toBeLessThan(32 * 2 ** 20);
  });
});
