import { notFound } from "../api/errors";
import { getConfig } from "../config";
import type { PrismaClient } from "../db/generated/client";
import type { SystemTask } from "../jobs/system-tasks";
import type { Logger } from "../log";
import { isValidModelName } from "../registry/names";
import { utcParam } from "./blocks";
import { addToPendingTally, joinPendingFeedback } from "./feedback";
import { uuidV7Floor } from "./retention";
import { resolveRange } from "./series";

/**
 * The life of pending feedback (ground truth for a request id not logged yet, see
 * lib/monitoring/feedback.ts) after it was stored: the scheduler's sweep joins what serving
 * and the feedback call both missed (a process that died between its commit and its look),
 * then deletes what has waited longer than the window without its prediction, counting it
 * in pending_feedback_tally. `feedbackStats` reports all of it.
 */

export type PendingSweepResult = { joined: number; rejected: number; expired: number };

/** Rows deleted per expiry statement (each its own short transaction). */
const EXPIRE_BATCH = 5_000;
/** Join transactions per sweep at most (5,000 rows each); the next run goes on. */
const MAX_JOIN_ROUNDS = 20;

export async function sweepPendingFeedback(
  db: PrismaClient,
  options: { windowMs: number; now?: Date; signal?: AbortSignal },
): Promise<PendingSweepResult> {
  const result: PendingSweepResult = { joined: 0, rejected: 0, expired: 0 };
  for (let round = 0; round < MAX_JOIN_ROUNDS && !options.signal?.aborted; round++) {
    const joined = await joinPendingFeedback(db);
    result.joined += joined.joined;
    result.rejected += joined.rejected;
    if (joined.examined === 0) break;
  }
  const cutoff = (options.now ?? new Date()).getTime() - options.windowMs;
  // A row whose prediction is logged is never expired here (it is joined instead); a row
  // sent again meanwhile has a new receivedAt, which the outer WHERE re-checks once it has
  // waited for that row's lock.
  for (let i = 0; i < 200 && !options.signal?.aborted; i++) {
    const expired = await db.$transaction(async (tx) => {
      const n = await tx.$executeRawUnsafe(
        `DELETE FROM pending_feedback p
          WHERE p."requestId" = ANY(ARRAY(
                  SELECT "requestId" FROM pending_feedback
                   WHERE "receivedAt" < ${utcParam(1)} ORDER BY "receivedAt" LIMIT $2))
            AND p."receivedAt" < ${utcParam(1)}
            AND NOT EXISTS (SELECT 1 FROM prediction_log l WHERE l."requestId" = p."requestId")`,
        cutoff,
        EXPIRE_BATCH,
      );
      await addToPendingTally(tx, { expired: n });
      return n;
    });
    result.expired += expired;
    if (expired < EXPIRE_BATCH) break;
  }
  return result;
}

/**
 * The scheduler's pending-feedback task: every 30 s, on one replica. Joining is normally
 * done by serving within a log flush; this is the backstop, and the expiry.
 */
export function pendingFeedbackTask(deps: {
  db: PrismaClient;
  log: Logger;
  windowMs: number;
}): SystemTask {
  return {
    name: "pending-feedback",
    schedule: "20,50 * * * * *",
    leaseMs: 5 * 60_000,
    run: async ({ at, signal }) => {
      const result = await sweepPendingFeedback(deps.db, {
        windowMs: deps.windowMs,
        now: at,
        signal,
      });
      if (result.joined + result.rejected + result.expired > 0) {
        deps.log.info(result, "pending feedback swept");
      }
    },
  };
}

export type FeedbackStats = {
  model: string;
  from: string;
  to: string;
  /** This model's predictions served in the range that have ground truth. */
  labelled: {
    requests: number;
    rows: number;
    /** Of those, feedback that arrived before its prediction was logged and waited for it. */
    joinedLate: number;
  };
  /** Feedback waiting for its prediction now; its model is not known until it is logged. */
  pending: { count: number; oldestReceivedAt: string | null; windowSeconds: number };
  /** What became of pending feedback in the range, over all models. */
  resolved: { joined: number; rejected: number; expired: number };
};

/**
 * Feedback figures for the model page (GET /api/v1/models/{name}/feedback): this model's
 * labelled predictions served in the range and the installation's pending feedback, which
 * belongs to no model until its prediction is logged.
 */
export async function feedbackStats(
  db: PrismaClient,
  modelName: string,
  query: { from?: string; to?: string },
  options: { windowMs?: number; now?: number } = {},
): Promise<FeedbackStats> {
  const windowMs = options.windowMs ?? getConfig().feedbackPendingMs;
  const model = isValidModelName(modelName)
    ? await db.model.findUnique({ where: { name: modelName }, select: { id: true, name: true } })
    : null;
  if (!model) throw notFound(`Model ${JSON.stringify(modelName)}`);
  const { fromMs, toMs } = resolveRange(query, options.now ?? Date.now());
  const [[labelled], [pending], [resolved]] = await Promise.all([
    // By the request id's time (when it was served), a range of the primary key.
    db.$queryRawUnsafe<{ requests: number; rows: number; late: number }[]>(
      `SELECT count(*)::int AS requests, coalesce(sum(labelled), 0)::int AS rows,
              (count(*) FILTER (WHERE "pendingSince" IS NOT NULL))::int AS late
         FROM prediction_feedback
        WHERE "requestId" >= $1::uuid AND "requestId" < $2::uuid AND "modelId" = $3::uuid`,
      uuidV7Floor(fromMs),
      uuidV7Floor(toMs),
      model.id,
    ),
    db.$queryRawUnsafe<{ count: number; oldest: Date | null }[]>(
      `SELECT count(*)::int AS count, min("receivedAt") AS oldest FROM pending_feedback`,
    ),
    db.$queryRawUnsafe<{ joined: number; rejected: number; expired: number }[]>(
      `SELECT coalesce(sum(joined), 0)::int AS joined, coalesce(sum(rejected), 0)::int AS rejected,
              coalesce(sum(expired), 0)::int AS expired
         FROM pending_feedback_tally
        WHERE hour >= date_trunc('hour', ${utcParam(1)}) AND hour < ${utcParam(2)}`,
      fromMs,
      toMs,
    ),
  ]);
  return {
    model: model.name,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    labelled: {
      requests: labelled?.requests ?? 0,
      rows: labelled?.rows ?? 0,
      joinedLate: labelled?.late ?? 0,
    },
    pending: {
      count: pending?.count ?? 0,
      oldestReceivedAt: pending?.oldest ? pending.oldest.toISOString() : null,
      windowSeconds: Math.round(windowMs / 1000),
    },
    resolved: {
      joined: resolved?.joined ?? 0,
      rejected: resolved?.rejected ?? 0,
      expired: resolved?.expired ?? 0,
    },
  };
}
