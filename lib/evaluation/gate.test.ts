import { describe, expect, it } from "vitest";
import {
  criterionMessage,
  decidePromotion,
  decisionReason,
  defaultGate,
  gateSchema,
  type CandidateSource,
  type Criterion,
  type CriterionName,
  type DecisionCode,
  type GateConfig,
  type GateSubject,
} from "./gate";
import type { QualityMetrics } from "./metrics";
import type { LatencyFigures } from "./score";

const latency = (p95Ms: number): LatencyFigures => ({
  batch1: {
    runs: 100,
    p50Ms: p95Ms / 2,
    p95Ms,
    p99Ms: p95Ms * 1.5,
    meanMs: p95Ms / 2,
    maxMs: p95Ms * 2,
  },
  batched: { batchSize: 64, rows: 100, seconds: 0.01, rowsPerSecond: 10_000 },
});

const cls = (accuracy: number): QualityMetrics => ({
  kind: "classification",
  rows: 150,
  accuracy,
  precisionMacro: accuracy,
  recallMacro: accuracy,
  f1Macro: accuracy,
  perClass: [],
  confusionMatrix: { labels: [], matrix: [] },
  logLoss: null,
  rocAuc: null,
});
const reg = (rmse: number): QualityMetrics => ({
  kind: "regression",
  rows: 150,
  mae: rmse,
  mse: rmse ** 2,
  rmse,
  r2: 0.5,
});

function subject(
  version: number,
  metrics: QualityMetrics | null,
  opts: Partial<GateSubject> = {},
): GateSubject {
  return {
    version,
    evaluationId: `00000000-0000-4000-8000-00000000000${version}`,
    status: "succeeded",
    metrics,
    latency: latency(1),
    rowCount: 150,
    ...opts,
  };
}

const gate = (g: Partial<GateConfig> = {}): GateConfig => ({
  ...defaultGate("classification"),
  ...g,
});

type Case = {
  name: string;
  gate: GateConfig;
  production: GateSubject | null;
  candidates: GateSubject[];
  promote: number | null;
  /** For the candidates in order: whether each passes, and the first failing criterion. */
  verdicts: (true | string)[];
  reason?: RegExp;
};

const cases: Case[] = [
  {
    name: "no production yet: a successful candidate is promoted",
    gate: gate(),
    production: null,
    candidates: [subject(1, cls(0.8))],
    promote: 1,
    verdicts: [true],
    reason: /^Promote v1: Accuracy 0\.8; there was no production version\.$/,
  },
  {
    name: "no production yet, but the dataset is too small",
    gate: gate({ minDatasetRows: 500 }),
    production: null,
    candidates: [subject(1, cls(0.8))],
    promote: null,
    verdicts: ["minDatasetRows"],
    reason: /only 150 rows; the gate needs at least 500\); nothing is promoted/,
  },
  {
    name: "a better candidate is promoted",
    gate: gate({ minAbsoluteImprovement: 0.01, minRelativeImprovementPct: 1 }),
    production: subject(2, cls(0.9)),
    candidates: [subject(3, cls(0.95))],
    promote: 3,
    verdicts: [true],
    reason: /^Promote v3: Accuracy 0\.9 → 0\.95 over production v2/,
  },
  {
    name: "a worse candidate is never promoted",
    gate: gate(),
    production: subject(2, cls(0.9)),
    candidates: [subject(3, cls(0.85))],
    promote: null,
    verdicts: ["absoluteImprovement"],
    reason: /v3: Accuracy 0\.85 is worse than production v2 \(0\.9\)\); production stays on v2/,
  },
  {
    name: "a tie with production is not an improvement",
    gate: gate(),
    production: subject(2, cls(0.9)),
    candidates: [subject(3, cls(0.9))],
    promote: null,
    verdicts: ["absoluteImprovement"],
    reason: /ties production v2/,
  },
  {
    name: "improvement below the absolute minimum",
    gate: gate({ minAbsoluteImprovement: 0.05 }),
    production: subject(2, cls(0.9)),
    candidates: [subject(3, cls(0.92))],
    promote: null,
    verdicts: ["absoluteImprovement"],
    reason: /improves by only 0\.02 .*needs at least 0\.05/,
  },
  {
    name: "improvement below the relative minimum",
    gate: gate({ minAbsoluteImprovement: 0.01, minRelativeImprovementPct: 5 }),
    production: subject(2, cls(0.9)),
    candidates: [subject(3, cls(0.92))],
    promote: null,
    verdicts: ["relativeImprovement"],
    reason: /\+2\.22% relative change; the gate needs at least \+5%/,
  },
  {
    name: "better but too slow",
    gate: gate({ maxLatencyRegressionPct: 20 }),
    production: subject(2, cls(0.9), { latency: latency(1) }),
    candidates: [subject(3, cls(0.99), { latency: latency(1.5) })],
    promote: null,
    verdicts: ["latencyRegression"],
    reason: /p95 latency 1 → 1\.5 ms \(\+50%\); at most \+20% allowed/,
  },
  {
    name: "slower within the allowance",
    gate: gate({ maxLatencyRegressionPct: 60 }),
    production: subject(2, cls(0.9), { latency: latency(1) }),
    candidates: [subject(3, cls(0.99), { latency: latency(1.5) })],
    promote: 3,
    verdicts: [true],
  },
  {
    name: "a failed candidate evaluation never promotes",
    gate: gate(),
    production: subject(2, cls(0.9)),
    candidates: [subject(3, null, { status: "failed", error: "timeout", rowCount: null })],
    promote: null,
    verdicts: ["evaluation"],
    reason: /v3's evaluation failed: timeout/,
  },
  {
    name: "production's evaluation failed: nothing to compare with, nothing promoted",
    gate: gate(),
    production: subject(2, null, { status: "failed" }),
    candidates: [subject(3, cls(0.99))],
    promote: null,
    verdicts: ["absoluteImprovement"],
    reason: /production v2's evaluation failed: cannot compare/,
  },
  {
    name: "the primary metric was not computed (ROC AUC of a multiclass model)",
    gate: gate({ primaryMetric: "rocAuc" }),
    production: null,
    candidates: [subject(1, cls(0.9))],
    promote: null,
    verdicts: ["primaryMetric"],
  },
  {
    name: "lower is better: RMSE",
    gate: { ...defaultGate("regression"), minRelativeImprovementPct: 10 },
    production: subject(1, reg(2)),
    candidates: [subject(2, reg(1.9)), subject(3, reg(1.5))],
    promote: 3,
    verdicts: ["relativeImprovement", true],
    reason: /RMSE 2 → 1\.5/,
  },
  {
    name: "the best of several passing candidates wins",
    gate: gate(),
    production: subject(1, cls(0.8)),
    candidates: [subject(2, cls(0.85)), subject(3, cls(0.9)), subject(4, cls(0.7))],
    promote: 3,
    verdicts: [true, true, "absoluteImprovement"],
    reason: /^Promote v3 \(best of 2 passing candidates\)/,
  },
  {
    name: "candidates tied on the metric: the faster one wins",
    gate: gate(),
    production: subject(1, cls(0.8)),
    candidates: [
      subject(2, cls(0.9), { latency: latency(0.5) }),
      subject(3, cls(0.9), { latency: latency(0.9) }),
    ],
    promote: 2,
    verdicts: [true, true],
  },
  {
    name: "candidates tied on metric and latency: the newer one wins",
    gate: gate(),
    production: subject(1, cls(0.8)),
    candidates: [subject(2, cls(0.9)), subject(3, cls(0.9))],
    promote: 3,
    verdicts: [true, true],
  },
  {
    name: "production at 0 (RMSE): relative change undefined, any improvement counts",
    gate: {
      ...defaultGate("regression"),
      primaryMetric: "r2",
      direction: "higher",
      minRelativeImprovementPct: 50,
    },
    production: subject(1, { ...(reg(1) as object), r2: 0 } as QualityMetrics),
    candidates: [subject(2, { ...(reg(1) as object), r2: 0.1 } as QualityMetrics)],
    promote: 2,
    verdicts: [true],
  },
  {
    name: "no candidates",
    gate: gate(),
    production: subject(1, cls(0.8)),
    candidates: [],
    promote: null,
    verdicts: [],
    reason: /^No candidate to evaluate; production stays on v1\.$/,
  },
];

describe("decidePromotion", () => {
  it.each(cases)("$name", (c) => {
    const decision = decidePromotion(c.gate, c.production, c.candidates);
    expect(decision.promote?.version ?? null).toBe(c.promote);
    expect(
      decision.criteria.map((cc) => (cc.pass ? true : cc.criteria.find((x) => !x.pass)!.name)),
    ).toEqual(c.verdicts);
    if (c.reason) expect(decision.reason).toMatch(c.reason);
    for (const cc of decision.criteria) {
      for (const criterion of cc.criteria) {
        expect(criterion.message.length).toBeGreaterThan(0);
        expect(typeof criterion.pass).toBe("boolean");
      }
    }
  });

  it("never promotes a candidate that fails a criterion (randomised)", () => {
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 2000; i++) {
      const g = gate({
        minAbsoluteImprovement: random() < 0.5 ? 0 : random() * 0.1,
        minRelativeImprovementPct: random() < 0.5 ? 0 : random() * 10,
        maxLatencyRegressionPct: random() < 0.5 ? null : random() * 50,
        minDatasetRows: random() < 0.7 ? 0 : Math.floor(random() * 300),
      });
      const make = (v: number) =>
        subject(v, cls(Math.round(random() * 20) / 20), {
          latency: latency(0.5 + random()),
          status: random() < 0.1 ? "failed" : "succeeded",
          rowCount: Math.floor(random() * 300),
        });
      const production = random() < 0.2 ? null : make(1);
      const candidates = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, k) =>
        make(k + 2),
      );
      const d = decidePromotion(g, production, candidates);
      if (d.promote) {
        const mine = d.criteria.find((c) => c.version === d.promote!.version)!;
        expect(mine.criteria.every((c) => c.pass)).toBe(true);
        if (production)
          expect(
            d.promote.metrics!.kind === "classification" &&
              (d.promote.metrics as { accuracy: number }).accuracy,
          ).toBeGreaterThan((production.metrics as { accuracy: number }).accuracy);
      } else {
        expect(d.criteria.every((c) => !c.pass)).toBe(true);
      }
    }
  });
});

type CodeCase = {
  name: string;
  gate: GateConfig;
  production: GateSubject | null;
  candidate: GateSubject;
  /** The criteria expected, by name: code, pass and the structured values. */
  expected: Partial<Record<CriterionName, Partial<Criterion>>>;
};

const codeCases: CodeCase[] = [
  {
    name: "evaluated, enough rows, metric computed",
    gate: gate({ minDatasetRows: 100 }),
    production: null,
    candidate: subject(3, cls(0.8)),
    expected: {
      evaluation: {
        code: "evaluated",
        pass: true,
        evaluation: {
          id: "00000000-0000-4000-8000-000000000003",
          status: "succeeded",
          error: null,
        },
      },
      minDatasetRows: {
        code: "enough_rows",
        pass: true,
        value: 150,
        threshold: 100,
        comparison: "at_least",
      },
      primaryMetric: { code: "metric_computed", metric: "accuracy", candidate: 0.8, value: 0.8 },
      absoluteImprovement: { code: "no_production", pass: true, baselineVersion: null },
      relativeImprovement: { code: "no_production", pass: true },
    },
  },
  {
    name: "a failed evaluation",
    gate: gate(),
    production: null,
    candidate: subject(3, null, { status: "failed", error: "timeout" }),
    expected: {
      evaluation: {
        code: "evaluation_failed",
        pass: false,
        evaluation: { id: expect.any(String), status: "failed", error: "timeout" },
        message: "v3's evaluation failed: timeout",
      },
      primaryMetric: { code: "metric_missing", pass: false, candidate: null },
    },
  },
  {
    name: "an evaluation still running",
    gate: gate(),
    production: null,
    candidate: subject(3, null, { status: "running" }),
    expected: {
      evaluation: { code: "evaluation_unfinished", message: "v3's evaluation is running" },
    },
  },
  {
    name: "too few rows",
    gate: gate({ minDatasetRows: 500 }),
    production: null,
    candidate: subject(3, cls(0.8), { rowCount: 120 }),
    expected: {
      minDatasetRows: {
        code: "too_few_rows",
        pass: false,
        value: 120,
        threshold: 500,
        message: "only 120 rows; the gate needs at least 500",
      },
    },
  },
  {
    name: "an improvement above both minimums",
    gate: gate({ minAbsoluteImprovement: 0.01, minRelativeImprovementPct: 1 }),
    production: subject(2, cls(0.8)),
    candidate: subject(3, cls(0.9)),
    expected: {
      absoluteImprovement: {
        code: "improved",
        pass: true,
        metric: "accuracy",
        candidate: 0.9,
        baseline: 0.8,
        baselineVersion: 2,
        candidateVersion: 3,
        threshold: 0.01,
        comparison: "at_least",
      },
      relativeImprovement: {
        code: "relative_improved",
        pass: true,
        value: expect.closeTo(12.5, 6),
        threshold: 1,
      },
    },
  },
  {
    name: "an improvement below the absolute minimum",
    gate: gate({ minAbsoluteImprovement: 0.05 }),
    production: subject(2, cls(0.9)),
    candidate: subject(3, cls(0.92)),
    expected: {
      absoluteImprovement: {
        code: "improvement_too_small",
        pass: false,
        value: expect.closeTo(0.02, 9),
        threshold: 0.05,
      },
    },
  },
  {
    name: "a relative change below the minimum",
    gate: gate({ minRelativeImprovementPct: 5 }),
    production: subject(2, cls(0.9)),
    candidate: subject(3, cls(0.92)),
    expected: {
      absoluteImprovement: { code: "improved", pass: true },
      relativeImprovement: { code: "relative_too_small", pass: false, threshold: 5 },
    },
  },
  {
    name: "a tie",
    gate: gate(),
    production: subject(2, cls(0.9)),
    candidate: subject(3, cls(0.9)),
    expected: { absoluteImprovement: { code: "tie", pass: false, value: 0 } },
  },
  {
    name: "worse, lower is better (RMSE)",
    gate: defaultGate("regression"),
    production: subject(2, reg(1)),
    candidate: subject(3, reg(1.5)),
    expected: {
      absoluteImprovement: {
        code: "worse",
        pass: false,
        metric: "rmse",
        value: -0.5,
        candidate: 1.5,
        baseline: 1,
      },
    },
  },
  {
    name: "production's evaluation failed",
    gate: gate(),
    production: subject(2, null, { status: "failed" }),
    candidate: subject(3, cls(0.9)),
    expected: {
      absoluteImprovement: {
        code: "production_not_comparable",
        pass: false,
        baselineStatus: "failed",
        baseline: null,
        message: "production v2's evaluation failed: cannot compare",
      },
    },
  },
  {
    name: "production at 0: relative change undefined",
    gate: { ...defaultGate("regression"), primaryMetric: "r2", direction: "higher" },
    production: subject(1, { ...(reg(1) as object), r2: 0 } as QualityMetrics),
    candidate: subject(2, { ...(reg(1) as object), r2: 0.1 } as QualityMetrics),
    expected: { relativeImprovement: { code: "relative_undefined", pass: true, value: null } },
  },
  {
    name: "latency within the allowance",
    gate: gate({ maxLatencyRegressionPct: 60 }),
    production: subject(2, cls(0.9), { latency: latency(1) }),
    candidate: subject(3, cls(0.95), { latency: latency(1.5) }),
    expected: {
      latencyRegression: {
        code: "latency_within",
        pass: true,
        value: 50,
        threshold: 60,
        comparison: "at_most",
        candidate: 1.5,
        baseline: 1,
        metric: null,
      },
    },
  },
  {
    name: "latency regressed",
    gate: gate({ maxLatencyRegressionPct: 20 }),
    production: subject(2, cls(0.9), { latency: latency(1) }),
    candidate: subject(3, cls(0.95), { latency: latency(1.5) }),
    expected: { latencyRegression: { code: "latency_regressed", pass: false, value: 50 } },
  },
  {
    name: "latency not measured",
    gate: gate({ maxLatencyRegressionPct: 20 }),
    production: subject(2, cls(0.9), { latency: null }),
    candidate: subject(3, cls(0.95)),
    expected: { latencyRegression: { code: "latency_unmeasured", pass: false, value: null } },
  },
];

describe("gate reason codes", () => {
  it.each(codeCases)("$name", (c) => {
    const decision = decidePromotion(c.gate, c.production, [c.candidate]);
    const criteria = decision.criteria[0]!.criteria;
    const byName = Object.fromEntries(criteria.map((x) => [x.name, x]));
    for (const [name, expected] of Object.entries(c.expected)) {
      expect(byName[name], name).toMatchObject(expected);
    }
    // Every message is what its code and values say, nothing edited afterwards.
    for (const x of criteria) expect(x.message).toBe(criterionMessage(x));
  });

  it("renders messages from the values, not from stored text", () => {
    const [c] = decidePromotion(gate({ minDatasetRows: 500 }), null, [
      subject(3, cls(0.8)),
    ]).criteria[0]!.criteria.filter((x) => x.name === "minDatasetRows");
    expect(criterionMessage({ ...c!, value: 12 })).toBe(
      "only 12 rows; the gate needs at least 500",
    );
  });

  const decisionCases: {
    name: string;
    source: CandidateSource;
    production: GateSubject | null;
    candidates: GateSubject[];
    code: DecisionCode;
    reason: string;
  }[] = [
    {
      name: "no candidates given",
      source: "given",
      production: subject(1, cls(0.8)),
      candidates: [],
      code: "no_candidates",
      reason: "No candidate to evaluate; production stays on v1.",
    },
    {
      name: "no version newer than production",
      source: "newer-than-production",
      production: subject(1, cls(0.8)),
      candidates: [],
      code: "no_candidates",
      reason: "No version is newer than production; production stays on v1.",
    },
    {
      name: "no challenger, no production",
      source: "challenger",
      production: null,
      candidates: [],
      code: "no_candidates",
      reason: "No challenger to evaluate; nothing is promoted.",
    },
    {
      name: "none passes",
      source: "given",
      production: subject(1, cls(0.8)),
      candidates: [subject(2, cls(0.7))],
      code: "none_passed",
      reason:
        "No candidate passes the gate (v2: Accuracy 0.7 is worse than production v1 (0.8)); production stays on v1.",
    },
    {
      name: "one passes",
      source: "given",
      production: subject(1, cls(0.8)),
      candidates: [subject(2, cls(0.9))],
      code: "promote",
      reason: "Promote v2: Accuracy 0.8 → 0.9 over production v1, every gate criterion passes.",
    },
  ];

  it.each(decisionCases)("decision: $name", (c) => {
    const decision = decidePromotion(gate(), c.production, c.candidates, c.source);
    expect(decision.code).toBe(c.code);
    expect(decision.reason).toBe(c.reason);
    expect(decisionReason(decision.code, decision.facts)).toBe(decision.reason);
    expect(decision.facts).toMatchObject({
      metric: "accuracy",
      source: c.source,
      productionVersion: c.production?.version ?? null,
    });
  });

  it("a promotion's facts name the winner, its value and production's", () => {
    const d = decidePromotion(gate(), subject(1, cls(0.8)), [
      subject(2, cls(0.85)),
      subject(3, cls(0.9)),
    ]);
    expect(d.facts).toMatchObject({
      productionVersion: 1,
      productionValue: 0.8,
      winnerVersion: 3,
      winnerValue: 0.9,
      passingCount: 2,
      failures: [],
    });
  });
});

describe("gateSchema", () => {
  it("fills defaults and refuses unknown fields and metrics", () => {
    expect(gateSchema.parse({ primaryMetric: "f1Macro" })).toEqual({
      primaryMetric: "f1Macro",
      minAbsoluteImprovement: 0,
      minRelativeImprovementPct: 0,
      maxLatencyRegressionPct: null,
      minDatasetRows: 0,
    });
    expect(gateSchema.safeParse({ primaryMetric: "speed" }).success).toBe(false);
    expect(gateSchema.safeParse({ primaryMetric: "mae", extra: 1 }).success).toBe(false);
    expect(gateSchema.safeParse({ primaryMetric: "mae", minDatasetRows: -1 }).success).toBe(false);
  });
});
