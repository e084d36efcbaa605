import { z } from "zod";
import { ApiError, type FieldProblem } from "../api/errors";
import { roleHasScope } from "../auth/roles";

/**
 * Names and small inputs of the registry, validated in one place. The same zod schemas are
 * exported so route handlers can reuse them in their request contracts.
 */

/** Model and alias names appear in URLs and in serving paths: a conservative slug. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-_.]{0,62}$/;
const SLUG_HINT =
  "must be 1-63 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit";

export const MODEL_TASKS = ["classification", "regression", "other"] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

/** Built in and protected: moving or removing them needs the models:promote permission. */
export const PROTECTED_ALIASES = ["production", "staging"] as const;
/** `latest` always means "the newest ready version" in lookups, so it can never be an alias. */
export const RESERVED_ALIAS_NAMES = ["latest"] as const;

export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 50;
export const MAX_DESCRIPTION_LENGTH = 10_000;
export const MAX_REASON_LENGTH = 2_000;

export const modelNameSchema = z.string().regex(SLUG_PATTERN, SLUG_HINT);
export const aliasNameSchema = z
  .string()
  .regex(SLUG_PATTERN, SLUG_HINT)
  .refine((n) => !(RESERVED_ALIAS_NAMES as readonly string[]).includes(n), {
    message: "is reserved (it always means the newest ready version)",
  });
export const modelTaskSchema = z.enum(MODEL_TASKS);
// Tags are lower-cased so filters and search match regardless of how they were typed; commas
// are refused because lists of tags travel as comma-separated query parameters.
export const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "must not be empty")
  .max(MAX_TAG_LENGTH, `must be at most ${MAX_TAG_LENGTH} characters`)
  .regex(/^[^,\p{Cc}]+$/u, "must not contain commas or control characters");
export const tagsSchema = z
  .array(tagSchema)
  .max(MAX_TAGS, `must have at most ${MAX_TAGS} tags`)
  .transform((tags) => [...new Set(tags)]);
export const descriptionSchema = z
  .string()
  .trim()
  .max(MAX_DESCRIPTION_LENGTH, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
export const reasonSchema = z
  .string()
  .trim()
  .max(MAX_REASON_LENGTH, `must be at most ${MAX_REASON_LENGTH} characters`);

export function isProtectedAlias(name: string): boolean {
  return (PROTECTED_ALIASES as readonly string[]).includes(name);
}

export function isValidModelName(name: string): boolean {
  return SLUG_PATTERN.test(name);
}

/** Whether `role` may move or remove `alias` (the UI uses this to show or hide its buttons). */
export function canChangeAlias(role: string, alias: string): boolean {
  return roleHasScope(role, isProtectedAlias(alias) ? "models:promote" : "models:write");
}

/** A 400 in the shape of lib/api/errors' validationError, for one or more fields. */
export function invalid(problems: FieldProblem[]): ApiError {
  const summary = problems.map((p) => `${p.field} ${p.message}`).join("; ");
  return new ApiError("validation_failed", `Invalid request: ${summary}.`, { fields: problems });
}

/** Parses `value` with `schema`, throwing a 400 that names `field`. */
export function check<T extends z.ZodType>(schema: T, value: unknown, field: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalid(
    result.error.issues.map((issue) => ({
      field: [field, ...issue.path.map(String)].join("."),
      message: issue.message,
    })),
  );
}

/** Optional free text: trimmed, and empty becomes null. */
export function optionalText(
  value: string | null | undefined,
  field: string,
  max: number,
): string | null {
  if (value === undefined || value === null) return null;
  const text = check(z.string().trim().max(max, `must be at most ${max} characters`), value, field);
  return text === "" ? null : text;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
