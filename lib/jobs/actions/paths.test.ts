import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isInside, listImportCandidates, resolveImportDirectory } from "./paths";

let base: string;
let imports: string;

beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-paths-"));
  imports = path.join(base, "imports");
  await fs.mkdir(path.join(imports, "incoming", "sub"), { recursive: true });
  await fs.mkdir(path.join(base, "outside"));
  await fs.writeFile(path.join(base, "outside", "secret.onnx"), "x");
  await fs.writeFile(path.join(imports, "incoming", "b.onnx"), "b");
  await fs.writeFile(path.join(imports, "incoming", "a.ONNX"), "a");
  await fs.writeFile(path.join(imports, "incoming", "notes.txt"), "n");
  await fs.writeFile(path.join(imports, "incoming", ".partial.onnx"), "p");
  await fs.symlink(
    path.join(base, "outside", "secret.onnx"),
    path.join(imports, "incoming", "link.onnx"),
  );
  await fs.symlink(
    path.join(imports, "incoming", "b.onnx"),
    path.join(imports, "incoming", "inner.onnx"),
  );
  await fs.symlink(path.join(base, "outside"), path.join(imports, "escape"));
});

afterAll(() => fs.rm(base, { recursive: true, force: true }));

describe("import paths", () => {
  it("knows inside from outside", () => {
    expect(isInside("/a/b", "/a/b")).toBe(true);
    expect(isInside("/a/b", "/a/b/c")).toBe(true);
    expect(isInside("/a/b", "/a/bc")).toBe(false);
    expect(isInside("/a/b", "/a")).toBe(false);
  });

  it("resolves a directory inside the imports directory", async () => {
    const r = await resolveImportDirectory(imports, "incoming");
    expect(r.dir).toBe(await fs.realpath(path.join(imports, "incoming")));
    expect(r.display).toBe("imports/incoming");
  });

  it("refuses '..', absolute paths, symlinks out and missing directories", async () => {
    await expect(resolveImportDirectory(imports, "../outside")).rejects.toThrow(
      /must not contain '\.\.'/,
    );
    await expect(resolveImportDirectory(imports, "/etc")).rejects.toThrow(/not an absolute path/);
    await expect(resolveImportDirectory(imports, "escape")).rejects.toThrow(
      /leads outside the imports directory \(through a symbolic link/,
    );
    await expect(resolveImportDirectory(imports, "nope")).rejects.toThrow(/does not exist/);
    await expect(resolveImportDirectory(path.join(base, "none"), "x")).rejects.toThrow(
      /imports directory .* does not exist/,
    );
  });

  it("lists .onnx files in name order and says why others are not imported", async () => {
    const r = await resolveImportDirectory(imports, "incoming");
    const list = await listImportCandidates(r.root, r.dir);
    expect(list.map((c) => [c.name, c.kind === "file" ? "file" : c.reason])).toEqual([
      ["a.ONNX", "file"],
      ["b.onnx", "file"],
      ["inner.onnx", "file"],
      ["link.onnx", "is a symbolic link to a file outside the imports directory; refused"],
      ["notes.txt", "is not a .onnx file"],
      ["sub", "is a directory (sub-directories are not scanned)"],
    ]);
  });
});
