/**
 * What ModelDeck records about a dataset version: plain JSON, client-safe (no Node APIs), so
 * pages and components can import these types.
 */

export const DATASET_FORMATS = ["csv", "jsonl"] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const COLUMN_TYPES = ["number", "integer", "string", "boolean"] as const;
/** integer ⊂ number: a column whose every value is a whole number is "integer". */
export type ColumnType = (typeof COLUMN_TYPES)[number];

export type ColumnInfo = {
  name: string;
  /** Inferred from the non-empty values; a column with none at all is "string". */
  type: ColumnType;
  /** Some row leaves it empty (CSV: an empty field; JSONL: null or a missing key). */
  nullable: boolean;
  nullCount: number;
  /** For number and integer columns. */
  min?: number;
  max?: number;
  /** Distinct non-empty values in first-seen order, when there are at most 50 (labels, flags). */
  values?: (string | number | boolean)[];
};

/**
 * How rows become model inputs:
 * - `tensor`: the listed columns, in order, form one [batch, F] input (`input`);
 * - `named`: each input gets one column ([batch] or [batch, 1]).
 */
export type FeatureMapping =
  | { kind: "tensor"; input: string; columns: string[] }
  | { kind: "named"; inputs: Record<string, string> };

/** One cell as parsed: CSV cells are text (null when empty); JSONL cells are JSON values. */
export type Cell = string | number | boolean | null;

/** A row that cannot be used, with the 1-based line of the file it is on. */
export type DatasetProblem = { line: number | null; message: string };

export type ActorRef = { type: string; id: string | null; label: string };

export type DatasetVersionView = {
  id: string;
  dataset: string;
  version: number;
  sha256: string;
  sizeBytes: number;
  storageKey: string;
  format: DatasetFormat;
  originalFilename: string | null;
  rowCount: number;
  columns: ColumnInfo[];
  labelColumn: string;
  featureMapping: FeatureMapping;
  createdAt: string;
  createdBy: ActorRef;
};

export type DatasetVersionDetail = DatasetVersionView & {
  /** The first rows in column order, as parsed. */
  preview: Cell[][];
};

export type DatasetView = {
  id: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  createdBy: ActorRef;
  versionCount: number;
  latest: DatasetVersionView | null;
};

/** Columns a mapping feeds to the model, in feeding order. */
export function featureColumnsOf(mapping: FeatureMapping): string[] {
  return mapping.kind === "tensor" ? [...mapping.columns] : Object.values(mapping.inputs);
}

/** "3 columns → features" / "a → x, b → y", for tables. */
export function describeMapping(mapping: FeatureMapping): string {
  if (mapping.kind === "tensor") {
    const n = mapping.columns.length;
    return `${n} column${n === 1 ? "" : "s"} → ${mapping.input}`;
  }
  return Object.entries(mapping.inputs)
    .map(([input, column]) => `${column} → ${input}`)
    .join(", ");
}
