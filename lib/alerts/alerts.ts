import { z } from "zod";
import { conflict, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { publishEvent } from "../notifications/events";
import { invalid, isValidModelName, UUID_PATTERN } from "../registry/names";
import { TX_OPTIONS } from "../registry/shared";
import {
  METRIC_DEFINITIONS,
  type AlertComparison,
  type AlertMetric,
  type AlertSeverity,
  type AlertState,
} from "./definitions";
import { alertPayload } from "./evaluator";
import { notifyAlertEvent } from "./notify";
import { scopeLabel } from "./rules";
import { activeSilenceFor } from "./silences";

/** Alerts (episodes of rules) as the Alerts page and GET /alerts show them, and their ack. */

export type AlertView = {
  id: string;
  state: AlertState;
  severity: AlertSeverity;
  rule: {
    id: string;
    name: string;
    metric: AlertMetric;
    comparison: AlertComparison;
    scope: string;
    unit: string;
  };
  model: { id: string; name: string };
  version: number | null;
  value: number | null;
  threshold: number;
  startedAt: string;
  firingSince: string | null;
  endedAt: string | null;
  lastEvaluatedAt: string;
  acknowledged: { at: string; by: string; comment: string | null } | null;
  /** A silence matching it now: its webhooks are muted. */
  silencedBy: { id: string; endsAt: string; comment: string } | null;
};

export type AlertTransitionView = {
  id: string;
  alertId: string;
  ruleId: string;
  ruleName: string;
  model: string;
  severity: AlertSeverity;
  from: AlertState | null;
  to: AlertState;
  at: string;
  value: number | null;
  threshold: number;
  reason: string;
  silenced: boolean;
};

const alertInclude = {
  rule: {
    select: {
      id: true,
      name: true,
      metric: true,
      comparison: true,
      version: true,
      alias: true,
      model: { select: { id: true, name: true } },
    },
  },
} satisfies Prisma.AlertInclude;
type AlertRow = Prisma.AlertGetPayload<{ include: typeof alertInclude }>;

const OPEN: AlertState[] = ["pending", "firing"];
const STATE_ORDER: Record<AlertState, number> = { firing: 0, pending: 1, resolved: 2, inactive: 3 };
const SEVERITY_ORDER: Record<AlertSeverity, number> = { critical: 0, warning: 1, info: 2 };

async function toAlertViews(db: PrismaClient, rows: AlertRow[], now: Date): Promise<AlertView[]> {
  const silences = await db.alertSilence.findMany({
    where: { expiredAt: null, startsAt: { lte: now }, endsAt: { gt: now } },
    orderBy: { createdAt: "asc" },
  });
  return rows.map((r) => {
    const open = r.state === "pending" || r.state === "firing";
    const silence = open
      ? silences.find(
          (s) =>
            (s.ruleId === null || s.ruleId === r.ruleId) &&
            (s.modelId === null || s.modelId === r.modelId) &&
            (s.severity === null || s.severity === r.severity),
        )
      : undefined;
    const metric = r.rule.metric as AlertMetric;
    return {
      id: r.id,
      state: r.state,
      severity: r.severity,
      rule: {
        id: r.rule.id,
        name: r.rule.name,
        metric,
        comparison: r.rule.comparison as AlertComparison,
        scope: scopeLabel(r.rule),
        unit: METRIC_DEFINITIONS[metric]?.unit ?? "",
      },
      model: r.rule.model,
      version: r.version,
      value: r.value,
      threshold: r.threshold,
      startedAt: r.startedAt.toISOString(),
      firingSince: r.firingSince?.toISOString() ?? null,
      endedAt: r.endedAt?.toISOString() ?? null,
      lastEvaluatedAt: r.lastEvaluatedAt.toISOString(),
      acknowledged: r.acknowledgedAt
        ? {
            at: r.acknowledgedAt.toISOString(),
            by: r.acknowledgedByLabel ?? "",
            comment: r.ackComment,
          }
        : null,
      silencedBy: silence
        ? { id: silence.id, endsAt: silence.endsAt.toISOString(), comment: silence.comment }
        : null,
    };
  });
}

/**
 * Open alerts (firing, then pending; by severity) followed by the most recent closed ones,
 * and the latest transitions for the timeline.
 */
export async function listAlerts(
  db: PrismaClient,
  filter: { model?: string; state?: AlertState; limit?: number } = {},
  now = new Date(),
): Promise<{ alerts: AlertView[]; transitions: AlertTransitionView[] }> {
  const limit = filter.limit ?? 50;
  const model =
    filter.model !== undefined
      ? isValidModelName(filter.model)
        ? await db.model.findUnique({ where: { name: filter.model }, select: { id: true } })
        : null
      : undefined;
  if (model === null) throw notFound(`Model ${JSON.stringify(filter.model)}`);
  const byModel = model ? { modelId: model.id } : {};
  const [open, closed, transitions] = await Promise.all([
    filter.state && !OPEN.includes(filter.state)
      ? []
      : db.alert.findMany({
          where: { ...byModel, state: filter.state ? filter.state : { in: OPEN } },
          include: alertInclude,
        }),
    filter.state && OPEN.includes(filter.state)
      ? []
      : db.alert.findMany({
          where: { ...byModel, state: filter.state ? filter.state : { notIn: OPEN } },
          include: alertInclude,
          orderBy: { endedAt: "desc" },
          take: limit,
        }),
    db.alertTransition.findMany({
      where: byModel,
      orderBy: { id: "desc" },
      take: limit,
      include: {
        alert: {
          select: {
            severity: true,
            rule: { select: { name: true, model: { select: { name: true } } } },
          },
        },
      },
    }),
  ]);
  open.sort(
    (a, b) =>
      STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.startedAt.getTime() - b.startedAt.getTime(),
  );
  return {
    alerts: await toAlertViews(db, [...open, ...closed], now),
    transitions: transitions.map((t) => ({
      id: t.id.toString(),
      alertId: t.alertId,
      ruleId: t.ruleId,
      ruleName: t.alert.rule.name,
      model: t.alert.rule.model.name,
      severity: t.alert.severity,
      from: t.fromState,
      to: t.toState,
      at: t.at.toISOString(),
      value: t.value,
      threshold: t.threshold,
      reason: t.reason,
      silenced: t.silenced,
    })),
  };
}

/** Firing alerts per model (for the badges), optionally one model's. */
export async function countFiringAlerts(db: PrismaClient, modelId?: string): Promise<number> {
  return db.alert.count({ where: { state: "firing", ...(modelId ? { modelId } : {}) } });
}

export const ackInputSchema = z
  .object({
    comment: z
      .string({ error: "is required: say who is looking into it, or why it can wait" })
      .trim()
      .min(1, "is required: say who is looking into it, or why it can wait")
      .max(2000, "must be at most 2000 characters"),
  })
  .strict();

/**
 * Acknowledges an open alert: someone is on it. It keeps its state and keeps being
 * evaluated; the acknowledgement (author, comment, time) stays with the episode.
 */
export async function acknowledgeAlert(
  db: PrismaClient,
  actor: Actor,
  id: string,
  input: z.input<typeof ackInputSchema>,
  ipAddress?: string | null,
): Promise<AlertView> {
  const parsed = ackInputSchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((i) => ({ field: "comment", message: i.message })));
  }
  const { comment } = parsed.data;
  if (!UUID_PATTERN.test(id)) throw notFound(`Alert ${JSON.stringify(id)}`);
  const now = new Date();
  await db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ ruleId: string }[]>`
      SELECT "ruleId"::text AS "ruleId" FROM alert WHERE id = ${id}::uuid`;
    if (!locked[0]) throw notFound(`Alert ${JSON.stringify(id)}`);
    // The rule's lock: the evaluator changes this alert under it.
    await tx.$queryRaw`SELECT 1 FROM alert_rule WHERE id = ${locked[0].ruleId}::uuid FOR UPDATE`;
    const alert = await tx.alert.findUniqueOrThrow({
      where: { id },
      include: { rule: { include: { model: { select: { name: true } } } } },
    });
    if (alert.state !== "pending" && alert.state !== "firing") {
      throw conflict(
        `This alert is ${alert.state}; only pending or firing alerts can be acknowledged.`,
      );
    }
    if (alert.acknowledgedAt) {
      throw conflict(`Already acknowledged by ${alert.acknowledgedByLabel ?? "someone"}.`);
    }
    await tx.alert.update({
      where: { id },
      data: {
        acknowledgedAt: now,
        acknowledgedByType: actor.type,
        acknowledgedById: actor.id ?? null,
        acknowledgedByLabel: actor.label,
        ackComment: comment,
      },
    });
    await recordAudit(tx, {
      actor,
      action: "alert.acknowledge",
      resourceType: "alert",
      resourceId: id,
      after: { state: alert.state, comment, ruleId: alert.ruleId },
      ipAddress,
    });
    await notifyAlertEvent(tx, {
      type: "alert.acknowledged",
      alertId: id,
      ruleId: alert.ruleId,
      modelId: alert.modelId,
    });
    const silence = await activeSilenceFor(tx, { ...alert, at: now });
    if (!silence) {
      await publishEvent(tx, {
        type: "alert.acknowledged",
        payload: {
          ...alertPayload({
            state: alert.state,
            alertId: id,
            rule: { ...alert.rule, modelName: alert.rule.model.name },
            value: alert.value,
            version: alert.version,
            reason: "acknowledged",
            at: now,
          }),
          acknowledged: { by: actor.label, comment, at: now.toISOString() },
        },
      });
    }
  }, TX_OPTIONS);
  const row = await db.alert.findUniqueOrThrow({ where: { id }, include: alertInclude });
  return (await toAlertViews(db, [row], new Date()))[0]!;
}
