import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import {
  DatasetProblemsError,
  getDataset,
  getDatasetVersion,
  listDatasets,
  loadEvaluationData,
  readDatasetMatrix,
  registerDatasetBytes,
  uploadDataset,
} from "../../../lib/datasets";
import { LocalArtifactStore, parseArtifactKey, type ArtifactStore } from "../../../lib/storage";
import { useTestDatabase } from "../helpers/db";
import { listFiles, tempRoot } from "../storage/harness";

const repoRoot = path.resolve(import.meta.dirname, "../../..");
const irisCsv = () => readFile(path.join(repoRoot, "prisma/seed/iris.csv"), "utf8");
const USER = { type: "user" as const, id: "u-1", label: "ada@example.com" };

describe("lib/datasets", () => {
  const db = useTestDatabase();
  let root: string;
  let store: LocalArtifactStore;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    const t = await tempRoot();
    root = path.join(t.dir, "artifacts");
    store = new LocalArtifactStore({ root, durable: false });
    cleanup = t.cleanup;
  });
  afterEach(() => cleanup());

  const actions = async () =>
    (await db.client.auditEntry.findMany({ orderBy: { id: "asc" } })).map((e) => e.action);

  async function expectNothingStored() {
    expect(await db.client.dataset.count()).toBe(0);
    expect(await db.client.datasetVersion.count()).toBe(0);
    expect(await listFiles(path.join(root, "tmp"))).toEqual([]);
    expect(await listFiles(path.join(root, "sha256"))).toEqual([]);
    expect(await actions()).toEqual([]);
  }

  it("stores the iris CSV as version 1 with types, preview and audit entries; then version 2", async () => {
    const csv = await irisCsv();
    const first = await registerDatasetBytes(db.client, store, USER, csv, {
      name: "iris",
      description: "Fisher's iris",
      labelColumn: "species",
      originalFilename: "iris.csv",
    });
    expect(first.created).toBe(true);
    expect(first.version).toMatchObject({
      dataset: "iris",
      version: 1,
      format: "csv",
      rowCount: 150,
      labelColumn: "species",
      originalFilename: "iris.csv",
      sizeBytes: Buffer.byteLength(csv),
      featureMapping: {
        kind: "tensor",
        input: "features",
        columns: ["sepal_length", "sepal_width", "petal_length", "petal_width"],
      },
      createdBy: { type: "user", id: "u-1", label: "ada@example.com" },
    });
    expect(first.version.columns.map((c) => [c.name, c.type])).toEqual([
      ["sepal_length", "number"],
      ["sepal_width", "number"],
      ["petal_length", "number"],
      ["petal_width", "number"],
      ["species", "string"],
    ]);
    expect(first.version.columns[4]!.values).toEqual(["setosa", "versicolor", "virginica"]);
    expect(first.version.preview).toHaveLength(20);
    expect(first.version.preview[0]).toEqual(["5.1", "3.5", "1.4", "0.2", "setosa"]);
    expect(await store.exists(first.version.storageKey)).toBe(true);
    expect(await actions()).toEqual(["dataset.create", "dataset.version.create"]);

    const second = await registerDatasetBytes(db.client, store, SYSTEM_ACTOR, csv, {
      name: "iris",
      labelColumn: "species",
      mapping: { kind: "tensor", input: "features", columns: ["sepal_length", "sepal_width"] },
    });
    expect(second.created).toBe(false);
    expect(second.version.version).toBe(2);
    expect(second.version.storageKey).toBe(first.version.storageKey);
    expect(second.dataset).toMatchObject({
      name: "iris",
      versionCount: 2,
      description: "Fisher's iris",
    });
    expect(await actions()).toEqual([
      "dataset.create",
      "dataset.version.create",
      "dataset.version.create",
    ]);

    const listed = await listDatasets(db.client);
    expect(listed.map((d) => [d.name, d.versionCount, d.latest?.version])).toEqual([
      ["iris", 2, 2],
    ]);
    const detail = await getDataset(db.client, "iris");
    expect(detail.versions.map((v) => v.version)).toEqual([2, 1]);
    expect((await getDatasetVersion(db.client, "iris")).version).toBe(2);
    expect((await getDatasetVersion(db.client, "iris", 1)).preview[1]).toEqual([
      "4.9",
      "3.0",
      "1.4",
      "0.2",
      "setosa",
    ]);
    await expect(getDatasetVersion(db.client, "iris", 3)).rejects.toMatchObject({ status: 404 });
    await expect(getDataset(db.client, "nope")).rejects.toMatchObject({ status: 404 });
    await expect(getDataset(db.client, "../etc")).rejects.toMatchObject({ status: 404 });
  });

  it("refuses a malformed CSV with line numbers and stores nothing (no row, no file)", async () => {
    const bad = "a,b,y\n1,2,0\n1,2\nx,2,1\n1,2,\n";
    const error = await registerDatasetBytes(db.client, store, USER, bad, {
      name: "broken",
      labelColumn: "y",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetProblemsError);
    const e = error as DatasetProblemsError;
    expect(e.status).toBe(422);
    expect(e.problemCount).toBe(3);
    expect(e.problems.map((p) => p.line)).toEqual([3, 4, 5]);
    expect(e.message).toMatch(/^The dataset was not stored: Line 3 has 2 values/);
    expect(e.details).toMatchObject({ reason: "invalid_rows", problemCount: 3 });
    await expectNothingStored();
  });

  it("reads a multipart upload with fields; bad fields are 400s and leave nothing behind", async () => {
    const form = (fields: Record<string, string>, text = "x1,x2,t\n1,2,3.5\n4,5,6\n") => {
      const body = new FormData();
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      body.append("file", new Blob([text]), "rows.csv");
      return new Request("http://localhost/api/v1/datasets", { method: "POST", body });
    };
    const ok = await uploadDataset(db.client, store, USER, {
      request: form({ name: "reg", labelColumn: "t", featureColumns: "x2, x1", input: "x" }),
    });
    expect(ok.version.featureMapping).toEqual({
      kind: "tensor",
      input: "x",
      columns: ["x2", "x1"],
    });
    expect(ok.version.columns.map((c) => c.type)).toEqual(["integer", "integer", "number"]);

    const named = await uploadDataset(db.client, store, USER, {
      request: form({
        name: "reg",
        labelColumn: "t",
        mapping: JSON.stringify({ kind: "named", inputs: { a: "x1", b: "x2" } }),
      }),
    });
    expect(named.version).toMatchObject({ version: 2, featureMapping: { kind: "named" } });
    // Each version has its file and its binary form (the two mappings make two of those).
    const matrixKeys = (await db.client.datasetVersion.findMany()).map((v) => v.matrixStorageKey!);
    expect(new Set(matrixKeys).size).toBe(2);
    await db.client.auditEntry.deleteMany();
    await db.client.datasetVersion.deleteMany();
    await db.client.dataset.deleteMany();
    for (const key of new Set([ok.version.storageKey, named.version.storageKey, ...matrixKeys])) {
      await store.remove(key);
    }

    for (const [fields, field] of [
      [{ labelColumn: "t" }, "name"],
      [{ name: "Bad Name", labelColumn: "t" }, "name"],
      [{ name: "reg" }, "labelColumn"],
      [{ name: "reg", labelColumn: "t", mapping: "{" }, "mapping"],
      [
        { name: "reg", labelColumn: "t", mapping: '{"kind":"tensor","input":"x","columns":[]}' },
        "mapping.columns",
      ],
      [{ name: "reg", labelColumn: "t", format: "xlsx" }, "format"],
      [{ name: "reg", labelColumn: "t", colour: "red" }, "colour"],
    ] as const) {
      const error = await uploadDataset(db.client, store, USER, {
        request: form(fields as Record<string, string>),
      }).catch((e: unknown) => e);
      expect(error, JSON.stringify(fields)).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).details).toMatchObject({ fields: [{ field }] });
    }
    const unknownColumn = await uploadDataset(db.client, store, USER, {
      request: form({ name: "reg", labelColumn: "t", featureColumns: "x1,nope" }),
    }).catch((e: unknown) => e as ApiError);
    expect(unknownColumn).toMatchObject({ status: 422 });
    expect((unknownColumn as DatasetProblemsError).problems[0]!.message).toMatch(
      /feature column "nope" is not in the file/,
    );
    await expectNothingStored();
  });

  it("detects JSON Lines by name or content", async () => {
    const rows = '{"a": 1, "y": 0}\n{"a": 2, "y": 1}\n';
    const byContent = await registerDatasetBytes(db.client, store, USER, rows, {
      name: "jl",
      labelColumn: "y",
    });
    expect(byContent.version).toMatchObject({ format: "jsonl", rowCount: 2 });
  });

  describe("the binary form", () => {
    const fileOf = (key: string) => path.join(root, ...parseArtifactKey(key).segments);
    const matrixKeyOf = async (id: string) =>
      (await db.client.datasetVersion.findUniqueOrThrow({ where: { id } })).matrixStorageKey;

    it("is written at upload, content-addressed, and holds exactly the rows and labels of the CSV", async () => {
      const csv = await irisCsv();
      const { version } = await registerDatasetBytes(db.client, store, USER, csv, {
        name: "iris",
        labelColumn: "species",
      });
      const key = await matrixKeyOf(version.id);
      expect(key).toMatch(/^sha256\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
      expect(key).not.toBe(version.storageKey);
      expect(await store.exists(key!)).toBe(true);
      expect(await listFiles(path.join(root, "sha256"))).toHaveLength(2);
      expect(await listFiles(path.join(root, "tmp"))).toEqual([]);

      const columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
      const matrix = await readDatasetMatrix(fileOf(key!));
      const parsed = await loadEvaluationData(
        fileOf(version.storageKey),
        "csv",
        columns,
        "species",
      );
      expect(matrix.header).toMatchObject({
        rowCount: 150,
        featureColumns: columns,
        labelColumn: "species",
        labels: { encoding: "dictionary", values: ["setosa", "versicolor", "virginica"] },
      });
      expect(parsed.rowCount).toBe(150);
      expect(matrix.features).toEqual(Float32Array.from(parsed.features));
      expect(matrix.labels).toEqual(parsed.labels);

      // The same content again: the same two files, shared by version 2.
      const again = await registerDatasetBytes(db.client, store, USER, csv, {
        name: "iris",
        labelColumn: "species",
      });
      expect(await matrixKeyOf(again.version.id)).toBe(key);
      expect(await listFiles(path.join(root, "sha256"))).toHaveLength(2);
    });

    it("a failed upload leaves neither file (nor a row) when the binary form cannot be stored", async () => {
      let staged = 0;
      const failing: ArtifactStore = Object.create(store) as ArtifactStore;
      failing.stage = async (source, options) => {
        const artifact = await store.stage(source, options);
        // The second artifact of an upload is the binary form: its commit fails (disk full).
        if (++staged % 2 === 0) {
          artifact.commit = () => Promise.reject(new Error("ENOSPC: no space left on device"));
        }
        return artifact;
      };
      await expect(
        registerDatasetBytes(db.client, failing, USER, await irisCsv(), {
          name: "iris",
          labelColumn: "species",
        }),
      ).rejects.toThrow(/ENOSPC/);
      expect(await db.client.dataset.count()).toBe(0);
      expect(await db.client.datasetVersion.count()).toBe(0);
      expect(await listFiles(path.join(root, "tmp"))).toEqual([]);
      expect(await listFiles(path.join(root, "sha256"))).toEqual([]);
      expect(await actions()).toEqual([
        "dataset.create",
        "dataset.version.create",
        "dataset.version.create.undo",
      ]);
    });
  });
});
