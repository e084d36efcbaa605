import type { Actor } from "../audit";
import type { Role } from "../auth/roles";
import { getDatasetVersion } from "../datasets/datasets";
import type { PrismaClient } from "../db/generated/client";
import { AliasMovedError, getModel, listVersions, resolveVersion, setAlias } from "../registry";
import type { ArtifactStore } from "../storage";
import { evaluateVersion } from "./evaluations";
import {
  decidePromotion,
  noCandidatesDecision,
  type CandidateCriteria,
  type DecisionCode,
  type GateConfig,
  type GateSubject,
} from "./gate";
import { getGate } from "./gates";
import { METRICS, metricValue } from "./metrics";
import type { EvaluationView } from "./types";

/** Candidates evaluated per call at most (the newest ones): bounds the work of one run. */
export const MAX_CANDIDATES = 10;

export type EvaluateAndPromoteInput = {
  modelName: string;
  datasetName: string;
  /** Default: the dataset's newest version (pinned at the start, so all see the same rows). */
  datasetVersion?: number | null;
  /** Versions newer than production (ready ones), or the version the `challenger` alias names. */
  candidates: "newer-than-production" | "challenger";
  /** Who promotes (a job's actor). Needs models:promote; without a role, operator is assumed. */
  actor: Actor & { role?: Role };
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Recorded on each evaluation (e.g. the job run's id); trigger defaults to "job". */
  trigger?: { kind: "manual" | "job"; ref?: string | null };
  timeoutMs?: number;
  latencyRuns?: number;
  /**
   * Runs after the gate chose a winner, right before production is moved (compare-and-set
   * against the production this run evaluated). Tests land a manual promotion here.
   */
  beforeMove?: () => Promise<void>;
};

/** Why the run ended as it did: the gate's decision, or what happened when it acted on it. */
export type EvaluateAndPromoteCode = DecisionCode | "approval_requested" | "production_moved";

export type EvaluateAndPromoteResult = {
  /**
   * promoted: production now points at `promotedVersion`. kept: it does not (no candidate
   * passed, nothing to evaluate, or the model needs approval: see `promotionRequestId`).
   * conflict: the gate chose a winner, but production had moved since this run read it, so
   * nothing changed (see `conflict`).
   */
  decision: "promoted" | "kept" | "conflict";
  code: EvaluateAndPromoteCode;
  promotedVersion: number | null;
  /** production when the run started (null: none). */
  productionVersion: number | null;
  /** Every evaluation this run recorded, production's first. */
  evaluations: string[];
  criteria: CandidateCriteria[];
  reason: string;
  gate: GateConfig & { isDefault: boolean };
  dataset: { name: string; version: number };
  /** Set when the model requires approval: the move became this pending request. */
  promotionRequestId: string | null;
  /** Set on a conflict: the winner, and production as evaluated and as found at the move. */
  conflict: {
    winnerVersion: number;
    expectedVersion: number | null;
    currentVersion: number | null;
  } | null;
};

const vLabel = (v: number | null) => (v === null ? "nothing" : `v${v}`);

type Subject = GateSubject & { view: EvaluationView | null };

function toSubject(version: number, view: EvaluationView): Subject {
  return {
    version,
    evaluationId: view.id,
    status: view.status,
    metrics: view.metrics,
    latency: view.latency,
    rowCount: view.rowCount,
    error: view.error,
    view,
  };
}

/**
 * The building block of the "evaluate and promote" refresh job: evaluates production and
 * the candidates on one dataset version, applies the model's gate (decidePromotion), and
 * promotes the best passing candidate with setAlias, naming the evaluation and the metric
 * in the alias history. A candidate that fails any criterion is never promoted; nothing is
 * promoted either when production itself could not be evaluated.
 */
export async function evaluateAndPromote(
  db: PrismaClient,
  store: ArtifactStore,
  input: EvaluateAndPromoteInput,
): Promise<EvaluateAndPromoteResult> {
  const { log } = input;
  const model = await getModel(db, input.modelName);
  const gateView = await getGate(db, model.name);
  const { model: _m, updatedAt: _u, updatedBy: _b, ...gate } = gateView;
  const dataset = await getDatasetVersion(db, input.datasetName, input.datasetVersion ?? null);
  const datasetRef = { name: dataset.dataset, version: dataset.version };
  const production = model.productionVersion;
  const label = METRICS[gate.primaryMetric].label;
  log(
    `model ${model.name}: production ${production === null ? "not set" : `v${production}`}; dataset ${dataset.dataset} v${dataset.version} (${dataset.rowCount} rows); gate ${gate.isDefault ? "(default) " : ""}${label} ${gate.direction === "higher" ? "↑" : "↓"}`,
  );

  let candidateVersions: number[];
  if (input.candidates === "challenger") {
    const challenger = await resolveVersion(db, model.name, "challenger").catch(() => null);
    candidateVersions = challenger && challenger.version !== production ? [challenger.version] : [];
    if (!challenger) log("no challenger alias is set");
    else if (challenger.version === production)
      log(`challenger is v${challenger.version}, which is production`);
  } else {
    const ready = await listVersions(db, model.name, { status: "ready" });
    candidateVersions = ready
      .map((v) => v.version)
      .filter((v) => production === null || v > production)
      .sort((a, b) => a - b)
      .slice(-MAX_CANDIDATES);
  }
  log(
    candidateVersions.length === 0
      ? "no candidates"
      : `candidates: ${candidateVersions.map((v) => `v${v}`).join(", ")}`,
  );

  const base = {
    productionVersion: production,
    gate,
    dataset: datasetRef,
    promotionRequestId: null,
    conflict: null,
  };
  if (candidateVersions.length === 0) {
    const decision = noCandidatesDecision(gate, production, input.candidates);
    return {
      ...base,
      decision: "kept",
      code: decision.code,
      promotedVersion: null,
      evaluations: [],
      criteria: [],
      reason: decision.reason,
    };
  }

  const evaluationIds: string[] = [];
  const evaluate = async (version: number): Promise<Subject> => {
    input.signal?.throwIfAborted();
    try {
      const view = await evaluateVersion(db, store, input.actor, {
        modelName: model.name,
        version,
        datasetName: dataset.dataset,
        datasetVersion: dataset.version,
        trigger: input.trigger ?? { kind: "job" },
        signal: input.signal,
        timeoutMs: input.timeoutMs,
        latencyRuns: input.latencyRuns,
        log,
      });
      evaluationIds.push(view.id);
      const value = metricValue(view.metrics, gate.primaryMetric);
      log(
        view.status === "succeeded"
          ? `v${version}: ${label} ${value === null ? "not computed" : +value.toFixed(4)}, p95 ${view.latency ? +view.latency.batch1.p95Ms.toFixed(3) : "—"} ms (evaluation ${view.id})`
          : `v${version}: evaluation failed: ${view.error}`,
      );
      return toSubject(version, view);
    } catch (error) {
      input.signal?.throwIfAborted();
      // Not evaluable at all (e.g. the dataset does not fit this version's inputs).
      const message = error instanceof Error ? error.message : String(error);
      log(`v${version}: not evaluated: ${message}`);
      return {
        version,
        evaluationId: "",
        status: "failed",
        metrics: null,
        latency: null,
        rowCount: null,
        error: message,
        view: null,
      };
    }
  };

  const productionSubject = production === null ? null : await evaluate(production);
  const subjects: Subject[] = [];
  for (const v of candidateVersions) subjects.push(await evaluate(v));
  // A cancellation during the last evaluation surfaces here, not as a "kept" decision.
  input.signal?.throwIfAborted();
  const decision = decidePromotion(gate, productionSubject, subjects, input.candidates);
  log(decision.reason);
  if (!decision.promote) {
    return {
      ...base,
      decision: "kept",
      code: decision.code,
      promotedVersion: null,
      evaluations: evaluationIds,
      criteria: decision.criteria,
      reason: decision.reason,
    };
  }

  input.signal?.throwIfAborted();
  const winner = decision.promote;
  const winnerValue = metricValue(winner.metrics, gate.primaryMetric);
  const prodValue = productionSubject
    ? metricValue(productionSubject.metrics, gate.primaryMetric)
    : null;
  const aliasReason =
    `Evaluate-and-promote: evaluation ${winner.evaluationId} on ${dataset.dataset} v${dataset.version}: ${label} ` +
    (prodValue === null
      ? `${winnerValue?.toFixed(4)} (no production before)`
      : `${prodValue.toFixed(4)} (v${production}) → ${winnerValue?.toFixed(4)} (v${winner.version})`) +
    "; gate passed.";
  await input.beforeMove?.();
  input.signal?.throwIfAborted();
  let moved;
  try {
    // Compare-and-set: only if production is still the version this run evaluated against.
    moved = await setAlias(
      db,
      { ...input.actor, role: input.actor.role ?? "operator" },
      {
        modelName: model.name,
        alias: "production",
        version: winner.version,
        reason: aliasReason,
        expectedVersion: production,
      },
    );
  } catch (error) {
    if (!(error instanceof AliasMovedError)) throw error;
    const reason = `The gate chose v${winner.version}, but production moved from ${vLabel(production)} to ${vLabel(error.currentVersion)} while this run evaluated; nothing was changed.`;
    log(reason);
    return {
      ...base,
      decision: "conflict",
      code: "production_moved",
      promotedVersion: null,
      evaluations: evaluationIds,
      criteria: decision.criteria,
      reason,
      conflict: {
        winnerVersion: winner.version,
        expectedVersion: production,
        currentVersion: error.currentVersion,
      },
    };
  }
  if (moved.outcome === "requested") {
    const reason = `${decision.reason} The model requires approval: promotion request ${moved.request.id} is pending.`;
    log(reason);
    return {
      ...base,
      decision: "kept",
      code: "approval_requested",
      promotedVersion: null,
      evaluations: evaluationIds,
      criteria: decision.criteria,
      reason,
      promotionRequestId: moved.request.id,
    };
  }
  log(`production → v${winner.version}`);
  return {
    ...base,
    decision: "promoted",
    code: decision.code,
    promotedVersion: winner.version,
    evaluations: evaluationIds,
    criteria: decision.criteria,
    reason: decision.reason,
  };
}
