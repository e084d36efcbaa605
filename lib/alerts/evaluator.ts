import type { PrismaClient } from "../db/generated/client";
import type { Logger } from "../log";
import { publishEvent } from "../notifications/events";
import { TX_OPTIONS, type Tx } from "../registry/shared";
import {
  COMPARISON_SYMBOLS,
  formatMetricValue,
  METRIC_DEFINITIONS,
  type AlertComparison,
  type AlertMetric,
  type AlertSeverity,
} from "./definitions";
import { notifyAlertEvent } from "./notify";
import { scopeLabel } from "./rules";
import { activeSilenceFor } from "./silences";
import { applyStateMachine, INITIAL_STATE, type MachineState } from "./state-machine";
import { readMetric } from "./values";

/**
 * One evaluation of every alert rule (the scheduler's `alert-evaluation` system task, on one
 * replica per fire). Each rule is read, judged by the state machine and written on its own:
 * a transition, its history row, the NOTIFY and the webhook deliveries commit together
 * under the rule's row lock, so a concurrent evaluation or edit cannot interleave.
 */
export type EvaluationSummary = {
  evaluated: number;
  transitions: { ruleId: string; alertId: string; from: string; to: string }[];
};

export async function evaluateAlertRules(
  db: PrismaClient,
  options: { now?: Date; log?: Logger; signal?: AbortSignal } = {},
): Promise<EvaluationSummary> {
  const now = options.now ?? new Date();
  // Disabled rules with an open alert are evaluated once more, to close it.
  const rules = await db.alertRule.findMany({
    where: {
      OR: [{ enabled: true }, { alerts: { some: { state: { in: ["pending", "firing"] } } } }],
    },
    select: { id: true },
    orderBy: { id: "asc" },
  });
  const summary: EvaluationSummary = { evaluated: 0, transitions: [] };
  for (const { id } of rules) {
    if (options.signal?.aborted) break;
    try {
      const t = await evaluateRule(db, id, now);
      summary.evaluated++;
      if (t) summary.transitions.push(t);
    } catch (error) {
      // One broken rule must not stop the others.
      options.log?.warn({ err: error, ruleId: id }, "alert rule evaluation failed");
    }
  }
  return summary;
}

export async function evaluateRule(
  db: PrismaClient,
  ruleId: string,
  now: Date,
): Promise<EvaluationSummary["transitions"][number] | null> {
  const rule = await db.alertRule.findUnique({
    where: { id: ruleId },
    include: { model: { select: { name: true } } },
  });
  if (!rule) return null;
  const metric = rule.metric as AlertMetric;
  // Read outside the transaction: the lock is held only for the writes.
  const reading = rule.enabled
    ? await readMetric(db, { ...rule, metric }, now)
    : { value: null, version: null };

  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM alert_rule WHERE id = ${rule.id}::uuid FOR UPDATE`;
    if (!locked[0]) return null; // deleted meanwhile
    // Re-read under the lock: an edit that committed meanwhile decides (threshold, enabled).
    const current = await tx.alertRule.findUniqueOrThrow({ where: { id: rule.id } });
    const open = await tx.alert.findFirst({
      where: { ruleId: rule.id, state: { in: ["pending", "firing"] } },
      orderBy: { startedAt: "desc" },
    });
    const prev: MachineState = open
      ? {
          state: open.state as "pending" | "firing",
          startedAt: open.startedAt,
          firingSince: open.firingSince,
          lastBreachAt: open.lastBreachAt,
        }
      : INITIAL_STATE;
    const { next, transition } = applyStateMachine(
      prev,
      { at: now, value: reading.value },
      {
        comparison: current.comparison as AlertComparison,
        threshold: current.threshold,
        forSeconds: current.forSeconds,
        keepFiringForSeconds: current.keepFiringForSeconds,
        enabled: current.enabled,
      },
    );
    await tx.alertRule.update({
      where: { id: rule.id },
      data: { lastEvaluatedAt: now, lastValue: reading.value },
    });

    const measured = {
      lastEvaluatedAt: now,
      value: reading.value,
      threshold: current.threshold,
      version: reading.version,
      lastBreachAt: next.lastBreachAt,
    };
    if (!transition) {
      if (open) await tx.alert.update({ where: { id: open.id }, data: measured });
      return null;
    }

    const closing = next.state === "resolved" || next.state === "inactive";
    const alert = open
      ? await tx.alert.update({
          where: { id: open.id },
          data: {
            ...measured,
            state: next.state,
            firingSince: next.firingSince,
            ...(closing ? { endedAt: now } : {}),
          },
        })
      : await tx.alert.create({
          data: {
            ...measured,
            ruleId: rule.id,
            modelId: rule.modelId,
            state: next.state,
            severity: current.severity,
            startedAt: next.startedAt ?? now,
            firingSince: next.firingSince,
          },
        });
    const silence = await activeSilenceFor(tx, {
      ruleId: rule.id,
      modelId: rule.modelId,
      severity: alert.severity as AlertSeverity,
      at: now,
    });
    const def = METRIC_DEFINITIONS[metric];
    const reason =
      transition.reason === "rule disabled"
        ? "rule disabled"
        : `${def.label} ${formatMetricValue(metric, reading.value)} ` +
          `${COMPARISON_SYMBOLS[current.comparison as AlertComparison]} ` +
          `${formatMetricValue(metric, current.threshold)}: ${transition.reason}`;
    await tx.alertTransition.create({
      data: {
        alertId: alert.id,
        ruleId: rule.id,
        modelId: rule.modelId,
        fromState: transition.from,
        toState: transition.to,
        at: now,
        value: reading.value,
        threshold: current.threshold,
        reason,
        silenced: silence !== null,
        silenceId: silence?.id ?? null,
      },
    });
    await announce(tx, {
      state: next.state,
      alertId: alert.id,
      rule: { ...current, modelName: rule.model.name },
      value: reading.value,
      version: reading.version,
      reason,
      at: now,
      silenced: silence !== null,
    });
    return { ruleId: rule.id, alertId: alert.id, from: transition.from, to: transition.to };
  }, TX_OPTIONS);
}

/** NOTIFY for live pages always; webhooks only when no silence matches. */
async function announce(tx: Tx, e: AlertAnnouncement & { silenced: boolean }): Promise<void> {
  await notifyAlertEvent(tx, {
    type: `alert.${e.state}`,
    alertId: e.alertId,
    ruleId: e.rule.id,
    modelId: e.rule.modelId,
  });
  // A pending episode that cleared never alerted anyone: nothing to tell webhooks.
  if (e.silenced || e.state === "inactive") return;
  await publishEvent(tx, {
    type: `alert.${e.state}` as "alert.pending" | "alert.firing" | "alert.resolved",
    payload: alertPayload(e),
  });
}

/** One alert transition as told to live pages and webhooks. */
export type AlertAnnouncement = {
  state: string;
  alertId: string;
  rule: {
    id: string;
    name: string;
    modelId: string;
    modelName: string;
    metric: string;
    comparison: string;
    threshold: number;
    severity: string;
    version: number | null;
    alias: string | null;
  };
  value: number | null;
  version: number | null;
  reason: string;
  at: Date;
};

export function alertPayload(e: AlertAnnouncement): Record<string, unknown> {
  return {
    alertId: e.alertId,
    state: e.state,
    at: e.at.toISOString(),
    severity: e.rule.severity,
    rule: {
      id: e.rule.id,
      name: e.rule.name,
      metric: e.rule.metric,
      comparison: e.rule.comparison,
      threshold: e.rule.threshold,
      scope: scopeLabel(e.rule),
    },
    model: { id: e.rule.modelId, name: e.rule.modelName, version: e.version },
    value: e.value,
    reason: e.reason,
  };
}
