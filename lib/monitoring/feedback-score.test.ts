import { describe, expect, it } from "vitest";
import { canonicalLabel, parsePredicted, scoreFeedback } from "./feedback-score";

const NAMES = ["setosa", "versicolor", "virginica"];

describe("canonicalLabel", () => {
  it("turns indices into the version's class names and keeps names", () => {
    expect(canonicalLabel("versicolor", NAMES)).toBe("versicolor");
    expect(canonicalLabel(2, NAMES)).toBe("virginica");
    expect(canonicalLabel("0", NAMES)).toBe("setosa");
    expect(canonicalLabel(3, NAMES)).toBeNull();
    expect(canonicalLabel("daisy", NAMES)).toBeNull();
  });
  it("prefers a class literally named like an index", () => {
    expect(canonicalLabel("1", ["0", "1"])).toBe("1");
    expect(canonicalLabel(0, ["1", "0"])).toBe("1");
  });
  it("compares as text when the model names no classes", () => {
    expect(canonicalLabel(2, null)).toBe("2");
    expect(canonicalLabel("cat", null)).toBe("cat");
  });
});

describe("scoreFeedback", () => {
  it("counts correct rows of a multi-row classification request", () => {
    const r = scoreFeedback("classification", NAMES, ["setosa", "virginica", "setosa"], {
      label: ["setosa", 1, "0"],
    });
    expect(r).toEqual({
      ok: true,
      score: {
        kind: "label",
        truth: ["setosa", "versicolor", "setosa"],
        labelled: 3,
        correct: 2,
        absErrorSum: 0,
        sqErrorSum: 0,
      },
    });
  });
  it("matches index predictions of a model without class names", () => {
    const r = scoreFeedback("classification", null, [2], { label: 2 });
    expect(r.ok && r.score.correct).toBe(1);
  });
  it("sums absolute and squared errors for regression", () => {
    const r = scoreFeedback("regression", null, [1.5, 4], { value: [1, 7] });
    expect(r.ok && r.score).toMatchObject({ labelled: 2, absErrorSum: 3.5, sqErrorSum: 9.25 });
  });
  it("rejects the wrong kind, unknown classes, row mismatches and failed requests", () => {
    const status = (r: ReturnType<typeof scoreFeedback>) => (r.ok ? "ok" : r.problem.status);
    expect(status(scoreFeedback("classification", NAMES, ["setosa"], { value: 1 }))).toBe(
      "wrong_kind",
    );
    expect(status(scoreFeedback("regression", null, [1], { label: "a" }))).toBe("wrong_kind");
    expect(status(scoreFeedback("other", null, [1], { value: 1 }))).toBe("wrong_kind");
    expect(status(scoreFeedback("classification", NAMES, ["setosa"], { label: "rose" }))).toBe(
      "invalid_label",
    );
    expect(status(scoreFeedback("classification", NAMES, ["setosa", "setosa"], { label: 0 }))).toBe(
      "row_count_mismatch",
    );
    expect(status(scoreFeedback("classification", NAMES, null, { label: 0 }))).toBe("not_scored");
  });
});

describe("parsePredicted", () => {
  it("reads the log's JSON array text and tolerates anything else", () => {
    expect(parsePredicted('["a",1]')).toEqual(["a", 1]);
    expect(parsePredicted(null)).toBeNull();
    expect(parsePredicted("{")).toBeNull();
    expect(parsePredicted('{"a":1}')).toBeNull();
  });
});
