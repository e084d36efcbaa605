import { writeModelFile } from "../../lib/onnx/build";

/**
 * A real model of about `mib` MiB that onnxruntime loads: one MatMul `y = x · W` whose weight
 * `W` ([rows, columns] float32) is the bulk of the file, written as a stream (the file never
 * sits in memory). `fill` sets each chunk of W's bytes (default all 1.0f).
 */
export async function writeLargeMatMulModel(
  file: string,
  opts: {
    mib: number;
    columns: number;
    fill?: (chunk: Buffer, offset: number) => void;
  },
): Promise<{ rows: number; columns: number }> {
  const { columns } = opts;
  const rows = Math.floor((opts.mib * 2 ** 20) / 4 / columns);
  await writeModelFile(
    file,
    {
      graph: {
        name: "large",
        nodes: [{ op: "MatMul", inputs: ["x", "W"], outputs: ["y"] }],
        inputs: [{ name: "x", type: "float32", shape: ["batch", rows] }],
        outputs: [{ name: "y", type: "float32", shape: ["batch", columns] }],
      },
    },
    [
      {
        name: "W",
        type: "float32",
        dims: [rows, columns],
        fill: opts.fill ?? ((chunk) => chunk.fill(1)),
      },
    ],
  );
  return { rows, columns };
}
