import { z } from "zod";
import { recordAudit, type Actor } from "../audit";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { notifyModelEvent } from "../registry/events";
import { invalid } from "../registry/names";
import { lockModel, TX_OPTIONS, type Tx } from "../registry/shared";
import { describeZodIssues } from "../api/errors";

/**
 * Per-model serving settings: dynamic batching and prediction-log sampling. Stored as JSON on
 * the model row (only the fields a person changed; the rest follow the defaults), read by
 * every serving instance when it loads the model and after each `model.updated` event.
 */
export const servingSettingsSchema = z
  .object({
    /** Requests whose rows add up to at most this many are run in one onnxruntime call. */
    maxBatchSize: z.number().int().min(1).max(4096),
    /**
     * How long a request may wait for others to join its batch, in microseconds. 0 (the
     * default) never waits: a request runs at once when the model is idle, and requests that
     * arrive while a batch runs are coalesced into the next one, so light traffic pays
     * nothing and heavy traffic is batched anyway.
     */
    maxQueueDelayMicros: z.number().int().min(0).max(1_000_000),
    /** Requests waiting beyond this many get 503 with Retry-After (never an unbounded queue). */
    maxQueueLength: z.number().int().min(1).max(100_000),
    /** Share of requests whose inputs and outputs are stored in the prediction log (0…1). */
    payloadSampleRate: z.number().min(0).max(1),
  })
  .strict();

export type ServingSettings = z.infer<typeof servingSettingsSchema>;

export const DEFAULT_SERVING_SETTINGS: ServingSettings = {
  maxBatchSize: 64,
  maxQueueDelayMicros: 0,
  maxQueueLength: 2048,
  payloadSampleRate: 0.1,
};

export const servingSettingsPatchSchema = servingSettingsSchema.partial().strict();
export type ServingSettingsPatch = z.infer<typeof servingSettingsPatchSchema>;

/** The effective settings from what is stored (unknown or invalid stored keys fall back). */
export function effectiveServingSettings(stored: unknown): ServingSettings {
  const merged: Record<string, unknown> = { ...DEFAULT_SERVING_SETTINGS };
  if (stored && typeof stored === "object" && !Array.isArray(stored)) {
    for (const [key, value] of Object.entries(stored)) {
      if (!(key in DEFAULT_SERVING_SETTINGS)) continue;
      const field = servingSettingsSchema.shape[key as keyof ServingSettings];
      if (field.safeParse(value).success) merged[key] = value;
    }
  }
  return merged as ServingSettings;
}

export async function getServingSettings(
  db: Pick<PrismaClient, "model">,
  modelName: string,
): Promise<ServingSettings | null> {
  const row = await db.model.findUnique({
    where: { name: modelName },
    select: { servingSettings: true },
  });
  return row ? effectiveServingSettings(row.servingSettings) : null;
}

/**
 * Changes a model's serving settings, with its audit entry and a `model.updated` event (which
 * makes every serving instance re-read them) in one transaction. Returns the new effective
 * settings; a patch that changes nothing writes nothing.
 */
export async function updateServingSettings(
  db: PrismaClient,
  actor: Actor,
  modelName: string,
  patch: ServingSettingsPatch,
  ipAddress?: string | null,
): Promise<ServingSettings> {
  const parsed = servingSettingsPatchSchema.safeParse(patch);
  if (!parsed.success) throw invalid(describeZodIssues(parsed.error));
  return db.$transaction(async (tx: Tx) => {
    const model = await lockModel(tx, { name: modelName });
    const row = await tx.model.findUniqueOrThrow({
      where: { id: model.id },
      select: { servingSettings: true },
    });
    const before = effectiveServingSettings(row.servingSettings);
    const after = { ...before, ...parsed.data };
    const changed = (Object.keys(after) as (keyof ServingSettings)[]).filter(
      (k) => after[k] !== before[k],
    );
    if (changed.length === 0) return before;
    await tx.model.update({
      where: { id: model.id },
      data: { servingSettings: after as Prisma.InputJsonValue },
    });
    await notifyModelEvent(tx, {
      type: "model.updated",
      modelId: model.id,
      model: model.name,
      alias: null,
      version: null,
      versionId: null,
      actor: actor.label,
      at: new Date().toISOString(),
    });
    await recordAudit(tx, {
      actor,
      action: "model.serving.update",
      resourceType: "model",
      resourceId: model.id,
      before: Object.fromEntries(changed.map((k) => [k, before[k]])),
      after: Object.fromEntries(changed.map((k) => [k, after[k]])),
      ipAddress,
    });
    return after;
  }, TX_OPTIONS);
}
