import type { Actor } from "../audit";
import { getConfig } from "../config";
import type { PrismaClient } from "../db/generated/client";
import { metricsUpdatedNotifyQuery } from "../events/channels";
import type { OnnxSignature } from "../onnx/types";
import { classNamesOf } from "../onnx/readout";
import { requestIdTime } from "../serving/request-id";
import { BLOCK_SECONDS } from "./blocks";
import {
  parsePredicted,
  scoreFeedback,
  type FeedbackScore,
  type GivenTruth,
  type ModelTask,
} from "./feedback-score";
import { minuteOf } from "./rollups";

const BLOCK_MS = BLOCK_SECONDS * 1000;

/**
 * Ground truth for served predictions (POST /api/v1/feedback). Every item is checked on its
 * own; the applicable ones are stored, and folded into their prediction's rollup minute
 * (labelled, correct, error sums), in one transaction, so live accuracy always equals the
 * feedback table it summarises.
 *
 * Feedback often arrives before its prediction is logged: serving writes the log in batches a
 * few hundred ms after answering, and a client that labels at once (a click, a confirmed
 * fraud) is faster. Such an item is kept in pending_feedback and joined when the log row
 * lands (`joinPendingFeedback`). Who joins, so that no label is lost whichever commits first:
 *  - serving, after each log batch has committed, for the request ids it just wrote;
 *  - submitFeedback itself, after its own transaction has committed, for the items it left
 *    pending;
 *  - the scheduler's sweep (lib/monitoring/pending-feedback.ts), a backstop for a process
 *    that died between the two.
 * Each side looks only after its own commit, so at least one of them sees both rows: if
 * serving's look missed the pending row, that row committed after serving's log row did,
 * hence after it was visible, and the feedback side's later look finds the log row.
 * A join locks the log rows (as submitFeedback does, in request id order) and then the
 * pending rows, re-read under the lock, and deletes what it applied: two joiners at once
 * apply each pending row once; a later send for the same request replaces it, never adds.
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
    | "pending"
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

export type FeedbackOutcome = {
  /** Items stored against their prediction (applied + replaced). */
  applied: number;
  /** Items kept until their prediction is logged. */
  pending: number;
  rejected: number;
  results: FeedbackItemResult[];
};

export type SubmitFeedbackOptions = {
  /** How long feedback for a request not logged yet waits for it (default: MODELDECK_FEEDBACK_PENDING_SECONDS). */
  pendingWindowMs?: number;
  now?: number;
};

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
  receivedAt: Date;
};
type VersionFacts = { model: string; task: ModelTask; classNames: string[] | null };
type Submitter = { type: string; id: string | null; label: string };

/** One item to store against its logged prediction. */
type Candidate = {
  requestId: string;
  given: GivenTruth;
  submitter: Submitter;
  /** When it first arrived before its prediction was logged; null when it came after. */
  pendingSince: Date | null;
  /** When the client sent it; null for now (this transaction). */
  receivedAt: Date | null;
};
type CandidateResult = Omit<FeedbackItemResult, "request_id">;

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

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

const TX_OPTIONS = { isolationLevel: "ReadCommitted", maxWait: 15_000, timeout: 120_000 } as const;

export async function submitFeedback(
  db: PrismaClient,
  actor: Actor,
  items: FeedbackItemInput[],
  options: SubmitFeedbackOptions = {},
): Promise<FeedbackOutcome> {
  const now = options.now ?? Date.now();
  const pendingWindowMs = options.pendingWindowMs ?? getConfig().feedbackPendingMs;
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
  const ids = [...lastIndex.keys()].sort();
  const submitter: Submitter = { type: actor.type, id: actor.id ?? null, label: actor.label };
  const pendingIds: string[] = [];

  await db.$transaction(async (tx) => {
    const compactedUntil = await lockCompactionWatermark(tx);
    const byId = await lockPredictions(tx, ids);
    const known = ids.filter((id) => byId.has(id));
    for (const id of ids) {
      if (byId.has(id)) continue;
      const index = lastIndex.get(id)!;
      const madeAt = requestIdTime(id);
      if (madeAt === null || madeAt < now - pendingWindowMs) {
        results[index] = {
          request_id: items[index]!.request_id,
          status: "unknown_request",
          message:
            madeAt === null
              ? "no logged prediction has this id, and serving never makes such an id (its ids are UUIDv7)"
              : "no logged prediction has this id (not served here, not logged, or past the log's retention)",
        };
      } else {
        pendingIds.push(id);
        results[index] = {
          request_id: items[index]!.request_id,
          status: "pending",
          message: `its prediction is not logged yet; kept for ${formatWindow(pendingWindowMs)} and applied when it is`,
        };
      }
    }
    // Pending rows first, then feedback rows and rollups: the order joiners lock them in.
    if (known.length > 0) {
      // Sent before the prediction was logged and not joined yet: this later item replaces it.
      await tx.$executeRawUnsafe(
        `DELETE FROM pending_feedback WHERE "requestId" = ANY($1::uuid[])`,
        known,
      );
    }
    if (pendingIds.length > 0) await keepPending(tx, pendingIds, items, lastIndex, submitter);

    const prior = await priorFeedback(tx, known);
    const stored = await storeFeedback(
      tx,
      known.map((id) => ({
        requestId: id,
        given: items[lastIndex.get(id)!]!,
        submitter,
        pendingSince: null,
        receivedAt: null,
      })),
      byId,
      prior,
      compactedUntil,
    );
    for (const [id, result] of stored) {
      const index = lastIndex.get(id)!;
      results[index] = { request_id: items[index]!.request_id, ...result };
    }
  }, TX_OPTIONS);

  if (pendingIds.length > 0) {
    // The feedback side's look after its commit (see the top of this file). Should it fail,
    // the items stay pending and safely stored: serving's next look or the sweep joins them.
    const joined = await joinPendingFeedback(db, { requestIds: pendingIds }).catch(() => null);
    for (const [id, result] of joined?.results ?? []) {
      const index = lastIndex.get(id);
      if (index !== undefined) results[index] = { request_id: items[index]!.request_id, ...result };
    }
  }

  let applied = 0;
  let pending = 0;
  for (const r of results) {
    if (r.status === "applied" || r.status === "replaced") applied++;
    else if (r.status === "pending") pending++;
  }
  return { applied, pending, rejected: results.length - applied - pending, results };
}

function formatWindow(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** Upserts pending rows, in request id order: a later send replaces what waits, keeps its age. */
async function keepPending(
  tx: Tx,
  ids: string[],
  items: FeedbackItemInput[],
  lastIndex: Map<string, number>,
  submitter: Submitter,
): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO pending_feedback AS p
       ("requestId", given, "receivedAt", "firstReceivedAt", "submittedByType", "submittedById", "submittedByLabel")
     SELECT r, g, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', $3, $4, $5
       FROM unnest($1::uuid[], $2::jsonb[]) WITH ORDINALITY AS u(r, g, n)
      ORDER BY n
     ON CONFLICT ("requestId") DO UPDATE SET
       given = EXCLUDED.given, "receivedAt" = EXCLUDED."receivedAt",
       "submittedByType" = EXCLUDED."submittedByType", "submittedById" = EXCLUDED."submittedById",
       "submittedByLabel" = EXCLUDED."submittedByLabel"`,
    ids,
    ids.map((id) => {
      const { request_id: _, ...given } = items[lastIndex.get(id)!]!;
      return JSON.stringify(given);
    }),
    submitter.type,
    submitter.id,
    submitter.label,
  );
}

export type JoinOutcome = {
  /** Pending rows found with their prediction logged (at most the limit). */
  examined: number;
  /** Pending items stored against their prediction now. */
  joined: number;
  /** Pending items that did not fit their prediction (wrong kind, unknown class…), dropped. */
  rejected: number;
  /** Pending items older than feedback already stored for the request, dropped. */
  superseded: number;
  /** Per request id: what became of its pending item (joined or rejected). */
  results: Map<string, CandidateResult>;
};

/** Most pending rows one join transaction takes (the sweep runs several). */
const JOIN_BATCH = 5_000;

/**
 * Joins pending feedback whose prediction is logged now: for `requestIds` only (serving after
 * a log batch, submitFeedback after its commit), or every such row (the sweep). Cheap when
 * nothing matches: one indexed probe, no transaction. Passing the ids as one array literal
 * keeps serving's share to a string join per batch.
 */
export async function joinPendingFeedback(
  db: PrismaClient,
  options: { requestIds?: readonly string[]; limit?: number } = {},
): Promise<JoinOutcome> {
  const outcome: JoinOutcome = {
    examined: 0,
    joined: 0,
    rejected: 0,
    superseded: 0,
    results: new Map(),
  };
  const limit = Math.min(options.limit ?? JOIN_BATCH, JOIN_BATCH);
  let probe: { requestId: string }[];
  if (options.requestIds) {
    if (options.requestIds.length === 0) return outcome;
    probe = await db.$queryRawUnsafe<{ requestId: string }[]>(
      `SELECT p."requestId"::text AS "requestId" FROM pending_feedback p
        WHERE p."requestId" = ANY($1::text::uuid[])
          AND EXISTS (SELECT 1 FROM prediction_log l WHERE l."requestId" = p."requestId")
        ORDER BY 1 LIMIT $2`,
      `{${options.requestIds.join(",")}}`,
      limit,
    );
  } else {
    probe = await db.$queryRawUnsafe<{ requestId: string }[]>(
      `SELECT p."requestId"::text AS "requestId" FROM pending_feedback p
        WHERE EXISTS (SELECT 1 FROM prediction_log l WHERE l."requestId" = p."requestId")
        ORDER BY 1 LIMIT $1`,
      limit,
    );
  }
  if (probe.length === 0) return outcome;
  const ids = probe.map((p) => p.requestId);
  outcome.examined = ids.length;

  await db.$transaction(async (tx) => {
    const compactedUntil = await lockCompactionWatermark(tx);
    const byId = await lockPredictions(tx, ids);
    // Re-read under the log rows' locks: another joiner may have applied and deleted some,
    // or a later send replaced them.
    const pending = await tx.$queryRawUnsafe<
      {
        requestId: string;
        given: GivenTruth;
        receivedAt: Date;
        firstReceivedAt: Date;
        submittedByType: string;
        submittedById: string | null;
        submittedByLabel: string;
      }[]
    >(
      `SELECT "requestId"::text AS "requestId", given, "receivedAt", "firstReceivedAt",
              "submittedByType", "submittedById", "submittedByLabel"
         FROM pending_feedback WHERE "requestId" = ANY($1::uuid[])
        ORDER BY "requestId" FOR UPDATE`,
      [...byId.keys()],
    );
    if (pending.length === 0) return;
    const prior = await priorFeedback(
      tx,
      pending.map((p) => p.requestId),
    );
    const candidates: Candidate[] = [];
    for (const p of pending) {
      const old = prior.get(p.requestId);
      if (old && old.receivedAt.getTime() > p.receivedAt.getTime()) {
        // Feedback sent later was stored directly meanwhile (a resend racing this row's
        // commit): the later one stands.
        outcome.superseded++;
        continue;
      }
      candidates.push({
        requestId: p.requestId,
        given: p.given,
        submitter: { type: p.submittedByType, id: p.submittedById, label: p.submittedByLabel },
        pendingSince: p.firstReceivedAt,
        receivedAt: p.receivedAt,
      });
    }
    const stored = await storeFeedback(tx, candidates, byId, prior, compactedUntil);
    for (const [id, result] of stored) {
      outcome.results.set(id, result);
      if (result.status === "applied" || result.status === "replaced") outcome.joined++;
      else outcome.rejected++;
    }
    await tx.$executeRawUnsafe(
      `DELETE FROM pending_feedback WHERE "requestId" = ANY($1::uuid[])`,
      pending.map((p) => p.requestId),
    );
    await addToPendingTally(tx, { joined: outcome.joined, rejected: outcome.rejected });
    // Live pages re-read: the log batch's own notification came before these labels.
    const models = [...new Set(candidates.map((c) => byId.get(c.requestId)!.modelId))];
    if (outcome.joined > 0) {
      const notify = metricsUpdatedNotifyQuery(models);
      await tx.$executeRawUnsafe(notify.text, ...notify.values);
    }
  }, TX_OPTIONS);
  return outcome;
}

/** Adds outcomes of pending feedback to the tally of the current hour. */
export async function addToPendingTally(
  tx: Pick<Tx, "$executeRawUnsafe">,
  counts: { joined?: number; rejected?: number; expired?: number },
): Promise<void> {
  const { joined = 0, rejected = 0, expired = 0 } = counts;
  if (joined + rejected + expired === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO pending_feedback_tally AS t (hour, joined, rejected, expired)
     VALUES (date_trunc('hour', now() AT TIME ZONE 'UTC'), $1, $2, $3)
     ON CONFLICT (hour) DO UPDATE SET joined = t.joined + EXCLUDED.joined,
       rejected = t.rejected + EXCLUDED.rejected, expired = t.expired + EXCLUDED.expired`,
    joined,
    rejected,
    expired,
  );
}

/**
 * Serialised with the rollup-block compaction (lib/monitoring/blocks.ts): it waits for this
 * transaction, or this one for it, so the watermark read here stays true until commit. The
 * row exists before any block does (created here if need be, at the epoch: nothing
 * compacted), so there is always a row to lock.
 */
async function lockCompactionWatermark(tx: Tx): Promise<number> {
  await tx.$executeRawUnsafe(
    `INSERT INTO rollup_compaction (id, "compactedUntil", "updatedAt")
     VALUES (1, timestamp '1970-01-01', now()) ON CONFLICT (id) DO NOTHING`,
  );
  const [state] = await tx.$queryRawUnsafe<{ until: number }[]>(
    `SELECT (extract(epoch FROM "compactedUntil") * 1000)::float8 AS until
       FROM rollup_compaction WHERE id = 1 FOR SHARE`,
  );
  return state?.until ?? -Infinity;
}

/**
 * Locking the logged predictions serialises feedback for the same request (two clients
 * sending it at once, or a send and a join, each see the other's row, never neither), in one
 * fixed order so concurrent batches cannot deadlock. Serving only inserts log rows, so it
 * never waits.
 */
async function lockPredictions(tx: Tx, ids: string[]): Promise<Map<string, LoggedPrediction>> {
  const predictions = await tx.$queryRawUnsafe<LoggedPrediction[]>(
    `SELECT "requestId"::text AS "requestId", "modelId"::text AS "modelId",
            "versionId"::text AS "versionId", version, at, predicted
       FROM prediction_log WHERE "requestId" = ANY($1::uuid[])
      ORDER BY "requestId" FOR NO KEY UPDATE`,
    ids,
  );
  return new Map(predictions.map((p) => [p.requestId, p]));
}

async function priorFeedback(tx: Tx, ids: string[]): Promise<Map<string, PriorFeedback>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.$queryRawUnsafe<PriorFeedback[]>(
    `SELECT "requestId"::text AS "requestId", labelled, correct, "absErrorSum", "sqErrorSum",
            "receivedAt"
       FROM prediction_feedback WHERE "requestId" = ANY($1::uuid[])`,
    ids,
  );
  return new Map(rows.map((f) => [f.requestId, f]));
}

/**
 * Scores each candidate against its logged prediction and stores the applicable ones: the
 * feedback rows (replacing earlier ones, whose counts are taken back) and their counters in
 * the rollup minutes (and compacted blocks). The one place feedback reaches the rollups.
 */
async function storeFeedback(
  tx: Tx,
  candidates: Candidate[],
  byId: Map<string, LoggedPrediction>,
  prior: Map<string, PriorFeedback>,
  compactedUntil: number,
): Promise<Map<string, CandidateResult>> {
  const results = new Map<string, CandidateResult>();
  if (candidates.length === 0) return results;
  const facts = await versionFacts(tx, [...byId.values()]);
  const rows: { c: Candidate; p: LoggedPrediction; score: FeedbackScore }[] = [];
  const deltas = new Map<string, FeedbackDelta>();
  for (const c of candidates) {
    const p = byId.get(c.requestId)!;
    const f = p.version !== null ? facts.get(`${p.modelId}|${p.version}`) : undefined;
    if (!f) {
      results.set(c.requestId, {
        status: "not_scored",
        message: "the request was not served by a known version",
      });
      continue;
    }
    const scored = scoreFeedback(f.task, f.classNames, parsePredicted(p.predicted), c.given);
    if (!scored.ok) {
      results.set(c.requestId, { model: f.model, version: p.version!, ...scored.problem });
      continue;
    }
    const { score } = scored;
    const old = prior.get(c.requestId);
    rows.push({ c, p, score });
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
    results.set(c.requestId, {
      status: old ? "replaced" : "applied",
      model: f.model,
      version: p.version!,
      rows: score.labelled,
      ...(score.kind === "label"
        ? { correct: score.correct }
        : { absError: score.absErrorSum / score.labelled }),
    });
  }
  if (rows.length === 0) return results;

  await tx.$executeRawUnsafe(
    `INSERT INTO prediction_feedback AS f
       ("requestId", "modelId", version, "predictedAt", kind, truth, labelled, correct,
        "absErrorSum", "sqErrorSum", "receivedAt", "submittedByType", "submittedById",
        "submittedByLabel", "pendingSince")
     SELECT r, m, v, a, k, t, l, c, ae, se, coalesce(ra, now() AT TIME ZONE 'UTC'), st, si, sl, ps
       FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::timestamp(3)[], $5::text[], $6::jsonb[],
                   $7::int[], $8::int[], $9::float8[], $10::float8[], $11::timestamp(3)[],
                   $12::text[], $13::text[], $14::text[], $15::timestamp(3)[])
            WITH ORDINALITY AS u(r, m, v, a, k, t, l, c, ae, se, ra, st, si, sl, ps, n)
      ORDER BY n
     ON CONFLICT ("requestId") DO UPDATE SET
       kind = EXCLUDED.kind, truth = EXCLUDED.truth, labelled = EXCLUDED.labelled,
       correct = EXCLUDED.correct, "absErrorSum" = EXCLUDED."absErrorSum",
       "sqErrorSum" = EXCLUDED."sqErrorSum", "receivedAt" = EXCLUDED."receivedAt",
       "submittedByType" = EXCLUDED."submittedByType", "submittedById" = EXCLUDED."submittedById",
       "submittedByLabel" = EXCLUDED."submittedByLabel", "pendingSince" = EXCLUDED."pendingSince"`,
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
    rows.map((r) => r.c.receivedAt),
    rows.map((r) => r.c.submitter.type),
    rows.map((r) => r.c.submitter.id),
    rows.map((r) => r.c.submitter.label),
    rows.map((r) => r.c.pendingSince),
  );
  const sorted = [...deltas.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, d]) => d);
  await addFeedbackToRollups(tx, sorted);
  await addFeedbackToBlocks(
    tx,
    sorted.filter((d) => d.minute.getTime() < compactedUntil),
  );
  return results;
}

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
