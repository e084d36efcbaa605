/**
 * The compact binary form of a dataset version's numeric content, written next to the
 * original file at upload so an evaluation reads it in one sequential read with typed-array
 * views instead of parsing CSV or JSON Lines again (csv-parse manages about 20 MB/s).
 *
 * Layout (every number little-endian; sections start on 8-byte boundaries):
 *
 *   bytes 0–7    magic "MDMATRX1"
 *   bytes 8–11   uint32: byte length of the header JSON, padding included
 *   bytes 12–15  zero
 *   16…          header JSON (UTF-8, padded with spaces), a `MatrixHeader`
 *   features     rowCount × featureColumns.length float32, row-major
 *   labels       "dictionary": rowCount uint32 codes into `labels.values`;
 *                "number": rowCount float64 (JSON numbers with many distinct values);
 *                "text": (rowCount + 1) uint32 offsets, then UTF-8 (CSV text, ditto)
 *
 * The feature values are the same numbers an evaluation parses from the original file,
 * rounded to float32 (what a float32 input receives either way); `featuresExact` says whether
 * that rounding changed any value, so an input of another dtype can still be fed exactly
 * (the reader falls back to the original file when it would not be). Labels keep their cell
 * values exactly (the text of a CSV cell, the JSON value of a JSONL one).
 */
import { closeSync, fstatSync, openSync, read } from "node:fs";
import { endianness } from "node:os";
import type { EvaluationData } from "./parse";

export const MATRIX_MAGIC = "MDMATRX1";
const PREAMBLE = 16;
/** More distinct labels than this and numeric labels are stored as float64 instead. */
const MAX_DICTIONARY = 65_536;
const LITTLE_ENDIAN = endianness() === "LE";

export type LabelCell = string | number | boolean;

export type MatrixHeader = {
  format: "modeldeck-dataset-matrix";
  version: 1;
  rowCount: number;
  featureColumns: string[];
  featureDtype: "float32";
  /** Every feature value is exactly a float32 (so any input dtype gets the file's numbers). */
  featuresExact: boolean;
  labelColumn: string;
  labels:
    | { encoding: "dictionary"; codeDtype: "uint32"; values: LabelCell[] }
    | { encoding: "number"; dtype: "float64" }
    /** (rowCount + 1) uint32 byte offsets, then the UTF-8 text of every label. */
    | { encoding: "text"; offsetDtype: "uint32" };
  featuresOffset: number;
  labelsOffset: number;
  byteLength: number;
};

export type DatasetMatrix = {
  header: MatrixHeader;
  /** rowCount × featureColumns.length, row-major (a view of the file's bytes when aligned). */
  features: Float32Array;
  labels: LabelCell[];
};

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** A growable float32 row buffer and label list, filled row by row while a file is scanned. */
export class MatrixBuilder {
  private data: Float32Array;
  private rows = 0;
  readonly labels: LabelCell[] = [];
  exact = true;

  constructor(readonly featureColumns: string[]) {
    this.data = new Float32Array(1024 * Math.max(1, featureColumns.length));
  }

  get rowCount(): number {
    return this.rows;
  }

  /** `values` are the row's feature numbers in `featureColumns` order. */
  addRow(values: ArrayLike<number>, label: LabelCell): void {
    const F = this.featureColumns.length;
    if ((this.rows + 1) * F > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const base = this.rows * F;
    for (let f = 0; f < F; f++) {
      const v = values[f]!;
      const r = Math.fround(v);
      if (r !== v) this.exact = false;
      this.data[base + f] = r;
    }
    this.labels.push(label);
    this.rows++;
  }

  features(): Float32Array {
    return this.data.subarray(0, this.rows * this.featureColumns.length);
  }
}

const labelKey = (l: LabelCell) => (typeof l === "string" ? `s${l}` : `${typeof l}:${String(l)}`);

/** The bytes of the binary form, or null when these labels have none (see below). */
export function encodeDatasetMatrix(input: {
  featureColumns: string[];
  features: Float32Array;
  labels: LabelCell[];
  labelColumn: string;
  featuresExact: boolean;
}): Buffer | null {
  const n = input.labels.length;
  const F = input.featureColumns.length;
  if (input.features.length !== n * F) throw new Error("features and labels disagree in rows");
  const index = new Map<string, number>();
  const values: LabelCell[] = [];
  const codes = new Uint32Array(n);
  let dictionary = true;
  for (let i = 0; i < n; i++) {
    const l = input.labels[i]!;
    const key = labelKey(l);
    let code = index.get(key);
    if (code === undefined) {
      code = values.length;
      if (code >= MAX_DICTIONARY) {
        dictionary = false;
        break;
      }
      index.set(key, code);
      values.push(l);
    }
    codes[i] = code;
  }
  // Many distinct labels (a regression target): JSON numbers as float64, CSV text as UTF-8
  // with offsets (the exact text comes back: "1.50" stays "1.50"). Anything else (a mix of
  // types) has no binary form; evaluations then parse the original file.
  let labelSection: Uint8Array;
  let labelsHeader: MatrixHeader["labels"];
  if (dictionary) {
    labelSection = new Uint8Array(codes.buffer, 0, n * 4);
    labelsHeader = { encoding: "dictionary", codeDtype: "uint32", values };
  } else if (input.labels.every((l) => typeof l === "number")) {
    const numbers = Float64Array.from(input.labels as number[]);
    labelSection = new Uint8Array(numbers.buffer);
    labelsHeader = { encoding: "number", dtype: "float64" };
  } else if (input.labels.every((l) => typeof l === "string")) {
    const texts = input.labels.map((l) => Buffer.from(l as string, "utf8"));
    const total = texts.reduce((s, t) => s + t.length, 0);
    const offsets = new Uint32Array(n + 1);
    labelSection = new Uint8Array((n + 1) * 4 + total);
    let at = 0;
    texts.forEach((t, i) => {
      labelSection.set(t, (n + 1) * 4 + at);
      at += t.length;
      offsets[i + 1] = at;
    });
    labelSection.set(new Uint8Array(offsets.buffer), 0);
    labelsHeader = { encoding: "text", offsetDtype: "uint32" };
  } else {
    return null;
  }
  const labelBytes = labelSection.length;
  const provisional: MatrixHeader = {
    format: "modeldeck-dataset-matrix",
    version: 1,
    rowCount: n,
    featureColumns: input.featureColumns,
    featureDtype: "float32",
    featuresExact: input.featuresExact,
    labelColumn: input.labelColumn,
    labels: labelsHeader,
    featuresOffset: 0,
    labelsOffset: 0,
    byteLength: 0,
  };
  // Offsets are part of the header, so size it with room for the largest offsets' digits.
  const headerRoom = align8(Buffer.byteLength(JSON.stringify(provisional)) + 64);
  const featuresOffset = PREAMBLE + headerRoom;
  const labelsOffset = align8(featuresOffset + n * F * 4);
  const byteLength = labelsOffset + labelBytes;
  const header: MatrixHeader = { ...provisional, featuresOffset, labelsOffset, byteLength };
  const headerText = JSON.stringify(header);
  if (Buffer.byteLength(headerText) > headerRoom) throw new Error("matrix header overflow");

  const out = Buffer.alloc(byteLength);
  out.write(MATRIX_MAGIC, 0, "latin1");
  out.writeUInt32LE(headerRoom, 8);
  out.fill(0x20, PREAMBLE, featuresOffset);
  out.write(headerText, PREAMBLE, "utf8");
  if (!LITTLE_ENDIAN) throw new Error("the dataset matrix is written on little-endian hosts only");
  out.set(
    new Uint8Array(input.features.buffer, input.features.byteOffset, n * F * 4),
    featuresOffset,
  );
  out.set(labelSection, labelsOffset);
  return out;
}

/** A typed view of `bytes` at `offset`, or an aligned copy when the bytes are not aligned. */
function view<T extends Float32Array | Float64Array | Uint32Array>(
  Ctor: {
    new (buffer: ArrayBufferLike, offset: number, length: number): T;
    BYTES_PER_ELEMENT: number;
  },
  bytes: Buffer,
  offset: number,
  length: number,
): T {
  const at = bytes.byteOffset + offset;
  if (at % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, at, length);
  const copy = new Uint8Array(length * Ctor.BYTES_PER_ELEMENT);
  copy.set(bytes.subarray(offset, offset + copy.length));
  return new Ctor(copy.buffer, 0, length);
}

/** Decodes the binary form; throws when the bytes are not a whole, consistent one. */
export function decodeDatasetMatrix(bytes: Buffer): DatasetMatrix {
  if (bytes.length < PREAMBLE || bytes.toString("latin1", 0, 8) !== MATRIX_MAGIC) {
    throw new Error("not a ModelDeck dataset matrix");
  }
  const headerRoom = bytes.readUInt32LE(8);
  const header = JSON.parse(
    bytes.toString("utf8", PREAMBLE, PREAMBLE + headerRoom),
  ) as MatrixHeader;
  const n = header.rowCount;
  const F = header.featureColumns.length;
  if (!LITTLE_ENDIAN) throw new Error("the dataset matrix is read on little-endian hosts only");
  if (
    header.format !== "modeldeck-dataset-matrix" ||
    header.version !== 1 ||
    header.byteLength !== bytes.length ||
    header.featuresOffset + n * F * 4 > header.labelsOffset
  ) {
    throw new Error("the dataset matrix is truncated or inconsistent");
  }
  const features = view(Float32Array, bytes, header.featuresOffset, n * F);
  let labels: LabelCell[];
  if (header.labels.encoding === "dictionary") {
    const codes = view(Uint32Array, bytes, header.labelsOffset, n);
    const values = header.labels.values;
    labels = new Array<LabelCell>(n);
    for (let i = 0; i < n; i++) {
      const v = values[codes[i]!];
      if (v === undefined) throw new Error("the dataset matrix has a label code out of range");
      labels[i] = v;
    }
  } else if (header.labels.encoding === "number") {
    labels = Array.from(view(Float64Array, bytes, header.labelsOffset, n));
  } else {
    const offsets = view(Uint32Array, bytes, header.labelsOffset, n + 1);
    const base = header.labelsOffset + (n + 1) * 4;
    if (base + offsets[n]! > bytes.length) throw new Error("the dataset matrix is truncated");
    labels = new Array<LabelCell>(n);
    for (let i = 0; i < n; i++) {
      labels[i] = bytes.toString("utf8", base + offsets[i]!, base + offsets[i + 1]!);
    }
  }
  return { header, features, labels };
}

/** Reads a binary form from a file: one sequential read, then views. */
export async function readDatasetMatrix(filePath: string): Promise<DatasetMatrix> {
  return decodeDatasetMatrix(await readWhole(filePath));
}

/**
 * The file in one read call where the OS allows (a loop otherwise). Why not readFile: it
 * reads 512 KiB per call, each queued from the event loop, so a read cannot progress while
 * the thread is busy; a single read proceeds beside synchronous work such as the evaluation
 * child's model load (lib/evaluation/child.ts). The open and stat are synchronous (a few µs)
 * for the same reason: an async open would wait for the busy thread before the read starts.
 */
async function readWhole(filePath: string): Promise<Buffer> {
  const fd = openSync(filePath, "r");
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.allocUnsafe(size);
    let offset = 0;
    while (offset < size) {
      const bytesRead = await new Promise<number>((resolve, reject) =>
        read(fd, buffer, offset, size - offset, offset, (error, n) =>
          error ? reject(error) : resolve(n),
        ),
      );
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return offset === size ? buffer : buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * The evaluation data of a binary form, for these feature columns: the file's matrix itself
 * when the columns are all of its columns in its order (no copy), else the selected columns.
 * Null when the binary form cannot stand in for the original file: a column it lacks, another
 * label column, or (`needExact`, for inputs that are not float32) values float32 rounded.
 */
export function matrixEvaluationData(
  matrix: DatasetMatrix,
  featureColumns: string[],
  labelColumn: string,
  needExact: boolean,
): EvaluationData | null {
  const { header } = matrix;
  if (header.labelColumn !== labelColumn || (needExact && !header.featuresExact)) return null;
  const idx = featureColumns.map((c) => header.featureColumns.indexOf(c));
  if (idx.some((i) => i < 0)) return null;
  const n = header.rowCount;
  const W = header.featureColumns.length;
  const same = idx.length === W && idx.every((i, j) => i === j);
  let features = matrix.features;
  if (!same) {
    const F = idx.length;
    features = new Float32Array(n * F);
    for (let r = 0; r < n; r++) {
      for (let f = 0; f < F; f++) features[r * F + f] = matrix.features[r * W + idx[f]!]!;
    }
  }
  return { rowCount: n, features, featureColumns, labels: matrix.labels };
}
