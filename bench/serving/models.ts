/**
 * The serving benchmark's two models, the request bodies sent to them, and the contract every
 * target (no-op server, naive server, ModelDeck) fulfils for the runner.
 *
 * - logreg: 4-feature, 3-class logistic regression (Iris-sized): session.run is all per-call
 *   overhead, so HTTP, JSON and the server's own work dominate.
 * - mlp: 64→512→512→10 ReLU MLP (about 300k parameters): enough arithmetic per row that
 *   batching rows into one session.run pays off.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { buildLogisticRegressionModel, buildMlpModel } from "../../lib/onnx/build";
import { seededRandom } from "../../lib/training/random";

export const MODEL_KEYS = ["logreg", "mlp"] as const;
export type ModelKey = (typeof MODEL_KEYS)[number];

export interface BenchModel {
  /** "image" is the binary tensor benchmark's model (binary.ts), not one of run.ts's. */
  key: ModelKey | "image";
  /** The model's name in request URLs: POST /v2/models/{name}/infer. */
  name: string;
  /** The .onnx file. */
  path: string;
  /** The one input: float32 [batch, features]. */
  inputName: string;
  features: number;
  outputs: { name: string; datatype: "FP32" | "INT64"; perRow: number[] }[];
  description: string;
}

/** The models as they will be laid out in `dir` (see writeBenchModels). */
export function benchModels(dir: string): Record<ModelKey, BenchModel> {
  return {
    logreg: {
      key: "logreg",
      name: "bench-logreg",
      path: path.join(dir, "logreg.onnx"),
      inputName: "features",
      features: 4,
      outputs: [
        { name: "label", datatype: "INT64", perRow: [] },
        { name: "probabilities", datatype: "FP32", perRow: [3] },
      ],
      description: "logistic regression, 4 features → 3 classes",
    },
    mlp: {
      key: "mlp",
      name: "bench-mlp",
      path: path.join(dir, "mlp.onnx"),
      inputName: "features",
      features: 64,
      outputs: [{ name: "logits", datatype: "FP32", perRow: [10] }],
      description: "MLP 64→512→512→10 (ReLU)",
    },
  };
}

/** Writes both models into `dir` (created if missing); the same bytes on every run. */
export async function writeBenchModels(dir: string): Promise<Record<ModelKey, BenchModel>> {
  await mkdir(dir, { recursive: true });
  const models = benchModels(dir);
  // Iris-like weights: fixed numbers, so every run serves the same model.
  const logreg = buildLogisticRegressionModel({
    weights: [
      [0.4, 0.1, -0.5],
      [1.2, -0.6, -0.6],
      [-2.1, 0.2, 1.9],
      [-1.0, -0.8, 1.8],
    ],
    bias: [0.3, 1.1, -1.4],
    featureNames: ["sepal_length", "sepal_width", "petal_length", "petal_width"],
    classLabels: ["setosa", "versicolor", "virginica"],
    graphName: "bench_logreg",
  });
  const mlp = buildMlpModel({ layers: [64, 512, 512, 10], seed: 64 });
  await writeFile(models.logreg.path, logreg);
  await writeFile(models.mlp.path, mlp);
  return models;
}

/**
 * An Open Inference Protocol v2 request body with `rows` rows of deterministic features:
 *   {"inputs":[{"name":"features","shape":[rows,F],"datatype":"FP32","data":[...]}]}
 */
export function inferRequestBody(model: BenchModel, rows: number, seed = 1): string {
  const random = seededRandom(seed);
  const data = Array.from({ length: rows * model.features }, () =>
    Number((random() * 8).toFixed(3)),
  );
  return JSON.stringify({
    inputs: [{ name: model.inputName, shape: [rows, model.features], datatype: "FP32", data }],
  });
}

/** Checks that `body` is an OIP response to a `rows`-row request; returns what is wrong. */
export function checkInferResponse(model: BenchModel, rows: number, body: unknown): string | null {
  const outputs = (body as { outputs?: unknown })?.outputs;
  if (!Array.isArray(outputs)) return "the response has no outputs array";
  for (const expected of model.outputs) {
    const out = outputs.find((o: { name?: unknown }) => o?.name === expected.name) as
      { shape?: unknown; data?: unknown } | undefined;
    if (!out) return `output "${expected.name}" is missing`;
    const shape = [rows, ...expected.perRow];
    if (JSON.stringify(out.shape) !== JSON.stringify(shape)) {
      return `output "${expected.name}" has shape ${JSON.stringify(out.shape)}, expected ${JSON.stringify(shape)}`;
    }
    const count = shape.reduce((n, d) => n * d, 1);
    const data = Array.isArray(out.data) ? out.data.flat(Infinity) : null;
    if (!data || data.length !== count || !data.every((v) => Number.isFinite(v))) {
      return `output "${expected.name}" does not hold ${count} finite numbers`;
    }
  }
  return null;
}

// ----- the target contract -------------------------------------------------------------------------

/** What the runner hands a target when it starts it for one case. */
export interface TargetOptions {
  /** The model this case sends requests to (its .onnx file is already on disk). */
  model: BenchModel;
  /** Both bench models, for a target that loads everything up front. */
  models: Record<ModelKey, BenchModel>;
  /** Prediction logging: true for the "modeldeck" case, false for "modeldeck-nolog". */
  logging: boolean;
  /** Listen here; port 0 = an ephemeral port, reported back in Target.baseUrl. */
  host: "127.0.0.1";
  port: 0;
  /** An empty scratch directory for this case (database, data dir); the runner removes it. */
  workDir: string;
  /** Also listen for gRPC (the "modeldeck-grpc" case). */
  grpc?: boolean;
}

/** A started target: one fresh server process per case. */
export interface Target {
  /** e.g. http://127.0.0.1:41234; the runner POSTs to `${baseUrl}/v2/models/${model.name}/infer`. */
  baseUrl: string;
  /** Sent with every request, e.g. { authorization: "Bearer mdk_…" }. */
  headers: Record<string, string>;
  /** The serving process (the one whose CPU the numbers describe). */
  pid: number;
  /** The postmaster of the target's own database, if it has one (its CPU is measured too). */
  databasePid?: number;
  /** host:port of its gRPC endpoint, when started with one. */
  grpcAddress?: string;
  /** Stops the server and everything it started; resolves once they have exited. */
  stop: () => Promise<void>;
}
