import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadJobSettings, parseTrainerCommand } from "./settings";

describe("job settings", () => {
  it("has production defaults", () => {
    const s = loadJobSettings({ MODELDECK_DATA_DIR: "/srv/md" });
    expect(s).toMatchObject({
      importsDir: path.join("/srv/md", "imports"),
      leaseMs: 30_000,
      concurrency: 2,
      shutdownGraceMs: 8_000,
      trainerCommand: null,
    });
  });

  it("reads the trainer command as JSON argv or as a shell command line", () => {
    expect(parseTrainerCommand('["python3", "train.py", "--fast"]')).toEqual([
      "python3",
      "train.py",
      "--fast",
    ]);
    expect(parseTrainerCommand("python3 train.py > log")).toEqual([
      "/bin/sh",
      "-c",
      "python3 train.py > log",
    ]);
    expect(parseTrainerCommand("  ")).toBeNull();
    expect(() => parseTrainerCommand("[not json")).toThrow(/not valid JSON/);
    expect(() => parseTrainerCommand("[]")).toThrow(/JSON array of non-empty strings/);
  });

  it("refuses values out of range", () => {
    expect(() => loadJobSettings({ MODELDECK_JOB_LEASE_SECONDS: "0" })).toThrow(
      /MODELDECK_JOB_LEASE_SECONDS/,
    );
  });
});
