import fs from "node:fs/promises";
import path from "node:path";
import { importDirectorySchema } from "../action-schema";
import { RunFailure } from "./types";

/**
 * Paths under the imports directory, resolved so that nothing outside it is ever read:
 * the job's directory is relative (no absolute path, no `..`), and its real path (symbolic
 * links resolved) must still lie inside the real imports directory. Files are checked the
 * same way one by one, so a link inside the directory cannot point elsewhere either.
 */

export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** The real path of `imports/<directory>`; a RunFailure (not retryable) when it is unsafe or missing. */
export async function resolveImportDirectory(
  importsDir: string,
  directory: string,
): Promise<{ root: string; dir: string; display: string }> {
  const parsed = importDirectorySchema.safeParse(directory);
  if (!parsed.success) {
    throw new RunFailure(
      `The import directory ${JSON.stringify(directory)} ${parsed.error.issues[0]!.message}.`,
    );
  }
  const display = `imports/${parsed.data.replace(/[\\/]+$/, "")}`;
  let root: string;
  try {
    root = await fs.realpath(importsDir);
  } catch {
    throw new RunFailure(
      `The imports directory ${importsDir} does not exist; create it and put the job's directory (${display}) inside.`,
    );
  }
  const wanted = path.resolve(root, parsed.data);
  if (!isInside(root, wanted)) {
    throw new RunFailure(
      `The import directory ${display} is outside the imports directory; refused.`,
    );
  }
  let dir: string;
  try {
    dir = await fs.realpath(wanted);
  } catch {
    throw new RunFailure(`The import directory ${display} does not exist (looked in ${wanted}).`);
  }
  if (!isInside(root, dir)) {
    throw new RunFailure(
      `The import directory ${display} leads outside the imports directory (through a symbolic link to ${dir}); refused.`,
    );
  }
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) throw new RunFailure(`${display} is not a directory.`);
  return { root, dir, display };
}

export type ImportCandidate =
  | { kind: "file"; name: string; path: string; sizeBytes: number }
  | { kind: "ignored"; name: string; reason: string };

/**
 * The entries of the import directory, sorted by name (so version numbers follow file names):
 * `.onnx` regular files (links followed only when they stay inside the imports directory),
 * and everything else with the reason it is not imported. Hidden files are left alone (a
 * copy in progress is often a dot-file).
 */
export async function listImportCandidates(root: string, dir: string): Promise<ImportCandidate[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: ImportCandidate[] = [];
  for (const entry of entries) {
    const name = entry.name;
    if (name.startsWith(".")) continue;
    const full = path.join(dir, name);
    if (entry.isDirectory()) {
      out.push({
        kind: "ignored",
        name,
        reason: "is a directory (sub-directories are not scanned)",
      });
      continue;
    }
    if (!name.toLowerCase().endsWith(".onnx")) {
      out.push({ kind: "ignored", name, reason: "is not a .onnx file" });
      continue;
    }
    let real = full;
    if (entry.isSymbolicLink()) {
      try {
        real = await fs.realpath(full);
      } catch {
        out.push({ kind: "ignored", name, reason: "is a broken symbolic link" });
        continue;
      }
      if (!isInside(root, real)) {
        out.push({
          kind: "ignored",
          name,
          reason: "is a symbolic link to a file outside the imports directory; refused",
        });
        continue;
      }
    }
    const stat = await fs.stat(real);
    if (!stat.isFile()) {
      out.push({ kind: "ignored", name, reason: "is not a regular file" });
      continue;
    }
    out.push({ kind: "file", name, path: real, sizeBytes: stat.size });
  }
  return out;
}
