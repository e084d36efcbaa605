import { ApiError } from "../api/errors";
import { recordAudit, type Actor } from "../audit";
import type { PrismaClient } from "../db/generated/client";
import { getModel } from "../registry";
import { check } from "../registry/names";
import { defaultGate, gateSchema, type GateConfig, type GateInput } from "./gate";
import { METRICS, type MetricName } from "./metrics";
import type { ActorRef } from "./types";

/** A model's gate as stored (or the default when it has none). */
export type GateView = GateConfig & {
  model: string;
  /** true: the model has no gate of its own; this is what applies. */
  isDefault: boolean;
  updatedAt: string | null;
  updatedBy: ActorRef | null;
};

export async function getGate(db: PrismaClient, modelName: string): Promise<GateView> {
  const model = await getModel(db, modelName);
  const row = await db.modelGate.findUnique({ where: { modelId: model.id } });
  if (!row) {
    return {
      ...defaultGate(model.task),
      model: model.name,
      isDefault: true,
      updatedAt: null,
      updatedBy: null,
    };
  }
  return {
    primaryMetric: row.primaryMetric as MetricName,
    direction: row.direction as GateConfig["direction"],
    minAbsoluteImprovement: row.minAbsoluteImprovement,
    minRelativeImprovementPct: row.minRelativeImprovementPct,
    maxLatencyRegressionPct: row.maxLatencyRegressionPct,
    minDatasetRows: row.minDatasetRows,
    model: model.name,
    isDefault: false,
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: { type: row.updatedByType, id: row.updatedById, label: row.updatedByLabel },
  };
}

/**
 * Sets a model's gate (audited as gate.update with the previous and new policy). The
 * metric must suit the model's task; the direction defaults to the metric's own.
 */
export async function setGate(
  db: PrismaClient,
  actor: Actor,
  modelName: string,
  input: GateInput,
  ipAddress?: string | null,
): Promise<GateView> {
  const parsed = check(gateSchema, input, "gate");
  const model = await getModel(db, modelName);
  const metric = METRICS[parsed.primaryMetric];
  if (model.task !== "other" && metric.task !== model.task) {
    throw new ApiError(
      "validation_failed",
      `Invalid request: primaryMetric ${parsed.primaryMetric} is a ${metric.task} metric, but ${model.name} is a ${model.task} model.`,
      { fields: [{ field: "primaryMetric", message: `is a ${metric.task} metric` }] },
    );
  }
  const gate: GateConfig = { ...parsed, direction: parsed.direction ?? metric.direction };
  const before = await getGate(db, modelName);
  const actorFields = {
    updatedByType: actor.type,
    updatedById: actor.id ?? null,
    updatedByLabel: actor.label,
  };
  await db.$transaction(async (tx) => {
    await tx.modelGate.upsert({
      where: { modelId: model.id },
      create: { modelId: model.id, ...gate, ...actorFields },
      update: { ...gate, ...actorFields },
    });
    const strip = ({ model: _m, isDefault: _d, updatedAt: _u, updatedBy: _b, ...rest }: GateView) =>
      rest;
    await recordAudit(tx, {
      actor,
      action: "gate.update",
      resourceType: "model",
      resourceId: model.id,
      before: before.isDefault
        ? { model: model.name, gate: null }
        : { model: model.name, gate: strip(before) },
      after: { model: model.name, gate },
      ipAddress,
    });
  });
  return getGate(db, modelName);
}
