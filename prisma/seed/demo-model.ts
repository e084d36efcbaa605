/**
 * The demo model seeded on first start: an iris species classifier in two versions, trained
 * here and written as real ONNX files by ModelDeck's own writer.
 *   v1 sees only the sepal measurements (2 features) and confuses versicolor with virginica;
 *   v2 sees all 4 features and is clearly better, which is why it goes to production.
 *
 * Data: iris.csv next to this file is Fisher's Iris data set (R. A. Fisher, 1936; measurements
 * by Edgar Anderson), public domain: 150 flowers, 50 per species. The values are those of R's
 * `iris` and scikit-learn's copy, which correct two rows of the UCI file (rows 35 and 38).
 *
 * Everything is deterministic (fixed split and seed), so the files, and so their sha256, are
 * the same on every machine and every start.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildLogisticRegressionModel } from "../../lib/onnx/build";
import { inspectOnnxFile } from "../../lib/onnx/inspect";
import type { OnnxSignature } from "../../lib/onnx/types";
import { accuracy, trainLogisticRegression } from "../../lib/training/logistic";
import { seededRandom, shuffleInPlace } from "../../lib/training/random";

export const DEMO_MODEL = {
  name: "iris-classifier",
  task: "classification" as const,
  description:
    "Iris species from flower measurements (cm): multinomial logistic regression trained by ModelDeck on Fisher's Iris data set.",
  datasetName: "iris",
  datasetFile: "iris.csv",
  labelColumn: "species",
  classLabels: ["setosa", "versicolor", "virginica"],
  /** Feature columns each version feeds, in order, as its `features` input [batch, F]. */
  features: {
    v1: ["sepal_length", "sepal_width"],
    v2: ["sepal_length", "sepal_width", "petal_length", "petal_width"],
  },
};

const TRAINING = { epochs: 300, learningRate: 0.1, batchSize: 16, l2: 1e-4, seed: 7 };
/** Share of each species held out to measure accuracy on unseen rows. */
const TEST_SHARE = 0.2;
const SPLIT_SEED = 2026;

export interface DemoVersionMetrics {
  /** Feature columns this version was trained on, in input order. */
  features: string[];
  trainAccuracy: number;
  /** Accuracy on the held-out rows (30 of 150). */
  testAccuracy: number;
  trainRows: number;
  testRows: number;
  trainLoss: number;
}

export interface DemoModelVersions {
  /** Version 1: sepal features only. */
  v1: Buffer;
  /** Version 2: all four features. */
  v2: Buffer;
  /** The data set as CSV text (header: sepal_length,sepal_width,petal_length,petal_width,species). */
  dataset: string;
  metrics: { v1: DemoVersionMetrics; v2: DemoVersionMetrics };
  /** What inspectOnnxFile read from each file (what an upload of it would store). */
  signatures: { v1: OnnxSignature; v2: OnnxSignature };
}

interface Row {
  features: Record<string, number>;
  label: number;
}

export async function buildDemoModelVersions(): Promise<DemoModelVersions> {
  const dataset = await readDataset();
  const rows = parseIris(dataset);
  const { train, test } = stratifiedSplit(rows);

  const version = (features: string[], modelVersion: number) => {
    const matrix = (set: Row[]) => set.map((r) => features.map((f) => r.features[f]!));
    const labels = (set: Row[]) => set.map((r) => r.label);
    const trained = trainLogisticRegression(matrix(train), labels(train), {
      ...TRAINING,
      classes: DEMO_MODEL.classLabels.length,
    });
    const metrics: DemoVersionMetrics = {
      features,
      trainAccuracy: trained.trainAccuracy,
      testAccuracy: accuracy(trained, matrix(test), labels(test)),
      trainRows: train.length,
      testRows: test.length,
      trainLoss: trained.trainLoss,
    };
    const onnx = buildLogisticRegressionModel({
      weights: trained.weights,
      bias: trained.bias,
      featureNames: features,
      classLabels: DEMO_MODEL.classLabels,
      graphName: "iris_logistic_regression",
      docString: `${DEMO_MODEL.description} Features: ${features.join(", ")}.`,
      modelVersion,
      metadata: {
        dataset: `${DEMO_MODEL.datasetFile} (Fisher's Iris, public domain)`,
        train_accuracy: metrics.trainAccuracy.toFixed(4),
        test_accuracy: metrics.testAccuracy.toFixed(4),
      },
    });
    return { onnx, metrics };
  };

  const v1 = version(DEMO_MODEL.features.v1, 1);
  const v2 = version(DEMO_MODEL.features.v2, 2);
  const signatures = await checkWithInspector({ v1: v1.onnx, v2: v2.onnx });
  return {
    v1: v1.onnx,
    v2: v2.onnx,
    dataset,
    metrics: { v1: v1.metrics, v2: v2.metrics },
    signatures,
  };
}

async function readDataset(): Promise<string> {
  try {
    return await readFile(
      fileURLToPath(new URL(`./${DEMO_MODEL.datasetFile}`, import.meta.url)),
      "utf8",
    );
  } catch (error) {
    // A bundler may move this module; every process starts in the project root.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return readFile(path.join(process.cwd(), "prisma/seed", DEMO_MODEL.datasetFile), "utf8");
  }
}

export function parseIris(csv: string): Row[] {
  const [header, ...lines] = csv.trim().split(/\r?\n/);
  const columns = header!.split(",");
  const speciesAt = columns.indexOf(DEMO_MODEL.labelColumn);
  return lines.map((line, i) => {
    const cells = line.split(",");
    const label = DEMO_MODEL.classLabels.indexOf(cells[speciesAt]!);
    if (label < 0 || cells.length !== columns.length) {
      throw new Error(`${DEMO_MODEL.datasetFile} line ${i + 2} is not a valid row: ${line}`);
    }
    const features: Record<string, number> = {};
    columns.forEach((c, j) => {
      if (j !== speciesAt) features[c] = Number(cells[j]);
    });
    return { features, label };
  });
}

/** The same share of every species in the test set, chosen by a seeded shuffle. */
function stratifiedSplit(rows: Row[]): { train: Row[]; test: Row[] } {
  const random = seededRandom(SPLIT_SEED);
  const train: Row[] = [];
  const test: Row[] = [];
  DEMO_MODEL.classLabels.forEach((_, label) => {
    const ofClass = shuffleInPlace(
      rows.filter((r) => r.label === label),
      random,
    );
    const cut = Math.round(ofClass.length * TEST_SHARE);
    test.push(...ofClass.slice(0, cut));
    train.push(...ofClass.slice(cut));
  });
  return { train, test };
}

/** Runs both files through the same validation an upload gets (parse + onnxruntime load). */
async function checkWithInspector(files: { v1: Buffer; v2: Buffer }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "modeldeck-demo-"));
  try {
    const check = async (name: string, bytes: Buffer) => {
      const file = path.join(dir, `${name}.onnx`);
      await writeFile(file, bytes);
      return inspectOnnxFile(file);
    };
    const [v1, v2] = await Promise.all([check("v1", files.v1), check("v2", files.v2)]);
    return { v1, v2 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
