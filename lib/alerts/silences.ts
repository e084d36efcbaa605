import { z } from "zod";
import { conflict, notFound } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import type { PrismaClient } from "../db/generated/client";
import { invalid, isValidModelName, UUID_PATTERN } from "../registry/names";
import { TX_OPTIONS, type Tx } from "../registry/shared";
import { ALERT_SEVERITIES, type AlertSeverity } from "./definitions";
import { notifyAlertEvent } from "./notify";

/**
 * Silences mute the notifications (webhooks) of matching alerts until they expire; the
 * alerts still change state and show on the Alerts page, marked silenced. A silence matches
 * an alert when every matcher it sets (rule, model, severity) equals the alert's.
 */
export const MAX_SILENCE_SECONDS = 90 * 24 * 3600;

export const silenceInputSchema = z
  .object({
    ruleId: z.string().regex(UUID_PATTERN, "must be an alert rule id").nullable().optional(),
    model: z.string().min(1).max(63).nullable().optional(),
    severity: z
      .enum(ALERT_SEVERITIES, { error: "must be info, warning or critical" })
      .nullable()
      .optional(),
    comment: z
      .string({ error: "is required: say why the alerts are silenced" })
      .trim()
      .min(1, "is required: say why the alerts are silenced")
      .max(2000, "must be at most 2000 characters"),
    endsAt: z.iso.datetime({ offset: true, error: "must be an ISO date-time (the expiry)" }),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.ruleId && !s.model && !s.severity) {
      ctx.addIssue({
        code: "custom",
        path: ["ruleId"],
        message: "a silence needs at least one matcher: a rule, a model or a severity",
      });
    }
  });
export type SilenceInput = z.input<typeof silenceInputSchema>;

export type SilenceView = {
  id: string;
  rule: { id: string; name: string } | null;
  model: { id: string; name: string } | null;
  severity: AlertSeverity | null;
  comment: string;
  startsAt: string;
  endsAt: string;
  /** active | expired (by time or by someone) */
  status: "active" | "expired";
  expiredAt: string | null;
  expiredBy: string | null;
  createdAt: string;
  createdBy: { type: string; id: string | null; label: string };
};

type SilenceRow = {
  id: string;
  ruleId: string | null;
  modelId: string | null;
  severity: AlertSeverity | null;
  comment: string;
  startsAt: Date;
  endsAt: Date;
  createdAt: Date;
  createdByType: string;
  createdById: string | null;
  createdByLabel: string;
  expiredAt: Date | null;
  expiredByLabel: string | null;
  rule: { id: string; name: string } | null;
};

async function modelsById(db: Pick<Tx, "model">, ids: string[]) {
  const rows = ids.length
    ? await db.model.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })
    : [];
  return new Map(rows.map((r) => [r.id, r]));
}

function toSilenceView(
  row: SilenceRow,
  models: Map<string, { id: string; name: string }>,
  now: Date,
): SilenceView {
  const active = !row.expiredAt && row.startsAt <= now && row.endsAt > now;
  return {
    id: row.id,
    rule: row.rule,
    model: row.modelId ? (models.get(row.modelId) ?? { id: row.modelId, name: "(deleted)" }) : null,
    severity: row.severity,
    comment: row.comment,
    startsAt: row.startsAt.toISOString(),
    endsAt: row.endsAt.toISOString(),
    status: active ? "active" : "expired",
    expiredAt: row.expiredAt?.toISOString() ?? null,
    expiredBy: row.expiredByLabel,
    createdAt: row.createdAt.toISOString(),
    createdBy: { type: row.createdByType, id: row.createdById, label: row.createdByLabel },
  };
}

const silenceInclude = { rule: { select: { id: true, name: true } } } as const;

/** The active silence matching an alert, if any (the oldest, so the choice is stable). */
export async function activeSilenceFor(
  tx: Pick<Tx, "alertSilence">,
  alert: { ruleId: string; modelId: string; severity: AlertSeverity; at: Date },
): Promise<{ id: string } | null> {
  return tx.alertSilence.findFirst({
    where: {
      expiredAt: null,
      startsAt: { lte: alert.at },
      endsAt: { gt: alert.at },
      AND: [
        { OR: [{ ruleId: null }, { ruleId: alert.ruleId }] },
        { OR: [{ modelId: null }, { modelId: alert.modelId }] },
        { OR: [{ severity: null }, { severity: alert.severity }] },
      ],
    },
    orderBy: { createdAt: "asc" },
    select: { id: true },
  });
}

export async function createSilence(
  db: PrismaClient,
  actor: Actor,
  input: SilenceInput,
  ipAddress?: string | null,
  now = new Date(),
): Promise<SilenceView> {
  const parsed = silenceInputSchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((i) => ({
        field: i.path.map(String).join(".") || "(root)",
        message: i.message,
      })),
    );
  }
  const s = parsed.data;
  const endsAt = new Date(s.endsAt);
  if (endsAt <= now) throw invalid([{ field: "endsAt", message: "must be in the future" }]);
  if (endsAt.getTime() - now.getTime() > MAX_SILENCE_SECONDS * 1000) {
    throw invalid([{ field: "endsAt", message: "must be at most 90 days from now" }]);
  }
  const rule = s.ruleId
    ? await db.alertRule.findUnique({ where: { id: s.ruleId }, select: { id: true } })
    : null;
  if (s.ruleId && !rule) throw invalid([{ field: "ruleId", message: "names no alert rule" }]);
  const model = s.model
    ? isValidModelName(s.model)
      ? await db.model.findUnique({ where: { name: s.model }, select: { id: true, name: true } })
      : null
    : null;
  if (s.model && !model) {
    throw invalid([
      { field: "model", message: `names no registered model (${JSON.stringify(s.model)})` },
    ]);
  }
  return db.$transaction(async (tx) => {
    const row = await tx.alertSilence.create({
      data: {
        ruleId: rule?.id ?? null,
        modelId: model?.id ?? null,
        severity: s.severity ?? null,
        comment: s.comment,
        startsAt: now,
        endsAt,
        createdByType: actor.type,
        createdById: actor.id ?? null,
        createdByLabel: actor.label,
      },
      include: silenceInclude,
    });
    await recordAudit(tx, {
      actor,
      action: "alert_silence.create",
      resourceType: "alert_silence",
      resourceId: row.id,
      after: {
        ruleId: row.ruleId,
        model: model?.name ?? null,
        severity: row.severity,
        comment: row.comment,
        endsAt: row.endsAt,
      },
      ipAddress,
    });
    await notifyAlertEvent(tx, {
      type: "silence.created",
      ruleId: row.ruleId,
      modelId: row.modelId,
    });
    return toSilenceView(row, await modelsById(tx, model ? [model.id] : []), now);
  }, TX_OPTIONS);
}

/** Ends a silence now (409 when it already ended). */
export async function expireSilence(
  db: PrismaClient,
  actor: Actor,
  id: string,
  ipAddress?: string | null,
): Promise<SilenceView> {
  if (!UUID_PATTERN.test(id)) throw notFound(`Silence ${JSON.stringify(id)}`);
  return db.$transaction(async (tx) => {
    const now = new Date();
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM alert_silence WHERE id = ${id}::uuid FOR UPDATE`;
    if (!locked[0]) throw notFound(`Silence ${JSON.stringify(id)}`);
    const current = await tx.alertSilence.findUniqueOrThrow({ where: { id } });
    if (current.expiredAt || current.endsAt <= now)
      throw conflict("This silence has already expired.");
    const row = await tx.alertSilence.update({
      where: { id },
      data: { expiredAt: now, expiredByLabel: actor.label },
      include: silenceInclude,
    });
    await recordAudit(tx, {
      actor,
      action: "alert_silence.expire",
      resourceType: "alert_silence",
      resourceId: id,
      before: { endsAt: current.endsAt },
      after: { expiredAt: now },
      ipAddress,
    });
    await notifyAlertEvent(tx, {
      type: "silence.expired",
      ruleId: row.ruleId,
      modelId: row.modelId,
    });
    return toSilenceView(row, await modelsById(tx, row.modelId ? [row.modelId] : []), now);
  }, TX_OPTIONS);
}

/** Active silences first (soonest to end first), then the most recently ended. */
export async function listSilences(
  db: PrismaClient,
  filter: { status?: "active" | "expired" } = {},
  now = new Date(),
): Promise<SilenceView[]> {
  const activeWhere = { expiredAt: null, startsAt: { lte: now }, endsAt: { gt: now } };
  const [active, ended] = await Promise.all([
    filter.status === "expired"
      ? []
      : db.alertSilence.findMany({
          where: activeWhere,
          include: silenceInclude,
          orderBy: { endsAt: "asc" },
        }),
    filter.status === "active"
      ? []
      : db.alertSilence.findMany({
          where: { NOT: activeWhere },
          include: silenceInclude,
          orderBy: { endsAt: "desc" },
          take: 50,
        }),
  ]);
  const rows = [...active, ...ended];
  const models = await modelsById(db, [
    ...new Set(rows.flatMap((r) => (r.modelId ? [r.modelId] : []))),
  ]);
  return rows.map((r) => toSilenceView(r, models, now));
}
