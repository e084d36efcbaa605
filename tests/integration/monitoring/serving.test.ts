import { expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { compactRollups } from "../../../lib/monitoring/blocks";
import { submitFeedback } from "../../../lib/monitoring/feedback";
import { getModelMetrics } from "../../../lib/monitoring/series";
import {
  classifierBytes,
  createClassifier,
  oneRow,
  postJson,
  serveTestModels,
  storeFor,
} from "../serving/harness";

/**
 * End to end below the UI: a real serving process answers and logs requests (its own rows
 * and rollups), feedback arrives by the request ids it returned, and the series equals the
 * raw log.
 */
const fixture = serveTestModels();
const db = fixture.db;

async function until(check: () => Promise<boolean>, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

it("turns a real serving process's traffic and its feedback into the series", async () => {
  // v1 answers "x" for every input, v2 "y".
  await createClassifier(db.client, storeFor(fixture.dataDir), "live", [
    classifierBytes(0),
    classifierBytes(1),
  ]);
  const proc = await fixture.spawn();
  const started = Date.now();
  const ids: { id: string; version: number }[] = [];
  for (const [version, count] of [
    [1, 30],
    [2, 20],
  ] as const) {
    for (let i = 0; i < count; i++) {
      const res = await postJson(`${proc.url}/v2/models/live/versions/${version}/infer`, oneRow());
      expect(res.status).toBe(200);
      ids.push({ id: res.headers.get("x-request-id")!, version });
    }
  }
  const bad = await postJson(`${proc.url}/v2/models/live/versions/1/infer`, { inputs: [] });
  expect(bad.status).toBe(400);
  expect(
    await until(async () => (await db.client.predictionLog.count()) === ids.length + 1, 15_000),
  ).toBe(true);

  // Truth "x" for everything: v1 is always right, v2 always wrong.
  const outcome = await submitFeedback(
    db.client,
    SYSTEM_ACTOR,
    ids.map(({ id }) => ({ request_id: id, label: "x" })),
  );
  expect(outcome).toMatchObject({ applied: ids.length, rejected: 0 });

  const range = {
    from: new Date(started - 120_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
  };
  const check = async (step: string) => {
    const series = await getModelMetrics(db.client, "live", { ...range, step });
    const raw = await db.client.$queryRawUnsafe<
      { version: number; requests: number; clientErrors: number; max: number }[]
    >(
      `SELECT version, count(*)::int AS requests,
              (count(*) FILTER (WHERE status >= 400 AND status < 500))::int AS "clientErrors",
              max("latencyMs") AS max
         FROM prediction_log GROUP BY 1 ORDER BY 1`,
    );
    for (const r of raw) {
      const summary = series.versions.find((v) => v.version === r.version)!.summary!;
      expect(summary).toMatchObject({ requests: r.requests, clientErrors: r.clientErrors });
      expect(summary.latencyMaxMs).toBeCloseTo(r.max, 9);
    }
    const [v1, v2] = series.versions;
    expect(v1!.summary).toMatchObject({ labelled: 30, accuracy: 1 });
    expect(v2!.summary).toMatchObject({ labelled: 20, accuracy: 0 });
    expect(v1!.summary!.trafficShare + v2!.summary!.trafficShare).toBeCloseTo(1, 12);
  };
  await check("1m");
  // Once the scheduler's compaction has run, whole-block steps read the blocks.
  await compactRollups(db.client, { now: new Date(Date.now() + 3_600_000) });
  await check("30m");
  await proc.stop();
});
