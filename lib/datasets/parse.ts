/**
 * Reading dataset files (CSV with a header line, or JSON Lines) as a stream of rows, and the
 * checks an upload must pass before anything is stored: every row has as many values as the
 * header, every feature value is a number, every label is present. Problems are reported
 * with the file's 1-based line numbers.
 *
 * CSV goes through csv-parse (RFC 4180: quoted fields, embedded delimiters and newlines,
 * doubled quotes, a UTF-8 BOM); JSON Lines through node:readline and JSON.parse. Both stream:
 * memory stays bounded by a row, the column statistics and the preview, whatever the size.
 */
import { parse as csvParse, type CsvError } from "csv-parse";
import { createReadStream } from "node:fs";
import readline from "node:readline";
import { MatrixBuilder, type LabelCell } from "./matrix";
import {
  featureColumnsOf,
  type Cell,
  type ColumnInfo,
  type ColumnType,
  type DatasetFormat,
  type DatasetProblem,
  type FeatureMapping,
} from "./types";

/** Problems listed in an error; the total is always given. */
export const MAX_LISTED_PROBLEMS = 20;
export const PREVIEW_ROWS = 20;
export const MAX_COLUMNS = 2_000;
export const MAX_ROWS = 10_000_000;
/** Distinct values kept per column (for labels and flags); more and the list is dropped. */
const MAX_DISTINCT = 50;
/** Longest CSV record, in characters: a protection against a file with no line breaks. */
const MAX_RECORD_CHARS = 4 * 1024 * 1024;

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_TEXT = /^[+-]?\d+$/;
const BOOLEAN_TEXT = /^(?:true|false)$/i;

/** A cell as a finite number, or null when it is empty or not a number. */
export function cellToNumber(cell: Cell): number | null {
  if (typeof cell === "number") return Number.isFinite(cell) ? cell : null;
  if (typeof cell === "string" && NUMBER_TEXT.test(cell)) {
    const n = Number(cell);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

const isEmpty = (cell: Cell) => cell === null || cell === "";

function quote(cell: Cell): string {
  const text = typeof cell === "string" ? JSON.stringify(cell) : String(cell);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export type RowEvent =
  | { kind: "header"; columns: string[]; line: number }
  | { kind: "row"; line: number; cells: Cell[] }
  /** A row or part of the file that cannot be read; `fatal` stops the scan. */
  | { kind: "problem"; line: number | null; message: string; fatal?: boolean };

/**
 * The rows of a dataset file, header first, in batches (one per chunk read from disk: a
 * promise per row would cost more than parsing it). Never throws for bad content: it yields
 * problems.
 */
export function readDataset(filePath: string, format: DatasetFormat): AsyncGenerator<RowEvent[]> {
  return format === "csv" ? readCsv(filePath) : readJsonl(filePath);
}

const EMPTY_LINE = (record: string[]) => record.length === 1 && record[0] === "";

async function* readCsv(filePath: string): AsyncGenerator<RowEvent[]> {
  // Line numbers are counted here rather than asked of csv-parse (`info: true` builds an
  // object per record and costs more than the parse itself): one per record, plus the line
  // breaks inside quoted fields, plus empty lines, which csv-parse hands over as [""] so they
  // can be counted; a skipped (unreadable) record resynchronises the count from its error.
  const parser = csvParse({
    bom: true,
    trim: true,
    relax_column_count: true,
    skip_empty_lines: false,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_CHARS,
  });
  let batch: RowEvent[] = [];
  let header: string[] | null = null;
  let line = 0;
  parser.on("skip", (error: CsvError & { lines?: number }) => {
    const at = typeof error.lines === "number" ? error.lines : null;
    if (at !== null) line = at;
    batch.push({
      kind: "problem",
      line: at,
      message: `cannot be read as CSV: ${error.message.replace(/ at line \d+/, "")}`,
    });
  });
  parser.on("data", (record: string[]) => {
    line++;
    const start = line;
    for (const field of record) {
      for (let i = field.indexOf("\n"); i >= 0; i = field.indexOf("\n", i + 1)) line++;
    }
    if (EMPTY_LINE(record)) return;
    if (!header) {
      header = record;
      batch.push({ kind: "header", columns: record, line: start });
      return;
    }
    if (record.length !== header.length) {
      batch.push({
        kind: "problem",
        line: start,
        message: `has ${record.length} value${record.length === 1 ? "" : "s"}, but the header has ${header.length} columns`,
      });
      return;
    }
    const cells: Cell[] = new Array(record.length);
    for (let i = 0; i < record.length; i++) cells[i] = record[i] === "" ? null : record[i]!;
    batch.push({ kind: "row", line: start, cells });
  });
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve, reject) =>
      parser.write(chunk, (error) => (error ? reject(error) : resolve())),
    );
  for await (const chunk of createReadStream(filePath, { highWaterMark: 256 * 1024 })) {
    await write(chunk as Buffer);
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  await new Promise<void>((resolve, reject) => {
    parser.once("error", reject);
    parser.end(() => resolve());
  });
  if (batch.length > 0) yield batch;
}

async function* readJsonl(filePath: string): AsyncGenerator<RowEvent[]> {
  let batch: RowEvent[] = [];
  for await (const event of readJsonlRows(filePath)) {
    batch.push(event);
    if (batch.length >= 1024) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function* readJsonlRows(filePath: string): AsyncGenerator<RowEvent> {
  const lines = readline.createInterface({
    input: createReadStream(filePath, { encoding: "utf8", highWaterMark: 256 * 1024 }),
    crlfDelay: Infinity,
  });
  let columns: string[] | null = null;
  let known = new Set<string>();
  let n = 0;
  for await (const raw of lines) {
    n++;
    const text = n === 1 ? raw.replace(/^\uFEFF/, "").trim() : raw.trim();
    if (text === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield {
        kind: "problem",
        line: n,
        message: `is not valid JSON (${(error as Error).message.replace(/^.*?: /, "")})`,
      };
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      yield { kind: "problem", line: n, message: "is not a JSON object" };
      continue;
    }
    const object = value as Record<string, unknown>;
    if (!columns) {
      columns = Object.keys(object);
      known = new Set(columns);
      yield { kind: "header", columns, line: n };
    } else {
      const extra = Object.keys(object).filter((k) => !known.has(k));
      if (extra.length > 0) {
        yield {
          kind: "problem",
          line: n,
          message: `has key${extra.length === 1 ? "" : "s"} ${extra.map((k) => JSON.stringify(k)).join(", ")} that the first row does not have`,
        };
        continue;
      }
    }
    const cells: Cell[] = [];
    let nested: string | null = null;
    for (const c of columns) {
      const v = object[c];
      if (v === undefined || v === null) cells.push(null);
      else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
        cells.push(v);
      } else {
        nested ??= c;
        cells.push(null);
      }
    }
    if (nested !== null) {
      yield {
        kind: "problem",
        line: n,
        message: `column ${JSON.stringify(nested)} holds an object or array; values must be numbers, strings, booleans or null`,
      };
      continue;
    }
    yield { kind: "row", line: n, cells };
  }
}

/** Running type inference and statistics of one column. */
class ColumnStats {
  nullCount = 0;
  count = 0;
  allInteger = true;
  allNumber = true;
  allBoolean = true;
  min = Infinity;
  max = -Infinity;
  distinct: Map<string, string | number | boolean> | null = new Map();

  constructor(readonly name: string) {}

  add(cell: Cell): void {
    if (isEmpty(cell)) {
      this.nullCount++;
      return;
    }
    this.count++;
    const n = cellToNumber(cell);
    if (n === null) {
      this.allNumber = false;
      this.allInteger = false;
    } else {
      if (
        this.allInteger &&
        !(typeof cell === "string" ? INTEGER_TEXT.test(cell) : Number.isInteger(n))
      ) {
        this.allInteger = false;
      }
      if (n < this.min) this.min = n;
      if (n > this.max) this.max = n;
    }
    if (!(typeof cell === "boolean" || (typeof cell === "string" && BOOLEAN_TEXT.test(cell)))) {
      this.allBoolean = false;
    }
    if (this.distinct) {
      const key = `${typeof cell}:${String(cell)}`;
      if (!this.distinct.has(key)) {
        if (this.distinct.size >= MAX_DISTINCT) this.distinct = null;
        else this.distinct.set(key, cell!);
      }
    }
  }

  info(): ColumnInfo {
    let type: ColumnType = "string";
    if (this.count > 0) {
      if (this.allBoolean) type = "boolean";
      else if (this.allInteger) type = "integer";
      else if (this.allNumber) type = "number";
    }
    const info: ColumnInfo = {
      name: this.name,
      type,
      nullable: this.nullCount > 0,
      nullCount: this.nullCount,
    };
    if ((type === "number" || type === "integer") && this.count > 0) {
      info.min = this.min;
      info.max = this.max;
    }
    if (this.distinct) {
      info.values = [...this.distinct.values()].map((v) =>
        type === "integer" || type === "number"
          ? cellToNumber(v)!
          : type === "boolean"
            ? String(v).toLowerCase() === "true"
            : v,
      );
    }
    return info;
  }
}

export type ScanOptions = {
  labelColumn: string;
  /** Omitted: every column but the label feeds one tensor input named `defaultInput`. */
  mapping?: FeatureMapping | null;
  defaultInput?: string;
  signal?: AbortSignal;
  /**
   * Also gather the mapped features (as float32) and the labels of a clean file, for its
   * binary form (matrix.ts); the values are exactly those loadEvaluationData would read.
   */
  collectMatrix?: boolean;
};

export type ScanResult = {
  ok: boolean;
  rowCount: number;
  columns: ColumnInfo[];
  mapping: FeatureMapping | null;
  preview: Cell[][];
  /** The first MAX_LISTED_PROBLEMS problems, by line. */
  problems: DatasetProblem[];
  /** Every problem found (bad rows count once each). */
  problemCount: number;
  /** With `collectMatrix`, when `ok`: the mapped features and labels of every row. */
  matrix?: MatrixBuilder;
};

/** A mapping's column references checked against the header; returns what is wrong. */
function mappingProblems(mapping: FeatureMapping, header: string[], label: string): string[] {
  const known = new Set(header);
  const problems: string[] = [];
  const columns = featureColumnsOf(mapping);
  if (columns.length === 0) problems.push("no feature columns are mapped");
  const unknown = columns.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    problems.push(
      `feature column${unknown.length === 1 ? "" : "s"} ${unknown.map((c) => JSON.stringify(c)).join(", ")} ${unknown.length === 1 ? "is" : "are"} not in the file (the columns are: ${header.join(", ")})`,
    );
  }
  if (columns.includes(label)) {
    problems.push(`the label column ${JSON.stringify(label)} is also mapped as a feature`);
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c) && mapping.kind === "tensor") {
      problems.push(`feature column ${JSON.stringify(c)} is listed twice`);
    }
    seen.add(c);
  }
  return problems;
}

/**
 * Reads the whole file once: the header, column types, the preview, and every row's
 * problems. `ok` is true when the file can be stored as a dataset version as it is.
 */
export async function scanDataset(
  filePath: string,
  format: DatasetFormat,
  options: ScanOptions,
): Promise<ScanResult> {
  const problems: DatasetProblem[] = [];
  let problemCount = 0;
  const report = (line: number | null, message: string) => {
    problemCount++;
    if (problems.length < MAX_LISTED_PROBLEMS * 4) problems.push({ line, message });
  };
  let header: string[] | null = null;
  let stats: ColumnStats[] = [];
  let mapping: FeatureMapping | null = options.mapping ?? null;
  let featureIdx: number[] = [];
  let labelIdx = -1;
  const preview: Cell[][] = [];
  let rowCount = 0;
  let fatal = false;
  let matrix: MatrixBuilder | undefined;
  let rowValues = new Float64Array(0);

  read: for await (const events of readDataset(filePath, format)) {
    options.signal?.throwIfAborted();
    for (const event of events) {
      if (event.kind === "problem") {
        report(
          event.line,
          event.line === null
            ? `The file ${event.message}.`
            : `Line ${event.line} ${event.message}.`,
        );
        if (event.fatal) fatal = true;
      } else if (event.kind === "header") {
        const columns = event.columns;
        const headerProblems: string[] = [];
        const what = format === "csv" ? "the header" : "the first row";
        if (columns.length === 0 || columns.every((c) => c === "")) {
          headerProblems.push(`${what} has no column names`);
        }
        if (columns.length > MAX_COLUMNS) {
          headerProblems.push(`${what} has more than ${MAX_COLUMNS} columns`);
        }
        const empty = columns.findIndex((c) => c === "");
        if (empty >= 0 && columns.length > 1)
          headerProblems.push(`column ${empty + 1} has no name`);
        const dupes = [...new Set(columns.filter((c, i) => columns.indexOf(c) !== i))];
        if (dupes.length > 0) {
          headerProblems.push(
            `${what} names ${dupes.map((c) => JSON.stringify(c)).join(", ")} more than once`,
          );
        }
        if (!columns.includes(options.labelColumn)) {
          headerProblems.push(
            `there is no label column ${JSON.stringify(options.labelColumn)} (the columns are: ${columns.join(", ")})`,
          );
        }
        mapping ??= {
          kind: "tensor",
          input: options.defaultInput ?? "features",
          columns: columns.filter((c) => c !== options.labelColumn),
        };
        if (headerProblems.length === 0) {
          headerProblems.push(...mappingProblems(mapping, columns, options.labelColumn));
        }
        if (headerProblems.length > 0) {
          for (const p of headerProblems) report(event.line, `Line ${event.line}: ${p}.`);
          fatal = true;
          break read;
        }
        header = columns;
        stats = columns.map((c) => new ColumnStats(c));
        featureIdx = featureColumnsOf(mapping).map((c) => columns.indexOf(c));
        labelIdx = columns.indexOf(options.labelColumn);
        if (options.collectMatrix) {
          matrix = new MatrixBuilder(featureColumnsOf(mapping));
          rowValues = new Float64Array(featureIdx.length);
        }
      } else {
        if (!header) continue;
        rowCount++;
        if (rowCount > MAX_ROWS) {
          report(
            event.line,
            `Line ${event.line}: the file has more than ${MAX_ROWS.toLocaleString("en-US")} rows.`,
          );
          fatal = true;
          break read;
        }
        const { cells } = event;
        const issues: string[] = [];
        if (isEmpty(cells[labelIdx]!))
          issues.push(`the label ${JSON.stringify(options.labelColumn)} is missing`);
        for (const i of featureIdx) {
          const cell = cells[i]!;
          if (isEmpty(cell)) issues.push(`feature ${JSON.stringify(header[i])} is empty`);
          else if (cellToNumber(cell) === null) {
            issues.push(`feature ${JSON.stringify(header[i])} is ${quote(cell)}, not a number`);
          }
        }
        if (issues.length > 0) report(event.line, `Line ${event.line}: ${issues.join("; ")}.`);
        else if (matrix && problemCount === 0) {
          // The same conversion as loadEvaluationData, so both paths feed the same numbers.
          for (let f = 0; f < featureIdx.length; f++) {
            const cell = cells[featureIdx[f]!]!;
            rowValues[f] = typeof cell === "number" ? cell : +(cell as string);
          }
          matrix.addRow(rowValues, cells[labelIdx] as LabelCell);
        }
        for (let i = 0; i < cells.length; i++) stats[i]!.add(cells[i]!);
        if (preview.length < PREVIEW_ROWS) preview.push(cells);
      }
    }
  }
  if (!header && !fatal) {
    report(null, "The file has no rows.");
  } else if (header && rowCount === 0 && !fatal) {
    report(null, "The file has a header but no data rows.");
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return {
    ok: problemCount === 0,
    rowCount,
    columns: stats.map((s) => s.info()),
    mapping,
    preview,
    problems: problems.slice(0, MAX_LISTED_PROBLEMS),
    problemCount,
    ...(matrix && problemCount === 0 ? { matrix } : {}),
  };
}

export type EvaluationData = {
  rowCount: number;
  /**
   * Row-major feature values: rowCount × featureColumns.length (float64 when parsed from the
   * file, float32 when read from the version's binary form, matrix.ts).
   */
  features: Float64Array | Float32Array;
  featureColumns: string[];
  /** The label cell of each row. */
  labels: (string | number | boolean)[];
};

/**
 * The feature matrix and labels of a stored (already validated) dataset version. Throws on
 * any problem: a stored version has none, so one here means the file was changed.
 */
export async function loadEvaluationData(
  filePath: string,
  format: DatasetFormat,
  featureColumns: string[],
  labelColumn: string,
  signal?: AbortSignal,
): Promise<EvaluationData> {
  let capacity = 1024;
  const F = featureColumns.length;
  let features = new Float64Array(capacity * F);
  const labels: (string | number | boolean)[] = [];
  let idx: number[] = [];
  let labelIdx = -1;
  let rows = 0;
  for await (const events of readDataset(filePath, format)) {
    signal?.throwIfAborted();
    for (const event of events) {
      if (event.kind === "problem") {
        throw new Error(
          `The stored dataset file cannot be read: line ${event.line} ${event.message}`,
        );
      }
      if (event.kind === "header") {
        idx = featureColumns.map((c) => event.columns.indexOf(c));
        labelIdx = event.columns.indexOf(labelColumn);
        if (idx.some((i) => i < 0) || labelIdx < 0) {
          throw new Error("The stored dataset file does not have the columns its version records.");
        }
        continue;
      }
      if (rows === capacity) {
        capacity *= 2;
        const grown = new Float64Array(capacity * F);
        grown.set(features);
        features = grown;
      }
      const base = rows * F;
      for (let f = 0; f < F; f++) {
        // Validated at upload (cellToNumber); here only a cheap guard against a changed file.
        const cell = event.cells[idx[f]!]!;
        const n = typeof cell === "number" ? cell : cell === null ? NaN : +cell;
        if (!Number.isFinite(n)) {
          throw new Error(`Line ${event.line} of the stored dataset has a non-numeric feature.`);
        }
        features[base + f] = n;
      }
      const label = event.cells[labelIdx]!;
      if (label === null || label === "")
        throw new Error(`Line ${event.line} of the stored dataset has no label.`);
      labels.push(label);
      rows++;
    }
  }
  return { rowCount: rows, features: features.subarray(0, rows * F), featureColumns, labels };
}
