import { UploadError } from "./errors";

/**
 * A client's file name is shown to people ("uploaded model.onnx"), never used as a path: the
 * store names files by digest. Still, it is cleaned so that what is shown is one plain name.
 */
export const MAX_FILENAME_LENGTH = 200;

// C0 and C1 controls, DEL, and invisible formatting characters that can make a name look
// like something else (bidi overrides reorder "exe.onnx", zero-width spaces hide text).
const INVISIBLE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

export function sanitizeFilename(raw: string | null | undefined): string | null {
  if (typeof raw !== "string") return null;
  const cleaned = raw.normalize("NFC").replace(INVISIBLE, "");
  // Both separators: a name from Windows arrives as "C:\\Users\\me\\model.onnx".
  const segments = cleaned.split(/[/\\]/).map((s) => s.trim());
  let name = segments.filter((s) => s !== "").pop() ?? "";
  name = name.replace(/^[A-Za-z]:(?=.)/, ""); // "C:model.onnx", a drive-relative path
  if (/^\.+$/.test(name)) return null; // ".", "..": a directory, not a name
  const chars = [...name]; // code points, so a cut never splits a surrogate pair
  if (chars.length > MAX_FILENAME_LENGTH) {
    const ext = /\.[^.\s]{1,16}$/.exec(name)?.[0] ?? "";
    name = chars.slice(0, MAX_FILENAME_LENGTH - ext.length).join("") + ext;
  }
  return name === "" ? null : name;
}

/**
 * A name with a ".." path segment is a path-traversal attempt, not a file a person picked
 * (browsers send base names; some old clients send full Windows paths, which is fine).
 * Refused outright with a 400 rather than quietly cleaned.
 */
export function hasTraversalSegment(raw: string | null | undefined): boolean {
  return typeof raw === "string" && raw.split(/[/\\]/).some((segment) => segment.trim() === "..");
}

export function traversalError(): UploadError {
  return new UploadError(
    "bad_request",
    "invalid_filename",
    'The file name contains a ".." path segment; send the plain file name (e.g. model.onnx).',
  );
}
