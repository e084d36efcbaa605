import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as postFeedback } from "../../../app/api/v1/feedback/route";
import { GET as getFeedbackStats } from "../../../app/api/v1/models/[name]/feedback/route";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import { createLogger } from "../../../lib/log";
import { joinPendingFeedback, submitFeedback } from "../../../lib/monitoring/feedback";
import { feedbackStats, sweepPendingFeedback } from "../../../lib/monitoring/pending-feedback";
import { enforceRetention } from "../../../lib/monitoring/retention";
import {
  postgresPredictionSink,
  PredictionLogWriter,
  type PredictionRecord,
} from "../../../lib/serving/prediction-log";
import { newRequestId } from "../../../lib/serving/request-id";
import { truncateAll, useTestDatabase } from "../helpers/db";
import { classifierBytes, createClassifier, storeFor, tempDataDir } from "../serving/harness";
import type { Served } from "./helpers";

/**
 * Feedback that arrives before its prediction is logged: kept pending, joined when the log
 * row lands (whichever of the two commits first), exactly once, and expired and counted when
 * the prediction never comes. The interleavings are forced with row locks the test holds.
 */
const db = useTestDatabase({ truncate: false });
const sink = postgresPredictionSink(db.url);
const log = createLogger("test", "silent");
let data: Awaited<ReturnType<typeof tempDataDir>>;
let clf: Served;
let token: string;
/** Log rows are placed in fixed minutes (their rollup rows are what the tests lock). */
const BASE = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
const minute = (n: number) => new Date(BASE + n * 60_000);

/** A served request of `clf` answering "z", made now (its id) and logged in `at`'s minute. */
function prediction(at: Date, predicted = '["z"]'): PredictionRecord {
  return {
    requestId: newRequestId(),
    modelId: clf.modelId,
    model: clf.model,
    versionId: clf.versionId,
    version: clf.version,
    alias: "production",
    status: 200,
    latencyMs: 2,
    rows: 1,
    predicted,
    at,
  };
}

/** Serving's writer, joining pending feedback after each batch as workers/serving does. */
function servingWriter() {
  return new PredictionLogWriter(sink, "test", log, {
    afterWrite: (requestIds) => joinPendingFeedback(db.client, { requestIds }),
  });
}

async function counts(at?: Date) {
  const [r] = await db.client.$queryRawUnsafe<{ labelled: number; correct: number }[]>(
    `SELECT coalesce(sum(labelled), 0)::int AS labelled, coalesce(sum(correct), 0)::int AS correct
       FROM metric_rollup WHERE "modelId" = $1::uuid ${at ? `AND minute = $2::timestamp` : ""}`,
    clf.modelId,
    ...(at ? [at.toISOString().replace("Z", "")] : []),
  );
  return r!;
}

async function tally() {
  const [t] = await db.client.$queryRawUnsafe<
    { joined: number; rejected: number; expired: number }[]
  >(
    `SELECT coalesce(sum(joined), 0)::int AS joined, coalesce(sum(rejected), 0)::int AS rejected,
            coalesce(sum(expired), 0)::int AS expired FROM pending_feedback_tally`,
  );
  return t!;
}

const pendingCount = () => db.client.pendingFeedback.count();

/** Holds the rollup row of `at`'s minute locked, so a writer of that minute waits there. */
async function lockRollupMinute(at: Date) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query("BEGIN");
  const { rowCount } = await client.query(
    `SELECT 1 FROM metric_rollup WHERE "modelId" = $1::uuid AND minute = $2::timestamp FOR UPDATE`,
    [clf.modelId, at.toISOString().replace("Z", "")],
  );
  expect(rowCount).toBe(1);
  return {
    release: async () => {
      await client.query("COMMIT");
      await client.end();
    },
  };
}

/** Resolves once `n` backends wait for a lock (the writer or the feedback calls we paused). */
async function someoneWaits(n = 1) {
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const [r] = await db.client.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`,
    );
    if (r!.n >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("nobody waited for the held lock");
}

beforeAll(async () => {
  process.env.BETTER_AUTH_SECRET ??= "integration-test-secret-".padEnd(48, "x");
  await truncateAll(db.url);
  data = await tempDataDir();
  await createClassifier(db.client, storeFor(data.dir), "pf-clf", [classifierBytes(2)]); // "z"
  const m = await db.client.model.findUniqueOrThrow({
    where: { name: "pf-clf" },
    include: { versions: true },
  });
  clf = { modelId: m.id, model: m.name, versionId: m.versions[0]!.id, version: 1 };
  token = (
    await createApiToken(db.client, SYSTEM_ACTOR, { name: "feedback-client", role: "viewer" })
  ).secret;
});

afterAll(async () => {
  await sink.end();
  await data?.cleanup();
});

describe("pending feedback", () => {
  it("keeps feedback sent before its prediction is logged, and joins it once when the row lands", async () => {
    const writer = servingWriter();
    const p = prediction(minute(1));
    const first = await submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: p.requestId, label: "x" },
    ]);
    expect(first).toMatchObject({ applied: 0, pending: 1, rejected: 0 });
    expect(first.results[0]).toMatchObject({ status: "pending" });
    expect(first.results[0]!.message).toMatch(/not logged yet; kept for 1 h/);
    // Sent again while it waits: it replaces what waits, never adds.
    const again = await submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: p.requestId, label: "z" },
    ]);
    expect(again.results[0]!.status).toBe("pending");
    expect(await pendingCount()).toBe(1);

    writer.record(p);
    await writer.flush();
    expect(await pendingCount()).toBe(0);
    expect(await counts()).toEqual({ labelled: 1, correct: 1 });
    const stored = await db.client.predictionFeedback.findUniqueOrThrow({
      where: { requestId: p.requestId },
    });
    expect(stored).toMatchObject({ truth: ["z"], labelled: 1, correct: 1 });
    expect(stored.pendingSince).not.toBeNull();
    expect(await tally()).toMatchObject({ joined: 1, rejected: 0 });

    // Once joined, sending it again replaces it like any stored feedback.
    const later = await submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: p.requestId, label: "z" },
    ]);
    expect(later.results[0]!.status).toBe("replaced");
    expect(await counts()).toEqual({ labelled: 1, correct: 1 });
    // Nothing left for the sweep to do twice.
    expect(await sweepPendingFeedback(db.client, { windowMs: 3600_000 })).toEqual({
      joined: 0,
      rejected: 0,
      expired: 0,
    });
    expect(await counts()).toEqual({ labelled: 1, correct: 1 });
  });

  it("joins feedback committed between the log's COPY and its commit (serving looks after its commit)", async () => {
    const writer = servingWriter();
    await sink.insert([prediction(minute(2))], "test"); // the minute's rollup row exists
    const before = await counts();
    const held = await lockRollupMinute(minute(2));
    const p = prediction(minute(2));
    writer.record(p);
    const flushing = writer.flush(); // COPYs the row, then waits for the rollup row
    await someoneWaits();

    // The log row is written but not committed: the feedback cannot see it.
    const outcome = await submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: p.requestId, label: "z" },
    ]);
    expect(outcome.results[0]!.status).toBe("pending");
    expect(await pendingCount()).toBe(1);

    await held.release();
    await flushing;
    expect(await pendingCount()).toBe(0);
    expect(await counts()).toEqual({
      labelled: before.labelled + 1,
      correct: before.correct + 1,
    });
  });

  it("joins a log row that lands between the feedback's pending insert and its commit (the feedback looks after its commit)", async () => {
    const writer = servingWriter();
    const a = prediction(minute(3));
    await sink.insert([a], "test");
    const before = await counts();
    const held = await lockRollupMinute(minute(3));
    const b = prediction(minute(4));
    // a is logged, b is not: b goes pending, then the call waits at a's rollup minute.
    const submitting = submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: a.requestId, label: "z" },
      { request_id: b.requestId, label: "x" },
    ]);
    await someoneWaits();

    // b's log row lands and serving looks, but the pending row is not committed yet.
    writer.record(b);
    await writer.flush();
    expect(await db.client.predictionLog.count({ where: { requestId: b.requestId } })).toBe(1);
    expect(await pendingCount()).toBe(0);
    expect(await counts(minute(4))).toEqual({ labelled: 0, correct: 0 });

    await held.release();
    const outcome = await submitting;
    expect(outcome.results.map((r) => r.status)).toEqual(["applied", "applied"]);
    expect(outcome).toMatchObject({ applied: 2, pending: 0, rejected: 0 });
    expect(await pendingCount()).toBe(0);
    expect(await counts(minute(4))).toEqual({ labelled: 1, correct: 0 });
    expect(await counts()).toEqual({ labelled: before.labelled + 2, correct: before.correct + 1 });
    const late = await db.client.predictionFeedback.findUniqueOrThrow({
      where: { requestId: b.requestId },
    });
    expect(late.pendingSince).not.toBeNull();
  });

  it("applies each pending item once while joiners, the sweep and resends race", async () => {
    const rows = Array.from({ length: 200 }, (_, i) => prediction(minute(5 + (i % 3))));
    const outcome = await submitFeedback(
      db.client,
      SYSTEM_ACTOR,
      rows.map((r) => ({ request_id: r.requestId, label: "z" })),
    );
    expect(outcome.pending).toBe(200);
    await sink.insert(rows, "test"); // logged without serving's look: every joiner competes
    const before = await counts();
    const tallied = await tally();
    const ids = rows.map((r) => r.requestId);
    const resend = () =>
      submitFeedback(
        db.client,
        SYSTEM_ACTOR,
        rows.slice(0, 100).map((r) => ({ request_id: r.requestId, label: "z" })),
      );
    await Promise.all([
      joinPendingFeedback(db.client, { requestIds: ids }),
      joinPendingFeedback(db.client, { requestIds: ids.slice(50) }),
      joinPendingFeedback(db.client),
      sweepPendingFeedback(db.client, { windowMs: 3600_000 }),
      resend(),
      joinPendingFeedback(db.client, { requestIds: [...ids].reverse() }),
    ]);
    expect(await pendingCount()).toBe(0);
    expect(await counts()).toEqual({
      labelled: before.labelled + 200,
      correct: before.correct + 200,
    });
    const stored = await db.client.predictionFeedback.count({ where: { requestId: { in: ids } } });
    expect(stored).toBe(200);
    // Joined by a joiner, or replaced by the resend first: never both counted.
    const joined = (await tally()).joined - tallied.joined;
    expect(joined).toBeGreaterThanOrEqual(100);
    expect(joined).toBeLessThanOrEqual(200);
  });

  it("lets a joiner that waited behind another find nothing left to apply", async () => {
    const rows = Array.from({ length: 20 }, () => prediction(minute(12)));
    await submitFeedback(
      db.client,
      SYSTEM_ACTOR,
      rows.map((r) => ({ request_id: r.requestId, label: "z" })),
    );
    await sink.insert(rows, "test");
    const before = await counts();
    const held = await lockRollupMinute(minute(12));
    const ids = rows.map((r) => r.requestId);
    const first = joinPendingFeedback(db.client, { requestIds: ids }); // waits at the rollups
    await someoneWaits(1);
    const second = joinPendingFeedback(db.client, { requestIds: ids }); // waits behind it
    await someoneWaits(2);
    await held.release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.joined + b.joined).toBe(20);
    expect(await counts()).toEqual({
      labelled: before.labelled + 20,
      correct: before.correct + 20,
    });
  });

  it("drops a pending item older than feedback stored for the request meanwhile", async () => {
    const p = prediction(minute(11));
    await sink.insert([p], "test");
    await submitFeedback(db.client, SYSTEM_ACTOR, [{ request_id: p.requestId, label: "z" }]);
    const before = await counts();
    // As left by a send that saw no log row and committed after a later, direct one.
    await db.client.$executeRawUnsafe(
      `INSERT INTO pending_feedback
         ("requestId", given, "receivedAt", "firstReceivedAt", "submittedByType", "submittedByLabel")
       VALUES ($1::uuid, '{"label": "x"}', now() AT TIME ZONE 'UTC' - interval '1 minute',
               now() AT TIME ZONE 'UTC' - interval '1 minute', 'system', 'system')`,
      p.requestId,
    );
    const joined = await joinPendingFeedback(db.client, { requestIds: [p.requestId] });
    expect(joined).toMatchObject({ examined: 1, joined: 0, rejected: 0, superseded: 1 });
    expect(await pendingCount()).toBe(0);
    expect(await counts()).toEqual(before);
    const stored = await db.client.predictionFeedback.findUniqueOrThrow({
      where: { requestId: p.requestId },
    });
    expect(stored.truth).toEqual(["z"]);
  });

  it("answers unknown_request for ids serving never made or made too long ago", async () => {
    const outcome = await submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: randomUUID(), label: "z" }, // a v4 id
      { request_id: newRequestId(Date.now() - 2 * 3600_000), label: "z" },
      { request_id: newRequestId(Date.now() - 2 * 3600_000), label: "z" },
    ]);
    expect(outcome.results.map((r) => r.status)).toEqual([
      "unknown_request",
      "unknown_request",
      "unknown_request",
    ]);
    expect(
      (
        await submitFeedback(
          db.client,
          SYSTEM_ACTOR,
          [{ request_id: newRequestId(Date.now() - 2 * 3600_000), label: "z" }],
          { pendingWindowMs: 3 * 3600_000 },
        )
      ).pending,
    ).toBe(1);
    await sweepPendingFeedback(db.client, { windowMs: 0, now: new Date(Date.now() + 1000) });
  });

  it("drops pending feedback that does not fit its prediction when it lands, and counts it", async () => {
    const writer = servingWriter();
    const p = prediction(minute(9));
    const tallied = await tally();
    await submitFeedback(db.client, SYSTEM_ACTOR, [{ request_id: p.requestId, value: 3 }]);
    writer.record(p);
    await writer.flush();
    expect(await pendingCount()).toBe(0);
    expect(await db.client.predictionFeedback.count({ where: { requestId: p.requestId } })).toBe(0);
    expect((await tally()).rejected - tallied.rejected).toBe(1);
  });

  it("expires feedback whose prediction never comes, counts it, and keeps what was sent again", async () => {
    const tallied = await tally();
    const never = Array.from({ length: 5 }, () => newRequestId());
    const outcome = await submitFeedback(
      db.client,
      SYSTEM_ACTOR,
      never.map((id) => ({ request_id: id, label: "z" })),
    );
    expect(outcome.pending).toBe(5);
    await new Promise((r) => setTimeout(r, 400));
    // One is sent again: its wait starts over.
    await submitFeedback(db.client, SYSTEM_ACTOR, [{ request_id: never[0]!, label: "y" }]);
    const swept = await sweepPendingFeedback(db.client, { windowMs: 300 });
    expect(swept).toEqual({ joined: 0, rejected: 0, expired: 4 });
    expect(await pendingCount()).toBe(1);
    expect((await tally()).expired - tallied.expired).toBe(4);

    const stats = await feedbackStats(db.client, "pf-clf", {}, { windowMs: 300 });
    expect(stats.pending).toMatchObject({ count: 1, windowSeconds: 0 });
    expect(stats.pending.oldestReceivedAt).not.toBeNull();
    expect(stats.resolved.expired).toBe((await tally()).expired);
    expect(stats.resolved.rejected).toBe(1);

    await new Promise((r) => setTimeout(r, 400));
    expect((await sweepPendingFeedback(db.client, { windowMs: 300 })).expired).toBe(1);
    expect(await pendingCount()).toBe(0);
  });

  it("reports pending items and feedback stats through the API", async () => {
    const p = prediction(minute(10));
    const res = await postFeedback(
      new Request("http://localhost/api/v1/feedback", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ items: [{ request_id: p.requestId, label: "z" }] }),
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      applied: 0,
      pending: 1,
      rejected: 0,
      results: [{ request_id: p.requestId, status: "pending" }],
    });
    const writer = servingWriter();
    writer.record(p);
    await writer.flush();

    const get = (query: string, name = "pf-clf") =>
      getFeedbackStats(
        new Request(`http://localhost/api/v1/models/${name}/feedback${query}`, {
          headers: { authorization: `Bearer ${token}` },
        }),
        { params: Promise.resolve({ name }) },
      );
    const from = new Date(Date.now() - 3600_000).toISOString();
    const ok = await get(`?from=${from}`);
    expect(ok.status).toBe(200);
    const stats = (await ok.json()) as Awaited<ReturnType<typeof feedbackStats>>;
    const stored = await db.client.predictionFeedback.aggregate({
      where: { modelId: clf.modelId },
      _count: true,
      _sum: { labelled: true },
    });
    const late = await db.client.predictionFeedback.count({
      where: { modelId: clf.modelId, pendingSince: { not: null } },
    });
    expect(stats.labelled).toEqual({
      requests: stored._count,
      rows: stored._sum.labelled,
      joinedLate: late,
    });
    expect(stats.pending).toMatchObject({ count: 0, windowSeconds: 3600 });
    expect(stats.resolved).toEqual(await tally());
    expect((await get(`?from=yesterday`)).status).toBe(400);
    expect((await get(`?from=${from}&extra=1`)).status).toBe(400);
    expect((await get("", "no-such-model")).status).toBe(404);
  });

  it("keeps the tally of outcomes as long as the rollups", async () => {
    const before = await tally();
    await db.client.$executeRawUnsafe(
      `INSERT INTO pending_feedback_tally (hour, expired)
       VALUES (date_trunc('hour', now() AT TIME ZONE 'UTC' - interval '500 days'), 7)`,
    );
    const result = await enforceRetention(db.client, { predictionLogDays: 30, rollupDays: 400 });
    expect(result.pendingTally).toBe(1);
    expect(await tally()).toEqual(before);
  });
});
