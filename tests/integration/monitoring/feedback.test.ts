import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as postFeedback } from "../../../app/api/v1/feedback/route";
import { GET as getMetrics } from "../../../app/api/v1/models/[name]/metrics/route";
import { MetricsSeries } from "../../../lib/api/contracts/monitoring";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import { compactRollups } from "../../../lib/monitoring/blocks";
import { submitFeedback } from "../../../lib/monitoring/feedback";
import { buildLinearRegressionModel } from "../../../lib/onnx/build";
import { createModel } from "../../../lib/registry";
import { postgresPredictionSink, type PredictionRecord } from "../../../lib/serving/prediction-log";
import { truncateAll, useTestDatabase } from "../helpers/db";
import {
  addVersion,
  classifierBytes,
  createClassifier,
  storeFor,
  tempDataDir,
} from "../serving/harness";
import { traffic, type Served } from "./helpers";

/** POST /api/v1/feedback: per-item outcomes, the rest applied, rollups kept equal. */
const db = useTestDatabase({ truncate: false });
const sink = postgresPredictionSink(db.url);
let data: Awaited<ReturnType<typeof tempDataDir>>;
let clf: Served;
let reg: Served;
let token: string;
const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);

async function served(name: string): Promise<Served> {
  const m = await db.client.model.findUniqueOrThrow({
    where: { name },
    include: { versions: true },
  });
  const v = m.versions[0]!;
  return { modelId: m.id, model: m.name, versionId: v.id, version: v.version };
}

async function rollup(s: Served) {
  const [r] = await db.client.$queryRawUnsafe<
    { requests: number; labelled: number; correct: number; abs: number; sq: number }[]
  >(
    `SELECT sum(requests)::int AS requests, sum(labelled)::int AS labelled, sum(correct)::int AS correct,
            sum("absErrorSum") AS abs, sum("sqErrorSum") AS sq
       FROM metric_rollup WHERE "modelId" = $1::uuid`,
    s.modelId,
  );
  return r!;
}

beforeAll(async () => {
  // The route wrapper authenticates through better-auth, which needs a secret.
  process.env.BETTER_AUTH_SECRET ??= "integration-test-secret-".padEnd(48, "x");
  await truncateAll(db.url);
  data = await tempDataDir();
  const store = storeFor(data.dir);
  await createClassifier(db.client, store, "fb-clf", [classifierBytes(2)]); // always "z"
  await createModel(db.client, SYSTEM_ACTOR, { name: "fb-reg", task: "regression" });
  await addVersion(
    db.client,
    store,
    "fb-reg",
    buildLinearRegressionModel({ weights: [1, 2], bias: 0.5 }),
  );
  clf = await served("fb-clf");
  reg = await served("fb-reg");
  token = (
    await createApiToken(db.client, SYSTEM_ACTOR, { name: "feedback-client", role: "viewer" })
  ).secret;
});

afterAll(async () => {
  await sink.end();
  await data?.cleanup();
});

function logged(s: Served, count: number, seed: number, predict: PredictionRecord["predicted"]) {
  return traffic(s, {
    startMs: T0 + seed * 60_000,
    spanMs: 60_000,
    count,
    seed,
    predict: () => JSON.parse(predict!) as Array<string | number>,
  }).map((r) => ({ ...r, predicted: predict, rows: (JSON.parse(predict!) as unknown[]).length }));
}

describe("feedback", () => {
  it("reports each bad item and applies the rest in one go, folding them into the rollups", async () => {
    const one = logged(clf, 4, 1, '["z"]');
    const three = logged(clf, 1, 2, '["z","z","z"]');
    const failed = { ...logged(clf, 1, 3, '["z"]')[0]!, status: 503, predicted: null };
    await sink.insert([...one, ...three, failed], "test");
    const before = await rollup(clf);
    expect(before).toMatchObject({ requests: 6, labelled: 0, correct: 0 });

    const unknown = randomUUID();
    const outcome = await submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: one[0]!.requestId, label: "z" }, // right
      { request_id: one[1]!.requestId, label: 0 }, // index of "x": wrong
      { request_id: unknown, label: "z" },
      { request_id: one[2]!.requestId, value: 3 },
      { request_id: one[3]!.requestId, label: "w" },
      { request_id: three[0]!.requestId, label: ["z", "z"] },
      { request_id: failed.requestId, label: "z" },
      { request_id: three[0]!.requestId, label: ["z", 1, "2"] }, // the last for an id counts
    ]);
    expect(outcome.results.map((r) => r.status)).toEqual([
      "applied",
      "applied",
      "unknown_request",
      "wrong_kind",
      "invalid_label",
      "duplicate",
      "not_scored",
      "applied",
    ]);
    expect(outcome).toMatchObject({ applied: 3, rejected: 5 });
    expect(outcome.results[4]!.message).toMatch(/"w" is not a class of the model/);
    expect(outcome.results[7]).toMatchObject({ model: "fb-clf", version: 1, rows: 3, correct: 2 });
    expect(await rollup(clf)).toMatchObject({ requests: 6, labelled: 5, correct: 3 });
    const stored = await db.client.predictionFeedback.findUniqueOrThrow({
      where: { requestId: one[1]!.requestId },
    });
    expect(stored).toMatchObject({ kind: "label", truth: ["x"], labelled: 1, correct: 0 });
    expect(stored.submittedByLabel).toBe("system");

    // Sending feedback again replaces it: the old contribution is taken back first.
    const again = await submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: one[0]!.requestId, label: "y" },
      { request_id: one[1]!.requestId, label: 2 },
    ]);
    expect(again.results.map((r) => r.status)).toEqual(["replaced", "replaced"]);
    expect(await rollup(clf)).toMatchObject({ requests: 6, labelled: 5, correct: 3 });
    const total = await db.client.predictionFeedback.aggregate({
      where: { modelId: clf.modelId },
      _sum: { labelled: true, correct: true },
    });
    expect(total._sum).toEqual({ labelled: 5, correct: 3 });
  });

  it("scores regression values by absolute and squared error", async () => {
    const rows = logged(reg, 2, 5, "[2.5]");
    await sink.insert(rows, "test");
    const outcome = await submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: rows[0]!.requestId, value: 1 },
      { request_id: rows[1]!.requestId, value: [4.5] },
      { request_id: rows[1]!.requestId, label: "a" },
    ]);
    expect(outcome.results.map((r) => r.status)).toEqual(["applied", "duplicate", "wrong_kind"]);
    const after = await submitFeedback(db.client, SYSTEM_ACTOR, [
      { request_id: rows[1]!.requestId, value: [4.5] },
    ]);
    expect(after.results[0]).toMatchObject({ status: "applied", absError: 2 });
    expect(await rollup(reg)).toMatchObject({ labelled: 2, abs: 3.5, sq: 6.25 });
  });

  it("answers through the API: a prediction client's token, zod errors naming the item", async () => {
    const rows = logged(clf, 1, 7, '["z"]');
    await sink.insert(rows, "test");
    const call = (body: unknown, auth = `Bearer ${token}`) =>
      postFeedback(
        new Request("http://localhost/api/v1/feedback", {
          method: "POST",
          headers: { authorization: auth, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    const ok = await call({ items: [{ request_id: rows[0]!.requestId, label: "z" }] });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ applied: 1, rejected: 0 });

    const bad = await call({
      items: [{ request_id: rows[0]!.requestId }, { request_id: "nope", label: "z" }],
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { details: { fields: { field: string }[] } } };
    expect(body.error.details.fields.map((f) => f.field)).toEqual(
      expect.arrayContaining(["items.0", "items.1.request_id"]),
    );
    expect((await call({ items: [] })).status).toBe(400);
    expect((await call({ items: [] }, "Bearer mdk_not-a-token")).status).toBe(401);
  });

  it("serves the metrics series over the API, with 4xx JSON for bad ranges and names", async () => {
    const get = (query: string, name = "fb-clf") =>
      getMetrics(
        new Request(`http://localhost/api/v1/models/${name}/metrics${query}`, {
          headers: { authorization: `Bearer ${token}` },
        }),
        { params: Promise.resolve({ name }) },
      );
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 3600_000).toISOString();
    const res = await get(`?from=${from}&to=${to}&step=5m`);
    expect(res.status).toBe(200);
    const series = MetricsSeries.parse(await res.json());
    const v1 = series.versions.find((v) => v.version === 1)!;
    expect(v1.aliases).toEqual(["production"]);
    expect(v1.summary).toMatchObject({ requests: 7, labelled: 6, errors: 1 });
    for (const [query, status, field] of [
      [`?from=${to}&to=${from}`, 400, "query.from"],
      [`?from=${from}&to=${to}&step=7x`, 400, "step"],
      [`?from=${from}&to=${to}&step=1m&extra=1`, 400, "query.extra"],
      [`?from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z&step=1m`, 400, "query.step"],
      [`?from=yesterday`, 400, "from"],
    ] as const) {
      const r = await get(query);
      expect(r.status, query).toBe(status);
      const text = await r.text();
      expect(text, query).toContain(field);
    }
    expect((await get(`?version=9`)).status).toBe(404);
    expect((await get("", "no-such-model")).status).toBe(404);
  });
  it("keeps compacted blocks equal to their minutes while feedback and compaction run at once", async () => {
    const rows = logged(clf, 60, 11, '["z"]');
    await sink.insert(rows, "test");
    const now = new Date(T0 + 3600_000);
    await compactRollups(db.client, { now });
    const half = rows.length / 2;
    for (let round = 0; round < 6; round++) {
      const label = round % 2 ? "z" : "x";
      await Promise.all([
        submitFeedback(
          db.client,
          SYSTEM_ACTOR,
          rows.slice(0, half).map((r) => ({ request_id: r.requestId, label })),
        ),
        compactRollups(db.client, { now }),
        submitFeedback(
          db.client,
          SYSTEM_ACTOR,
          rows.slice(half).map((r) => ({ request_id: r.requestId, label })),
        ),
        compactRollups(db.client, { now }),
      ]);
    }
    const blocks = await db.client.$queryRawUnsafe<
      { start: Date; labelled: number; correct: number; mLabelled: number; mCorrect: number }[]
    >(
      `SELECT b.start, b.labelled::int AS labelled, b.correct::int AS correct,
              sum(m.labelled)::int AS "mLabelled", sum(m.correct)::int AS "mCorrect"
         FROM metric_rollup_block b
         JOIN metric_rollup m ON m."modelId" = b."modelId" AND m.version = b.version
          AND date_bin('1800 seconds', m.minute, timestamp '1970-01-01') = b.start
        WHERE b."modelId" = $1::uuid
        GROUP BY 1, 2, 3`,
      clf.modelId,
    );
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) {
      expect({ labelled: b.labelled, correct: b.correct }).toEqual({
        labelled: b.mLabelled,
        correct: b.mCorrect,
      });
    }
    // The last round (5) said "z", which the model answered, for every one of these.
    const minutes = await db.client.predictionFeedback.aggregate({
      where: { requestId: { in: rows.map((r) => r.requestId) } },
      _sum: { correct: true, labelled: true },
    });
    expect(minutes._sum).toEqual({ correct: 60, labelled: 60 });
  });
});
