import type { Actor } from "../audit";
import type { PrismaClient } from "../db/generated/client";
import type { OnnxSignature } from "../onnx/types";
import { classNamesOf } from "../onnx/readout";
import { BLOCK_SECONDS } from "./blocks";
import { minuteOf } from "./rollups";

const BLOCK_MS = BLOCK_SECONDS * 1000;
import {
  parsePredicted,
  scoreFeedback,
  type FeedbackScore,
  type GivenTruth,
  type ModelTask,
} from "./feedback-score";

/**
 * Ground truth for served predictions (POST /api/v1/feedback). Every item is checked on its
 * own; the applicable ones are stored, and folded into their prediction's rollup minute
 * (labelled, correct, error sums), in one transaction, so live accuracy always equals the
 * feedback table it summarises.
 *
 * Audit: feedback is data (like the prediction log it annotates), not configuration, and
 * arrives at data-plane volume, so it writes no audit entries: each row records who sent it
 * and when (submittedBy*, receivedAt), which answers "who did that?" for this kind of data
 * without flooding the audit log.
 */

export type FeedbackItemInput = { request_id: string } & GivenTruth;

export type FeedbackItemResult = {
  request_id: string;
  status:
    | "applied"
    | "replaced"
    | "unknown_request"
    | "wrong_kind"
    | "invalid_label"
    | "row_count_mismatch"
    | "not_scored"
    | "duplicate";
  message?: string;
  model?: string;
  version?: number;
  rows?: number;
  correct?: number;
  absError?: number;
};

export type FeedbackOutcome = { applied: number; rejected: number; results: FeedbackItemResult[] };

type LoggedPrediction = {
  requestId: string;
  modelId: string;
  versionId: string | null;
  version: number | null;
  at: Date;
  predicted: string | null;
};
type PriorFeedback = {
  requestId: string;
  labelled: number;
  correct: number;
  absErrorSum: number;
  sqErrorSum: number;
};
type VersionFacts = { model: string; task: ModelTask; classNames: string[] | null };

/** A minute's feedback counters to add (negative parts take a replaced feedback back). */
type FeedbackDelta = {
  modelId: string;
  version: number;
  versionId: string | null;
  minute: Date;
  labelled: number;
  correct: number;
  absErrorSum: number;
  sqErrorSum: number;
};

const TX_OPTIONS = { isolationLevel: "ReadCommitted", maxWait: 15_000, timeout: 120_000 } as const;

export async function submitFeedback(
  db: PrismaClient,
  actor: Actor,
  items: FeedbackItemInput[],
): Promise<FeedbackOutcome> {
  const results: FeedbackItemResult[] = items.map((i) => ({
    request_id: i.request_id,
    status: "applied",
  }));
  // The last item for a request counts (a client correcting itself within one batch).
  const lastIndex = new Map<string, number>();
  items.forEach((item, i) => lastIndex.set(item.request_id.toLowerCase(), i));
  items.forEach((item, i) => {
    if (lastIndex.get(item.request_id.toLowerCase()) !== i) {
      results[i] = {
        request_id: item.request_id,
        status: "duplicate",
        message: "a later item in this batch has the same request_id; that one counts",
      };
    }
  });
  const ids = [...lastIndex.keys()];

  await db.$transaction(async (tx) => {
    // Serialised with the rollup-block compaction (lib/monitoring/blocks.ts): it waits for
    // this transaction, or this one for it, so the watermark read here stays true until commit.
    // The row exists before any block does (created here if need be, at the epoch: nothing
    // compacted), so there is always a row to lock.
    await tx.$executeRawUnsafe(
      `INSERT INTO rollup_compaction (id, "compactedUntil", "updatedAt")
       VALUES (1, timestamp '1970-01-01', now()) ON CONFLICT (id) DO NOTHING`,
    );
    const [state] = await tx.$queryRawUnsafe<{ until: number }[]>(
      `SELECT (extract(epoch FROM "compactedUntil") * 1000)::float8 AS until
         FROM rollup_compaction WHERE id = 1 FOR SHARE`,
    );
    const compactedUntil = state?.until ?? -Infinity;
    // Locking the logged predictions serialises feedback for the same request (two clients
    // sending it at once both see the other's row, never neither), in one fixed order so
    // concurrent batches cannot deadlock. Serving only inserts log rows, so it never waits.
    const predictions = await tx.$queryRawUnsafe<LoggedPrediction[]>(
      `SELECT "requestId"::text AS "requestId", "modelId"::text AS "modelId",
              "versionId"::text AS "versionId", version, at, predicted
         FROM prediction_log WHERE "requestId" = ANY($1::uuid[])
        ORDER BY "requestId" FOR NO KEY UPDATE`,
      ids,
    );
    const byId = new Map(predictions.map((p) => [p.requestId, p]));
    const facts = await versionFacts(tx, predictions);
    const prior = new Map(
      (
        await tx.$queryRawUnsafe<PriorFeedback[]>(
          `SELECT "requestId"::text AS "requestId", labelled, correct, "absErrorSum", "sqErrorSum"
             FROM prediction_feedback WHERE "requestId" = ANY($1::uuid[])`,
          ids,
        )
      ).map((f) => [f.requestId, f]),
    );

    const rows: { p: LoggedPrediction; score: FeedbackScore }[] = [];
    const deltas = new Map<string, FeedbackDelta>();
    for (const [id, index] of lastIndex) {
      const item = items[index]!;
      const p = byId.get(id);
      if (!p) {
        results[index] = {
          request_id: item.request_id,
          status: "unknown_request",
          message:
            "no logged prediction has this id (not served here, not logged, or past the log's retention)",
        };
        continue;
      }
      const f = p.version !== null ? facts.get(`${p.modelId}|${p.version}`) : undefined;
      if (!f) {
        results[index] = {
          request_id: item.request_id,
          status: "not_scored",
          message: "the request was not served by a known version",
        };
        continue;
      }
      const scored = scoreFeedback(f.task, f.classNames, parsePredicted(p.predicted), item);
      if (!scored.ok) {
        results[index] = {
          request_id: item.request_id,
          model: f.model,
          version: p.version!,
          ...scored.problem,
        };
        continue;
      }
      const { score } = scored;
      const old = prior.get(id);
      rows.push({ p, score });
      const minute = minuteOf(p.at);
      const key = `${p.modelId}|${String(p.version).padStart(10, "0")}|${minute.toISOString()}`;
      let d = deltas.get(key);
      if (!d) {
        d = {
          modelId: p.modelId,
          version: p.version!,
          versionId: p.versionId,
          minute,
          labelled: 0,
          correct: 0,
          absErrorSum: 0,
          sqErrorSum: 0,
        };
        deltas.set(key, d);
      }
      d.labelled += score.labelled - (old?.labelled ?? 0);
      d.correct += score.correct - (old?.correct ?? 0);
      d.absErrorSum += score.absErrorSum - (old?.absErrorSum ?? 0);
      d.sqErrorSum += score.sqErrorSum - (old?.sqErrorSum ?? 0);
      results[index] = {
        request_id: item.request_id,
        status: old ? "replaced" : "applied",
        model: f.model,
        version: p.version!,
        rows: score.labelled,
        ...(score.kind === "label"
          ? { correct: score.correct }
          : { absError: score.absErrorSum / score.labelled }),
      };
    }
    if (rows.length === 0) return;

    await tx.$executeRawUnsafe(
      `INSERT INTO prediction_feedback AS f
         ("requestId", "modelId", version, "predictedAt", kind, truth, labelled, correct,
          "absErrorSum", "sqErrorSum", "receivedAt", "submittedByType", "submittedById", "submittedByLabel")
       SELECT r, m, v, a, k, t, l, c, ae, se, now(), $11, $12, $13
         FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::timestamp(3)[], $5::text[], $6::jsonb[],
                     $7::int[], $8::int[], $9::float8[], $10::float8[]) AS u(r, m, v, a, k, t, l, c, ae, se)
       ON CONFLICT ("requestId") DO UPDATE SET
         kind = EXCLUDED.kind, truth = EXCLUDED.truth, labelled = EXCLUDED.labelled,
         correct = EXCLUDED.correct, "absErrorSum" = EXCLUDED."absErrorSum",
         "sqErrorSum" = EXCLUDED."sqErrorSum", "receivedAt" = EXCLUDED."receivedAt",
         "submittedByType" = EXCLUDED."submittedByType", "submittedById" = EXCLUDED."submittedById",
         "submittedByLabel" = EXCLUDED."submittedByLabel"`,
      rows.map((r) => r.p.requestId),
      rows.map((r) => r.p.modelId),
      rows.map((r) => r.p.version),
      rows.map((r) => r.p.at),
      rows.map((r) => r.score.kind),
      rows.map((r) => JSON.stringify(r.score.truth)),
      rows.map((r) => r.score.labelled),
      rows.map((r) => r.score.correct),
      rows.map((r) => r.score.absErrorSum),
      rows.map((r) => r.score.sqErrorSum),
      actor.type,
      actor.id ?? null,
      actor.label,
    );
    const sorted = [...deltas.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, d]) => d);
    await addFeedbackToRollups(tx, sorted);
    await addFeedbackToBlocks(
      tx,
      sorted.filter((d) => d.minute.getTime() < compactedUntil),
    );
  }, TX_OPTIONS);

  const applied = results.filter((r) => r.status === "applied" || r.status === "replaced").length;
  return { applied, rejected: results.length - applied, results };
}

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** Task and class names of each (model, version) the predictions were served by. */
async function versionFacts(
  tx: Tx,
  predictions: LoggedPrediction[],
): Promise<Map<string, VersionFacts>> {
  const pairs = new Map<string, { modelId: string; version: number }>();
  for (const p of predictions) {
    if (p.version !== null)
      pairs.set(`${p.modelId}|${p.version}`, p as { modelId: string; version: number });
  }
  if (pairs.size === 0) return new Map();
  const versions = await tx.modelVersion.findMany({
    where: {
      OR: [...pairs.values()].map(({ modelId, version }) => ({ modelId, version })),
    },
    select: {
      modelId: true,
      version: true,
      signature: true,
      model: { select: { name: true, task: true } },
    },
  });
  return new Map(
    versions.map((v) => [
      `${v.modelId}|${v.version}`,
      {
        model: v.model.name,
        task: v.model.task as ModelTask,
        classNames: classNamesOf(v.signature as unknown as OnnxSignature),
      },
    ]),
  );
}

/**
 * Adds feedback counters to rollup minutes, in key order (as serving does) so concurrent
 * writers lock the same rows in the same order. A minute normally exists (serving wrote it
 * with the logged request); it is created empty when it does not, e.g. for logs written
 * before rollups existed.
 */
async function addFeedbackToRollups(tx: Tx, deltas: FeedbackDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO metric_rollup AS r
       ("modelId", version, minute, "versionId", "latencyBuckets", labelled, correct, "absErrorSum", "sqErrorSum")
     SELECT m, v, t, vid, '{}', l, c, ae, se
       FROM unnest($1::uuid[], $2::int[], $3::timestamp(3)[], $4::uuid[], $5::bigint[], $6::bigint[],
                   $7::float8[], $8::float8[]) AS u(m, v, t, vid, l, c, ae, se)
     ON CONFLICT ("modelId", version, minute) DO UPDATE SET
       labelled = r.labelled + EXCLUDED.labelled,
       correct = r.correct + EXCLUDED.correct,
       "absErrorSum" = r."absErrorSum" + EXCLUDED."absErrorSum",
       "sqErrorSum" = r."sqErrorSum" + EXCLUDED."sqErrorSum"`,
    deltas.map((d) => d.modelId),
    deltas.map((d) => d.version),
    deltas.map((d) => d.minute),
    deltas.map((d) => d.versionId),
    deltas.map((d) => d.labelled),
    deltas.map((d) => d.correct),
    deltas.map((d) => d.absErrorSum),
    deltas.map((d) => d.sqErrorSum),
  );
}

/** The same deltas added to compacted 30-minute blocks (in key order, like the minutes). */
async function addFeedbackToBlocks(tx: Tx, deltas: FeedbackDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const blocks = new Map<string, FeedbackDelta>();
  for (const d of deltas) {
    const start = new Date(Math.floor(d.minute.getTime() / BLOCK_MS) * BLOCK_MS);
    const key = `${d.modelId}|${String(d.version).padStart(10, "0")}|${start.toISOString()}`;
    const b = blocks.get(key);
    if (b) {
      b.labelled += d.labelled;
      b.correct += d.correct;
      b.absErrorSum += d.absErrorSum;
      b.sqErrorSum += d.sqErrorSum;
    } else blocks.set(key, { ...d, minute: start });
  }
  const list = [...blocks.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, d]) => d);
  await tx.$executeRawUnsafe(
    `INSERT INTO metric_rollup_block AS k
       ("modelId", version, start, "latencyBuckets", labelled, correct, "absErrorSum", "sqErrorSum")
     SELECT m, v, t, '{}', l, c, ae, se
       FROM unnest($1::uuid[], $2::int[], $3::timestamp(3)[], $4::bigint[], $5::bigint[],
                   $6::float8[], $7::float8[]) AS u(m, v, t, l, c, ae, se)
     ON CONFLICT ("modelId", version, start) DO UPDATE SET
       labelled = k.labelled + EXCLUDED.labelled,
       correct = k.correct + EXCLUDED.correct,
       "absErrorSum" = k."absErrorSum" + EXCLUDED."absErrorSum",
       "sqErrorSum" = k."sqErrorSum" + EXCLUDED."sqErrorSum"`,
    list.map((d) => d.modelId),
    list.map((d) => d.version),
    list.map((d) => d.minute),
    list.map((d) => d.labelled),
    list.map((d) => d.correct),
    list.map((d) => d.absErrorSum),
    list.map((d) => d.sqErrorSum),
  );
}
