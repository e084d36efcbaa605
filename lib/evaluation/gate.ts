/**
 * The promotion gate: the per-model policy a candidate version must pass to replace
 * production automatically, and `decidePromotion`, the pure function that applies it. Every
 * criterion is reported with its value, threshold and pass/fail, so a decision can be shown
 * and audited exactly as it was made.
 *
 * Client-safe (no Node APIs): the gate editor imports the types and defaults.
 */
import { z } from "zod";
import { METRICS, metricValue, type MetricName, type QualityMetrics } from "./metrics";
import type { LatencyFigures } from "./score";

export type GateDirection = "higher" | "lower";

export type GateConfig = {
  primaryMetric: MetricName;
  direction: GateDirection;
  /** candidate − production (in the better direction) must be at least this. */
  minAbsoluteImprovement: number;
  /** …and at least this percentage of |production|. */
  minRelativeImprovementPct: number;
  /** p95 latency at batch 1 may grow by at most this percentage (null: not checked). */
  maxLatencyRegressionPct: number | null;
  /** The evaluation dataset must have at least this many rows. */
  minDatasetRows: number;
};

export const gateSchema = z
  .object({
    primaryMetric: z.enum(Object.keys(METRICS) as [MetricName, ...MetricName[]]),
    direction: z.enum(["higher", "lower"]).optional(),
    minAbsoluteImprovement: z.number().min(0).max(1e12).default(0),
    minRelativeImprovementPct: z.number().min(0).max(1e6).default(0),
    maxLatencyRegressionPct: z.number().min(0).max(1e6).nullable().default(null),
    minDatasetRows: z.number().int().min(0).max(1e9).default(0),
  })
  .strict();

export type GateInput = z.input<typeof gateSchema>;

/** The gate a model without one of its own gets: the primary metric must simply improve. */
export function defaultGate(task: "classification" | "regression" | "other"): GateConfig {
  const primaryMetric: MetricName = task === "regression" ? "rmse" : "accuracy";
  return {
    primaryMetric,
    direction: METRICS[primaryMetric].direction,
    minAbsoluteImprovement: 0,
    minRelativeImprovementPct: 0,
    maxLatencyRegressionPct: null,
    minDatasetRows: 0,
  };
}

/** One evaluated version as the gate sees it. */
export type GateSubject = {
  version: number;
  evaluationId: string;
  status: "queued" | "running" | "succeeded" | "failed";
  metrics: QualityMetrics | null;
  latency: LatencyFigures | null;
  rowCount: number | null;
  error?: string | null;
};

export type CriterionName =
  | "evaluation"
  | "minDatasetRows"
  | "primaryMetric"
  | "absoluteImprovement"
  | "relativeImprovement"
  | "latencyRegression";

/** Why a criterion passed or failed: one code per outcome, its message rendered from it. */
export type CriterionCode =
  /** evaluation */
  | "evaluated"
  | "evaluation_failed"
  | "evaluation_unfinished"
  | "evaluation_without_metrics"
  /** minDatasetRows */
  | "enough_rows"
  | "too_few_rows"
  /** primaryMetric */
  | "metric_computed"
  | "metric_missing"
  /** absoluteImprovement, relativeImprovement, latencyRegression: nothing to compare with */
  | "no_production"
  /** absoluteImprovement: production has no value to compare with */
  | "production_not_comparable"
  | "improved"
  | "improvement_too_small"
  | "tie"
  | "worse"
  /** relativeImprovement */
  | "relative_improved"
  | "relative_too_small"
  | "relative_undefined"
  /** latencyRegression */
  | "latency_within"
  | "latency_regressed"
  | "latency_unmeasured";

/**
 * One criterion as decided: its reason code and the values it compared. `value` is the
 * measured quantity the `threshold` applies to (rows, improvement, % change), compared as
 * `comparison` says; `candidate` and `baseline` are what it was computed from (the primary
 * metric's values, or p95 latencies in ms). `message` is rendered from these (criterionMessage).
 */
export type Criterion = {
  name: CriterionName;
  code: CriterionCode;
  pass: boolean;
  value: number | null;
  threshold: number | null;
  /** value ≥ threshold (at_least), value ≤ threshold (at_most), value > threshold (greater_than) */
  comparison: "at_least" | "at_most" | "greater_than" | null;
  /** The metric the values are in (latency criteria: null, values are ms and %). */
  metric: MetricName | null;
  candidateVersion: number;
  candidate: number | null;
  /** Production's version and value, when there is one. */
  baselineVersion: number | null;
  baseline: number | null;
  /** evaluation criterion: which evaluation, its status, its error. */
  evaluation?: { id: string; status: GateSubject["status"]; error: string | null };
  /** absoluteImprovement when production is not comparable: production's evaluation status. */
  baselineStatus?: GateSubject["status"];
  message: string;
};

export type CandidateCriteria = {
  version: number;
  evaluationId: string;
  pass: boolean;
  /** The candidate's primary-metric value (null when it has none). */
  value: number | null;
  criteria: Criterion[];
};

/** Why the decision is what it is. */
export type DecisionCode = "no_candidates" | "none_passed" | "promote";

/** Where the candidates came from, which only changes how "no candidates" is said. */
export type CandidateSource = "given" | "newer-than-production" | "challenger";

export type PromotionDecision<S extends GateSubject = GateSubject> = {
  /** The candidate to promote, or null: production stays. */
  promote: S | null;
  criteria: CandidateCriteria[];
  code: DecisionCode;
  /** The values the reason is rendered from. */
  facts: DecisionFacts;
  reason: string;
};

export type DecisionFacts = {
  metric: MetricName;
  source: CandidateSource;
  productionVersion: number | null;
  productionValue: number | null;
  /** promote: the winner, its value, and how many candidates passed. */
  winnerVersion: number | null;
  winnerValue: number | null;
  passingCount: number;
  /** none_passed: each candidate's first failing criterion. */
  failures: Array<{ version: number; criterion: Criterion }>;
};

const fmt = (n: number | null | undefined, digits = 4) =>
  n === null || n === undefined || !Number.isFinite(n) ? "—" : String(+n.toFixed(digits));
const signed = (n: number, digits = 4) => `${n >= 0 ? "+" : ""}${fmt(n, digits)}`;

/** The sentence a criterion's code and values say (the UI and the API show this). */
export function criterionMessage(c: Omit<Criterion, "message">): string {
  const label = c.metric ? METRICS[c.metric].label : "";
  const v = `v${c.candidateVersion}`;
  const prod = `production v${c.baselineVersion}`;
  switch (c.code) {
    case "evaluated":
      return `${v} was evaluated (evaluation ${c.evaluation?.id.slice(0, 8) ?? "—"})`;
    case "evaluation_failed":
      return `${v}'s evaluation failed${c.evaluation?.error ? `: ${c.evaluation.error}` : ""}`;
    case "evaluation_unfinished":
      return `${v}'s evaluation is ${c.evaluation?.status ?? "unfinished"}`;
    case "evaluation_without_metrics":
      return `${v}'s evaluation recorded no metrics`;
    case "enough_rows":
      return `${c.value} rows ≥ ${c.threshold} required`;
    case "too_few_rows":
      return `only ${c.value} rows; the gate needs at least ${c.threshold}`;
    case "metric_computed":
      return `${label} ${fmt(c.candidate)}`;
    case "metric_missing":
      return `${label} was not computed for ${v}`;
    case "no_production":
      return c.name === "absoluteImprovement"
        ? "no production version yet: nothing to improve on"
        : "no production version yet";
    case "production_not_comparable":
      return c.baselineStatus === "succeeded"
        ? `${label} was not computed for ${prod}: cannot compare`
        : `${prod}'s evaluation ${c.baselineStatus === "failed" ? "failed" : `is ${c.baselineStatus}`}: cannot compare`;
    case "tie":
      return `${label} ${fmt(c.candidate)} ties ${prod} (${fmt(c.baseline)}): not an improvement`;
    case "worse":
      return `${label} ${fmt(c.candidate)} is worse than ${prod} (${fmt(c.baseline)})`;
    case "improved":
      return `${label} improves by ${fmt(c.value)} on ${prod} (${fmt(c.baseline)} → ${fmt(c.candidate)}); at least ${fmt(c.threshold)} required`;
    case "improvement_too_small":
      return `${label} improves by only ${fmt(c.value)} (${fmt(c.baseline)} → ${fmt(c.candidate)}); the gate needs at least ${fmt(c.threshold)}`;
    case "relative_undefined":
      return `production's ${label} is 0, so a relative change is undefined; ${c.pass ? "any improvement passes" : "no improvement"}`;
    case "relative_improved":
      return `${signed(c.value ?? 0, 2)}% relative improvement; at least ${fmt(c.threshold, 2)}% required`;
    case "relative_too_small":
      return `${signed(c.value ?? 0, 2)}% relative change; the gate needs at least +${fmt(c.threshold, 2)}%`;
    case "latency_unmeasured":
      return "p95 latency at batch 1 was not measured for both versions";
    case "latency_within":
    case "latency_regressed":
      return `p95 latency ${fmt(c.baseline, 3)} → ${fmt(c.candidate, 3)} ms (${signed(c.value ?? 0, 1)}%); at most +${fmt(c.threshold, 1)}% allowed`;
  }
}

function criterion(c: Omit<Criterion, "message">): Criterion {
  return { ...c, message: criterionMessage(c) };
}

function evaluateCandidate(
  gate: GateConfig,
  production: GateSubject | null,
  candidate: GateSubject,
): CandidateCriteria {
  const metric = gate.primaryMetric;
  const sign = gate.direction === "higher" ? 1 : -1;
  const criteria: Criterion[] = [];
  const value = candidate.status === "succeeded" ? metricValue(candidate.metrics, metric) : null;
  const base = {
    candidateVersion: candidate.version,
    baselineVersion: production?.version ?? null,
  };

  const ok = candidate.status === "succeeded" && candidate.metrics !== null;
  criteria.push(
    criterion({
      ...base,
      name: "evaluation",
      code: ok
        ? "evaluated"
        : candidate.status === "failed"
          ? "evaluation_failed"
          : candidate.status === "succeeded"
            ? "evaluation_without_metrics"
            : "evaluation_unfinished",
      pass: ok,
      value: null,
      threshold: null,
      comparison: null,
      metric: null,
      candidate: null,
      baseline: null,
      evaluation: {
        id: candidate.evaluationId,
        status: candidate.status,
        error: candidate.error ?? null,
      },
    }),
  );
  const rows = candidate.rowCount ?? 0;
  criteria.push(
    criterion({
      ...base,
      name: "minDatasetRows",
      code: rows >= gate.minDatasetRows ? "enough_rows" : "too_few_rows",
      pass: rows >= gate.minDatasetRows,
      value: rows,
      threshold: gate.minDatasetRows,
      comparison: "at_least",
      metric: null,
      candidate: null,
      baseline: null,
    }),
  );
  criteria.push(
    criterion({
      ...base,
      name: "primaryMetric",
      code: value !== null ? "metric_computed" : "metric_missing",
      pass: value !== null,
      value,
      threshold: null,
      comparison: null,
      metric,
      candidate: value,
      baseline: null,
    }),
  );

  const prodValue =
    production && production.status === "succeeded"
      ? metricValue(production.metrics, metric)
      : null;
  const compared = { ...base, metric, candidate: value, baseline: prodValue };
  if (!production) {
    criteria.push(
      criterion({
        ...compared,
        name: "absoluteImprovement",
        code: "no_production",
        pass: true,
        value: null,
        threshold: gate.minAbsoluteImprovement,
        comparison: "at_least",
      }),
      criterion({
        ...compared,
        name: "relativeImprovement",
        code: "no_production",
        pass: true,
        value: null,
        threshold: gate.minRelativeImprovementPct,
        comparison: "at_least",
      }),
    );
    if (gate.maxLatencyRegressionPct !== null) {
      criteria.push(
        criterion({
          ...compared,
          name: "latencyRegression",
          code: "no_production",
          pass: true,
          value: null,
          threshold: gate.maxLatencyRegressionPct,
          comparison: "at_most",
          metric: null,
          candidate: null,
        }),
      );
    }
  } else if (prodValue === null) {
    criteria.push(
      criterion({
        ...compared,
        name: "absoluteImprovement",
        code: "production_not_comparable",
        pass: false,
        value: null,
        threshold: gate.minAbsoluteImprovement,
        comparison: "at_least",
        baselineStatus: production.status,
      }),
    );
  } else if (value !== null) {
    const delta = sign * (value - prodValue);
    const absPass = delta > 0 && delta >= gate.minAbsoluteImprovement;
    criteria.push(
      criterion({
        ...compared,
        name: "absoluteImprovement",
        code:
          delta === 0
            ? "tie"
            : delta < 0
              ? "worse"
              : absPass
                ? "improved"
                : "improvement_too_small",
        pass: absPass,
        value: delta,
        threshold: gate.minAbsoluteImprovement,
        comparison: "at_least",
      }),
    );
    if (prodValue === 0) {
      criteria.push(
        criterion({
          ...compared,
          name: "relativeImprovement",
          code: "relative_undefined",
          pass: delta > 0,
          value: null,
          threshold: gate.minRelativeImprovementPct,
          comparison: "at_least",
        }),
      );
    } else {
      const pct = (delta / Math.abs(prodValue)) * 100;
      const relPass = delta > 0 && pct >= gate.minRelativeImprovementPct;
      criteria.push(
        criterion({
          ...compared,
          name: "relativeImprovement",
          code: relPass ? "relative_improved" : "relative_too_small",
          pass: relPass,
          value: pct,
          threshold: gate.minRelativeImprovementPct,
          comparison: "at_least",
        }),
      );
    }
  }
  if (production && gate.maxLatencyRegressionPct !== null) {
    const cand = candidate.latency?.batch1?.p95Ms ?? null;
    const prod = production.latency?.batch1?.p95Ms ?? null;
    const latency = {
      ...base,
      name: "latencyRegression" as const,
      threshold: gate.maxLatencyRegressionPct,
      comparison: "at_most" as const,
      metric: null,
      candidate: cand,
      baseline: prod,
    };
    if (cand === null || prod === null || !(prod > 0)) {
      criteria.push(
        criterion({ ...latency, code: "latency_unmeasured", pass: false, value: null }),
      );
    } else {
      const pct = ((cand - prod) / prod) * 100;
      const pass = pct <= gate.maxLatencyRegressionPct;
      criteria.push(
        criterion({
          ...latency,
          code: pass ? "latency_within" : "latency_regressed",
          pass,
          value: pct,
        }),
      );
    }
  }
  return {
    version: candidate.version,
    evaluationId: candidate.evaluationId,
    pass: criteria.every((c) => c.pass),
    value,
    criteria,
  };
}

/** The sentence a decision's code and facts say. */
export function decisionReason(code: DecisionCode, f: DecisionFacts): string {
  const label = METRICS[f.metric].label;
  const keep =
    f.productionVersion !== null
      ? `production stays on v${f.productionVersion}`
      : "nothing is promoted";
  switch (code) {
    case "no_candidates":
      return f.source === "challenger"
        ? `No challenger to evaluate; ${keep}.`
        : f.source === "newer-than-production"
          ? `No version is newer than production; ${keep}.`
          : `No candidate to evaluate; ${keep}.`;
    case "none_passed":
      return `No candidate passes the gate (${f.failures.map((x) => `v${x.version}: ${x.criterion.message}`).join("; ")}); ${keep}.`;
    case "promote": {
      const others = f.passingCount > 1 ? ` (best of ${f.passingCount} passing candidates)` : "";
      return f.productionVersion !== null
        ? `Promote v${f.winnerVersion}${others}: ${label} ${fmt(f.productionValue)} → ${fmt(f.winnerValue)} over production v${f.productionVersion}, every gate criterion passes.`
        : `Promote v${f.winnerVersion}${others}: ${label} ${fmt(f.winnerValue)}; there was no production version.`;
    }
  }
}

/**
 * Applies `gate` to each candidate against `production` (null when nothing is in
 * production yet). Among the candidates that pass every criterion, the best primary metric
 * wins; ties go to the lower p95 latency, then to the newer version. A candidate that fails
 * any criterion is never promoted, and nothing is promoted when production's own evaluation
 * did not succeed (there would be nothing to compare with).
 */
export function decidePromotion<S extends GateSubject>(
  gate: GateConfig,
  production: S | null,
  candidates: S[],
  source: CandidateSource = "given",
): PromotionDecision<S> {
  const results = candidates.map((c) => ({
    subject: c,
    result: evaluateCandidate(gate, production, c),
  }));
  const sign = gate.direction === "higher" ? 1 : -1;
  const passing = results
    .filter((r) => r.result.pass)
    .sort((a, b) => {
      const byMetric = sign * (b.result.value! - a.result.value!);
      if (byMetric !== 0) return byMetric;
      const la = a.subject.latency?.batch1?.p95Ms ?? Infinity;
      const lb = b.subject.latency?.batch1?.p95Ms ?? Infinity;
      if (la !== lb) return la - lb;
      return b.subject.version - a.subject.version;
    });
  const criteria = results.map((r) => r.result);
  const winner = passing[0] ?? null;
  const facts: DecisionFacts = {
    metric: gate.primaryMetric,
    source,
    productionVersion: production?.version ?? null,
    productionValue: production ? metricValue(production.metrics, gate.primaryMetric) : null,
    winnerVersion: winner?.subject.version ?? null,
    winnerValue: winner?.result.value ?? null,
    passingCount: passing.length,
    failures: winner
      ? []
      : criteria.map((c) => ({ version: c.version, criterion: c.criteria.find((x) => !x.pass)! })),
  };
  const code: DecisionCode =
    candidates.length === 0 ? "no_candidates" : winner ? "promote" : "none_passed";
  return {
    promote: winner?.subject ?? null,
    criteria,
    code,
    facts,
    reason: decisionReason(code, facts),
  };
}

/** The decision when there was nothing to evaluate: production itself need not be evaluated. */
export function noCandidatesDecision(
  gate: GateConfig,
  productionVersion: number | null,
  source: CandidateSource,
): PromotionDecision<never> {
  const facts: DecisionFacts = {
    metric: gate.primaryMetric,
    source,
    productionVersion,
    productionValue: null,
    winnerVersion: null,
    winnerValue: null,
    passingCount: 0,
    failures: [],
  };
  return {
    promote: null,
    criteria: [],
    code: "no_candidates",
    facts,
    reason: decisionReason("no_candidates", facts),
  };
}
