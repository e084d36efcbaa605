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

export type Criterion = {
  name:
    | "evaluation"
    | "minDatasetRows"
    | "primaryMetric"
    | "absoluteImprovement"
    | "relativeImprovement"
    | "latencyRegression";
  value: number | null;
  threshold: number | null;
  pass: boolean;
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

export type PromotionDecision<S extends GateSubject = GateSubject> = {
  /** The candidate to promote, or null: production stays. */
  promote: S | null;
  criteria: CandidateCriteria[];
  reason: string;
};

const fmt = (n: number | null | undefined, digits = 4) =>
  n === null || n === undefined || !Number.isFinite(n) ? "—" : String(+n.toFixed(digits));
const signed = (n: number, digits = 4) => `${n >= 0 ? "+" : ""}${fmt(n, digits)}`;

function evaluateCandidate(
  gate: GateConfig,
  production: GateSubject | null,
  candidate: GateSubject,
): CandidateCriteria {
  const metric = gate.primaryMetric;
  const label = METRICS[metric].label;
  const sign = gate.direction === "higher" ? 1 : -1;
  const criteria: Criterion[] = [];
  const value = candidate.status === "succeeded" ? metricValue(candidate.metrics, metric) : null;

  const ok = candidate.status === "succeeded" && candidate.metrics !== null;
  criteria.push({
    name: "evaluation",
    value: null,
    threshold: null,
    pass: ok,
    message: ok
      ? `v${candidate.version} was evaluated (evaluation ${candidate.evaluationId.slice(0, 8)})`
      : `v${candidate.version}'s evaluation ${candidate.status === "failed" ? `failed${candidate.error ? `: ${candidate.error}` : ""}` : `is ${candidate.status}`}`,
  });
  const rows = candidate.rowCount ?? 0;
  criteria.push({
    name: "minDatasetRows",
    value: rows,
    threshold: gate.minDatasetRows,
    pass: rows >= gate.minDatasetRows,
    message:
      rows >= gate.minDatasetRows
        ? `${rows} rows ≥ ${gate.minDatasetRows} required`
        : `only ${rows} rows; the gate needs at least ${gate.minDatasetRows}`,
  });
  criteria.push({
    name: "primaryMetric",
    value,
    threshold: null,
    pass: value !== null,
    message:
      value !== null
        ? `${label} ${fmt(value)}`
        : `${label} was not computed for v${candidate.version}`,
  });

  const prodValue =
    production && production.status === "succeeded"
      ? metricValue(production.metrics, metric)
      : null;
  if (!production) {
    criteria.push(
      {
        name: "absoluteImprovement",
        value: null,
        threshold: gate.minAbsoluteImprovement,
        pass: true,
        message: "no production version yet: nothing to improve on",
      },
      {
        name: "relativeImprovement",
        value: null,
        threshold: gate.minRelativeImprovementPct,
        pass: true,
        message: "no production version yet",
      },
    );
    if (gate.maxLatencyRegressionPct !== null) {
      criteria.push({
        name: "latencyRegression",
        value: null,
        threshold: gate.maxLatencyRegressionPct,
        pass: true,
        message: "no production version yet",
      });
    }
  } else if (prodValue === null) {
    const why =
      production.status === "succeeded"
        ? `${label} was not computed for production v${production.version}`
        : `production v${production.version}'s evaluation ${production.status === "failed" ? "failed" : `is ${production.status}`}`;
    criteria.push({
      name: "absoluteImprovement",
      value: null,
      threshold: gate.minAbsoluteImprovement,
      pass: false,
      message: `${why}: cannot compare`,
    });
  } else if (value !== null) {
    const delta = sign * (value - prodValue);
    const absPass = delta > 0 && delta >= gate.minAbsoluteImprovement;
    criteria.push({
      name: "absoluteImprovement",
      value: delta,
      threshold: gate.minAbsoluteImprovement,
      pass: absPass,
      message:
        delta === 0
          ? `${label} ${fmt(value)} ties production v${production.version} (${fmt(prodValue)}): not an improvement`
          : delta < 0
            ? `${label} ${fmt(value)} is worse than production v${production.version} (${fmt(prodValue)})`
            : absPass
              ? `${label} improves by ${fmt(delta)} on production v${production.version} (${fmt(prodValue)} → ${fmt(value)}); at least ${fmt(gate.minAbsoluteImprovement)} required`
              : `${label} improves by only ${fmt(delta)} (${fmt(prodValue)} → ${fmt(value)}); the gate needs at least ${fmt(gate.minAbsoluteImprovement)}`,
    });
    if (prodValue === 0) {
      criteria.push({
        name: "relativeImprovement",
        value: null,
        threshold: gate.minRelativeImprovementPct,
        pass: delta > 0,
        message: `production's ${label} is 0, so a relative change is undefined; ${delta > 0 ? "any improvement passes" : "no improvement"}`,
      });
    } else {
      const pct = (delta / Math.abs(prodValue)) * 100;
      const relPass = delta > 0 && pct >= gate.minRelativeImprovementPct;
      criteria.push({
        name: "relativeImprovement",
        value: pct,
        threshold: gate.minRelativeImprovementPct,
        pass: relPass,
        message: relPass
          ? `${signed(pct, 2)}% relative improvement; at least ${fmt(gate.minRelativeImprovementPct, 2)}% required`
          : `${signed(pct, 2)}% relative change; the gate needs at least +${fmt(gate.minRelativeImprovementPct, 2)}%`,
      });
    }
  }
  if (production && gate.maxLatencyRegressionPct !== null) {
    const cand = candidate.latency?.batch1?.p95Ms ?? null;
    const prod = production.latency?.batch1?.p95Ms ?? null;
    if (cand === null || prod === null || !(prod > 0)) {
      criteria.push({
        name: "latencyRegression",
        value: null,
        threshold: gate.maxLatencyRegressionPct,
        pass: false,
        message: "p95 latency at batch 1 was not measured for both versions",
      });
    } else {
      const pct = ((cand - prod) / prod) * 100;
      const pass = pct <= gate.maxLatencyRegressionPct;
      criteria.push({
        name: "latencyRegression",
        value: pct,
        threshold: gate.maxLatencyRegressionPct,
        pass,
        message: `p95 latency ${fmt(prod, 3)} → ${fmt(cand, 3)} ms (${signed(pct, 1)}%); at most +${fmt(gate.maxLatencyRegressionPct, 1)}% allowed`,
      });
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
): PromotionDecision<S> {
  const label = METRICS[gate.primaryMetric].label;
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
  const keep = production ? `production stays on v${production.version}` : "nothing is promoted";
  if (candidates.length === 0) {
    return { promote: null, criteria, reason: `No candidate to evaluate; ${keep}.` };
  }
  const winner = passing[0];
  if (!winner) {
    const why = criteria
      .map((c) => {
        const failed = c.criteria.find((x) => !x.pass)!;
        return `v${c.version}: ${failed.message}`;
      })
      .join("; ");
    return { promote: null, criteria, reason: `No candidate passes the gate (${why}); ${keep}.` };
  }
  const prodValue = production ? metricValue(production.metrics, gate.primaryMetric) : null;
  const others = passing.length > 1 ? ` (best of ${passing.length} passing candidates)` : "";
  return {
    promote: winner.subject,
    criteria,
    reason: production
      ? `Promote v${winner.subject.version}${others}: ${label} ${fmt(prodValue)} → ${fmt(winner.result.value)} over production v${production.version}, every gate criterion passes.`
      : `Promote v${winner.subject.version}${others}: ${label} ${fmt(winner.result.value)}; there was no production version.`,
  };
}
