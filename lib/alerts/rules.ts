import { z } from "zod";
import { notFound, type FieldProblem } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import type { Prisma, PrismaClient } from "../db/generated/client";
import {
  aliasNameSchema,
  descriptionSchema,
  invalid,
  isValidModelName,
  UUID_PATTERN,
} from "../registry/names";
import { TX_OPTIONS, type Tx } from "../registry/shared";
import {
  ALERT_COMPARISONS,
  ALERT_METRICS,
  ALERT_SEVERITIES,
  METRIC_DEFINITIONS,
  type AlertComparison,
  type AlertMetric,
  type AlertSeverity,
  type AlertState,
} from "./definitions";
import { notifyAlertEvent } from "./notify";

/**
 * Alert rules: validated here (the API contract reuses these schemas), created, edited and
 * deleted each in one transaction with its audit entry.
 */

export const MIN_WINDOW_SECONDS = 60;
export const MAX_WINDOW_SECONDS = 30 * 24 * 3600;
export const MAX_HOLD_SECONDS = 7 * 24 * 3600;

const seconds = (field: string, min: number, max: number, minText: string) =>
  z
    .number({ error: `${field} must be a number of seconds` })
    .int("must be a whole number of seconds")
    .min(min, minText)
    .max(max, `must be at most ${max} seconds`);

/** The fields of a rule, each checked on its own; `checkRuleCombination` checks them together. */
export const alertRuleFields = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(120, "must be at most 120 characters"),
    description: descriptionSchema.optional(),
    model: z.string().min(1).max(63),
    version: z.number().int().min(1, "must be a version number (1 or more)").nullable().optional(),
    alias: aliasNameSchema.nullable().optional(),
    metric: z.enum(ALERT_METRICS, { error: `must be one of ${ALERT_METRICS.join(", ")}` }),
    windowSeconds: seconds(
      "windowSeconds",
      MIN_WINDOW_SECONDS,
      MAX_WINDOW_SECONDS,
      "must be at least 60 seconds (1 minute): metrics are rolled up per minute",
    ),
    comparison: z.enum(ALERT_COMPARISONS, {
      error: "must be gt (>), gte (≥), lt (<) or lte (≤)",
    }),
    threshold: z.number({ error: "must be a number" }).finite("must be a finite number"),
    forSeconds: seconds("forSeconds", 0, MAX_HOLD_SECONDS, "must be 0 or more").optional(),
    keepFiringForSeconds: seconds(
      "keepFiringForSeconds",
      0,
      MAX_HOLD_SECONDS,
      "must be 0 or more",
    ).optional(),
    severity: z.enum(ALERT_SEVERITIES, { error: "must be info, warning or critical" }),
    enabled: z.boolean().optional(),
  })
  .strict();

export type AlertRuleInput = z.input<typeof alertRuleFields>;
export type AlertRuleUpdate = Partial<AlertRuleInput>;

/** Checks that need several fields at once (and no database). */
export function checkRuleCombination(rule: {
  metric: AlertMetric;
  threshold: number;
  version?: number | null;
  alias?: string | null;
}): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const def = METRIC_DEFINITIONS[rule.metric];
  if (rule.version != null && rule.alias != null) {
    problems.push({
      field: "alias",
      message: "give either a version number or an alias as the scope, not both",
    });
  }
  if (!def.versionScoped && (rule.version != null || rule.alias != null)) {
    problems.push({
      field: rule.version != null ? "version" : "alias",
      message: `${rule.metric} counts the model's job runs; it cannot be scoped to a version or alias`,
    });
  }
  if (rule.threshold < def.min || (def.max !== undefined && rule.threshold > def.max)) {
    problems.push({
      field: "threshold",
      message:
        def.max !== undefined
          ? `must be between ${def.min} and ${def.max} for ${rule.metric} (${def.unit})`
          : `must be ${def.min} or more for ${rule.metric} (${def.unit})`,
    });
  }
  return problems;
}

/** The create body: fields plus their combination (the API contract's body schema). */
export const alertRuleInputSchema = alertRuleFields.superRefine((rule, ctx) => {
  for (const p of checkRuleCombination(rule)) {
    ctx.addIssue({ code: "custom", path: [p.field], message: p.message });
  }
});

export const alertRuleUpdateSchema = alertRuleFields.partial().strict();

export type AlertRuleView = {
  id: string;
  name: string;
  description: string;
  model: { id: string; name: string; task: string };
  version: number | null;
  alias: string | null;
  /** "all versions", "version 3", "alias production" */
  scope: string;
  metric: AlertMetric;
  unit: string;
  windowSeconds: number;
  comparison: AlertComparison;
  threshold: number;
  forSeconds: number;
  keepFiringForSeconds: number;
  severity: AlertSeverity;
  enabled: boolean;
  /** The open alert's state, or inactive / resolved after the last episode. */
  state: AlertState;
  openAlertId: string | null;
  lastEvaluatedAt: string | null;
  lastValue: number | null;
  createdAt: string;
  updatedAt: string;
  createdBy: { type: string; id: string | null; label: string };
  updatedBy: { type: string; id: string | null; label: string };
};

export const scopeLabel = (r: { version: number | null; alias: string | null }) =>
  r.version != null ? `version ${r.version}` : r.alias ? `alias ${r.alias}` : "all versions";

export const ruleInclude = {
  model: { select: { id: true, name: true, task: true } },
  alerts: {
    orderBy: { startedAt: "desc" },
    take: 1,
    select: { id: true, state: true },
  },
} satisfies Prisma.AlertRuleInclude;

type RuleRow = Prisma.AlertRuleGetPayload<{ include: typeof ruleInclude }>;

export function toRuleView(row: RuleRow): AlertRuleView {
  const latest = row.alerts[0];
  const open = latest && (latest.state === "pending" || latest.state === "firing");
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    model: { id: row.model.id, name: row.model.name, task: row.model.task },
    version: row.version,
    alias: row.alias,
    scope: scopeLabel(row),
    metric: row.metric as AlertMetric,
    unit: METRIC_DEFINITIONS[row.metric as AlertMetric]?.unit ?? "",
    windowSeconds: row.windowSeconds,
    comparison: row.comparison as AlertComparison,
    threshold: row.threshold,
    forSeconds: row.forSeconds,
    keepFiringForSeconds: row.keepFiringForSeconds,
    severity: row.severity,
    enabled: row.enabled,
    state: latest?.state ?? "inactive",
    openAlertId: open ? latest.id : null,
    lastEvaluatedAt: row.lastEvaluatedAt?.toISOString() ?? null,
    lastValue: row.lastValue,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    createdBy: { type: row.createdByType, id: row.createdById, label: row.createdByLabel },
    updatedBy: { type: row.updatedByType, id: row.updatedById, label: row.updatedByLabel },
  };
}

/** What the audit log keeps of a rule. */
function auditShape(row: {
  name: string;
  description: string;
  modelId: string;
  version: number | null;
  alias: string | null;
  metric: string;
  windowSeconds: number;
  comparison: string;
  threshold: number;
  forSeconds: number;
  keepFiringForSeconds: number;
  severity: string;
  enabled: boolean;
}) {
  return {
    name: row.name,
    description: row.description,
    modelId: row.modelId,
    version: row.version,
    alias: row.alias,
    metric: row.metric,
    windowSeconds: row.windowSeconds,
    comparison: row.comparison,
    threshold: row.threshold,
    forSeconds: row.forSeconds,
    keepFiringForSeconds: row.keepFiringForSeconds,
    severity: row.severity,
    enabled: row.enabled,
  };
}

function parseOrInvalid<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalid(
    parsed.error.issues.map((i) => ({
      field: i.path.map(String).join(".") || "(root)",
      message: i.message,
    })),
  );
}

/** The model a rule names, with the checks that need it (task, version exists). */
async function checkModelScope(
  db: Pick<Tx, "model" | "modelVersion">,
  rule: { model: string; metric: AlertMetric; version?: number | null },
): Promise<{ id: string; name: string }> {
  const model = isValidModelName(rule.model)
    ? await db.model.findUnique({
        where: { name: rule.model },
        select: { id: true, name: true, task: true },
      })
    : null;
  if (!model) {
    throw invalid([
      { field: "model", message: `names no registered model (${JSON.stringify(rule.model)})` },
    ]);
  }
  const needs = METRIC_DEFINITIONS[rule.metric].task;
  if (needs && model.task !== needs) {
    throw invalid([
      {
        field: "metric",
        message: `${rule.metric} needs a ${needs} model; ${model.name} is a ${model.task} model`,
      },
    ]);
  }
  if (rule.version != null) {
    const exists = await db.modelVersion.findUnique({
      where: { modelId_version: { modelId: model.id, version: rule.version } },
      select: { id: true },
    });
    if (!exists) {
      throw invalid([
        { field: "version", message: `${model.name} has no version ${rule.version}` },
      ]);
    }
  }
  return model;
}

async function lockRule(tx: Tx, id: string) {
  const rows = UUID_PATTERN.test(id)
    ? await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text AS id FROM alert_rule WHERE id = ${id}::uuid FOR UPDATE`
    : [];
  if (!rows[0]) throw notFound(`Alert rule ${JSON.stringify(id)}`);
  return tx.alertRule.findUniqueOrThrow({ where: { id }, include: { model: true } });
}

export async function createAlertRule(
  db: PrismaClient,
  actor: Actor,
  input: AlertRuleInput,
  ipAddress?: string | null,
): Promise<AlertRuleView> {
  const rule = parseOrInvalid(alertRuleInputSchema, input);
  const model = await checkModelScope(db, rule);
  return db.$transaction(async (tx) => {
    const now = new Date();
    const row = await tx.alertRule.create({
      data: {
        name: rule.name,
        description: rule.description ?? "",
        modelId: model.id,
        version: rule.version ?? null,
        alias: rule.alias ?? null,
        metric: rule.metric,
        windowSeconds: rule.windowSeconds,
        comparison: rule.comparison,
        threshold: rule.threshold,
        forSeconds: rule.forSeconds ?? 0,
        keepFiringForSeconds: rule.keepFiringForSeconds ?? 0,
        severity: rule.severity,
        enabled: rule.enabled ?? true,
        updatedAt: now,
        createdByType: actor.type,
        createdById: actor.id ?? null,
        createdByLabel: actor.label,
        updatedByType: actor.type,
        updatedById: actor.id ?? null,
        updatedByLabel: actor.label,
      },
      include: ruleInclude,
    });
    await recordAudit(tx, {
      actor,
      action: "alert_rule.create",
      resourceType: "alert_rule",
      resourceId: row.id,
      after: { ...auditShape(row), model: model.name },
      ipAddress,
    });
    await notifyAlertEvent(tx, { type: "rule.created", ruleId: row.id, modelId: model.id });
    return toRuleView(row);
  }, TX_OPTIONS);
}

/** Edits a rule; fields left out keep their value; a call that changes nothing writes nothing. */
export async function updateAlertRule(
  db: PrismaClient,
  actor: Actor,
  id: string,
  input: AlertRuleUpdate,
  ipAddress?: string | null,
): Promise<AlertRuleView> {
  const patch = parseOrInvalid(alertRuleUpdateSchema, input);
  return db.$transaction(async (tx) => {
    const current = await lockRule(tx, id);
    const merged = parseOrInvalid(alertRuleInputSchema, {
      name: current.name,
      description: current.description,
      model: current.model.name,
      version: current.version,
      alias: current.alias,
      metric: current.metric,
      windowSeconds: current.windowSeconds,
      comparison: current.comparison,
      threshold: current.threshold,
      forSeconds: current.forSeconds,
      keepFiringForSeconds: current.keepFiringForSeconds,
      severity: current.severity,
      enabled: current.enabled,
      // A new version scope replaces an alias scope and the other way round.
      ...(patch.version != null ? { alias: null } : {}),
      ...(patch.alias != null ? { version: null } : {}),
      ...patch,
    });
    const model = await checkModelScope(tx, merged);
    const next = {
      name: merged.name,
      description: merged.description ?? "",
      modelId: model.id,
      version: merged.version ?? null,
      alias: merged.alias ?? null,
      metric: merged.metric,
      windowSeconds: merged.windowSeconds,
      comparison: merged.comparison,
      threshold: merged.threshold,
      forSeconds: merged.forSeconds ?? 0,
      keepFiringForSeconds: merged.keepFiringForSeconds ?? 0,
      severity: merged.severity,
      enabled: merged.enabled ?? true,
    };
    const old = auditShape(current);
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(next)) {
      const was = (old as Record<string, unknown>)[key];
      if (JSON.stringify(was) !== JSON.stringify(value)) {
        before[key] = was;
        after[key] = value;
      }
    }
    if (Object.keys(after).length > 0) {
      await tx.alertRule.update({
        where: { id: current.id },
        data: {
          ...next,
          updatedAt: new Date(),
          updatedByType: actor.type,
          updatedById: actor.id ?? null,
          updatedByLabel: actor.label,
        },
      });
      await recordAudit(tx, {
        actor,
        action: "alert_rule.update",
        resourceType: "alert_rule",
        resourceId: current.id,
        before,
        after,
        ipAddress,
      });
      await notifyAlertEvent(tx, { type: "rule.updated", ruleId: current.id, modelId: model.id });
    }
    return toRuleView(
      await tx.alertRule.findUniqueOrThrow({ where: { id: current.id }, include: ruleInclude }),
    );
  }, TX_OPTIONS);
}

/** Deletes a rule with its alerts, transitions and rule-scoped silences. */
export async function deleteAlertRule(
  db: PrismaClient,
  actor: Actor,
  id: string,
  ipAddress?: string | null,
): Promise<{ deleted: true; id: string }> {
  return db.$transaction(async (tx) => {
    const current = await lockRule(tx, id);
    await tx.alertRule.delete({ where: { id: current.id } });
    await recordAudit(tx, {
      actor,
      action: "alert_rule.delete",
      resourceType: "alert_rule",
      resourceId: current.id,
      before: { ...auditShape(current), model: current.model.name },
      ipAddress,
    });
    await notifyAlertEvent(tx, {
      type: "rule.deleted",
      ruleId: current.id,
      modelId: current.modelId,
    });
    return { deleted: true as const, id: current.id };
  }, TX_OPTIONS);
}

export async function getAlertRule(db: PrismaClient, id: string): Promise<AlertRuleView> {
  const row = UUID_PATTERN.test(id)
    ? await db.alertRule.findUnique({ where: { id }, include: ruleInclude })
    : null;
  if (!row) throw notFound(`Alert rule ${JSON.stringify(id)}`);
  return toRuleView(row);
}

export async function listAlertRules(
  db: PrismaClient,
  filter: { model?: string } = {},
): Promise<AlertRuleView[]> {
  const rows = await db.alertRule.findMany({
    where: filter.model ? { model: { name: filter.model } } : {},
    include: ruleInclude,
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  return rows.map(toRuleView);
}
