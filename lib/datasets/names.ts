import { z } from "zod";
import { ApiError } from "../api/errors";
import { invalid, SLUG_PATTERN } from "../registry/names";
import { DATASET_FORMATS, type DatasetFormat, type FeatureMapping } from "./types";

/**
 * Names and inputs of datasets, validated in one place; the zod schemas are reused by the
 * API contracts.
 */

export const datasetNameSchema = z
  .string()
  .regex(
    SLUG_PATTERN,
    "must be 1-63 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit",
  );

export const isValidDatasetName = (name: string) => SLUG_PATTERN.test(name);

const columnName = z.string().min(1, "must not be empty").max(200);
const inputName = z.string().min(1, "must not be empty").max(200);

export const featureMappingSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("tensor"),
      input: inputName,
      columns: z.array(columnName).min(1, "must list at least one column").max(2_000),
    })
    .strict(),
  z
    .object({
      kind: z.literal("named"),
      inputs: z
        .record(inputName, columnName)
        .refine((r) => Object.keys(r).length > 0, "must map at least one input"),
    })
    .strict(),
]);

export const datasetFormatSchema = z.enum(DATASET_FORMATS);

/** Multipart fields (or query parameters) an upload may carry beside the file. */
export const DATASET_UPLOAD_FIELDS = [
  "name",
  "description",
  "labelColumn",
  "featureColumns",
  "input",
  "mapping",
  "format",
] as const;

export type DatasetUploadFields = {
  name: string;
  description: string | null;
  labelColumn: string;
  /** null: every column but the label, as one tensor input named `input` */
  mapping: FeatureMapping | null;
  input: string;
  format: DatasetFormat | null;
};

const fieldError = (field: string, message: string) => invalid([{ field, message }]);

/** A list of column names: a JSON array, or comma-separated text. */
function parseColumnList(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw fieldError("featureColumns", "is not valid JSON");
    }
    const parsed = z.array(columnName).safeParse(value);
    if (!parsed.success) throw fieldError("featureColumns", "must be an array of column names");
    return parsed.data;
  }
  return trimmed
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
}

/** Validates an upload's text fields (400 naming the field otherwise). */
export function parseUploadFields(fields: Record<string, string>): DatasetUploadFields {
  const name = fields.name?.trim() ?? "";
  if (!name) throw fieldError("name", "is required");
  if (!isValidDatasetName(name)) {
    throw fieldError(
      "name",
      "must be 1-63 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit",
    );
  }
  const labelColumn = fields.labelColumn?.trim() ?? "";
  if (!labelColumn) throw fieldError("labelColumn", "is required");
  const description = fields.description?.trim() || null;
  if (description && description.length > 10_000) {
    throw fieldError("description", "must be at most 10000 characters");
  }
  const input = fields.input?.trim() || "features";
  let format: DatasetFormat | null = null;
  if (fields.format?.trim()) {
    const parsed = datasetFormatSchema.safeParse(fields.format.trim().toLowerCase());
    if (!parsed.success) throw fieldError("format", "must be csv or jsonl");
    format = parsed.data;
  }
  if (fields.mapping?.trim() && fields.featureColumns?.trim()) {
    throw new ApiError(
      "validation_failed",
      "Invalid request: send either mapping or featureColumns, not both.",
      { fields: [{ field: "mapping", message: "cannot be combined with featureColumns" }] },
    );
  }
  let mapping: FeatureMapping | null = null;
  if (fields.mapping?.trim()) {
    let value: unknown;
    try {
      value = JSON.parse(fields.mapping);
    } catch {
      throw fieldError("mapping", "is not valid JSON");
    }
    const parsed = featureMappingSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw fieldError(["mapping", ...issue.path.map(String)].join("."), issue.message);
    }
    mapping = parsed.data;
  } else if (fields.featureColumns?.trim()) {
    const columns = parseColumnList(fields.featureColumns);
    if (columns.length === 0) throw fieldError("featureColumns", "must list at least one column");
    mapping = { kind: "tensor", input, columns };
  }
  return { name, description, labelColumn, mapping, input, format };
}

/** The format from an explicit field, else the file name, else the first byte. */
export function detectFormat(
  explicit: DatasetFormat | null,
  filename: string | null,
  firstByte: number | null,
): DatasetFormat {
  if (explicit) return explicit;
  const lower = filename?.toLowerCase() ?? "";
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl";
  return firstByte === 0x7b ? "jsonl" : "csv";
}
