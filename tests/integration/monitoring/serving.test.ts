import { expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { compactRollups } from "../../../lib/monitoring/blocks";
import { submitFeedback } from "../../../lib/monitoring/feedback";
import { archiveVersion } from "../../../lib/registry";
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

it("counts a real serving process's client errors against the version they were addressed to", async () => {
  // v1 in production, v2 archived; the requests name the alias, a number, or nothing at all.
  await createClassifier(db.client, storeFor(fixture.dataDir), "errs", [
    classifierBytes(0),
    classifierBytes(1),
  ]);
  await archiveVersion(db.client, SYSTEM_ACTOR, { modelName: "errs", version: 2 });
  const proc = await fixture.spawn({ env: { MODELDECK_SERVING_MAX_BODY_BYTES: "4096" } });
  const started = Date.now();
  const infer = `${proc.url}/v2/models/errs/infer`;
  const sent: Array<[string, unknown, number]> = [
    // Answered by v1 (the production alias).
    ...Array.from({ length: 6 }, (): [string, unknown, number] => [infer, oneRow(), 200]),
    [infer, '{"inputs": [', 400], // malformed JSON
    [infer, "", 400], // empty body
    [infer, { inputs: [{ ...oneRow().inputs[0], name: "petals" }] }, 400], // unknown input name
    [infer, { inputs: [{ ...oneRow().inputs[0], shape: [1, 3] }] }, 400], // wrong shape
    [`${proc.url}/v2/models/errs/versions/1/predict`, { rows: [[1, 2]] }, 400], // too few features
    [infer, JSON.stringify({ pad: "x".repeat(5000) }), 413], // over the body limit
    // No version answers these: they count for the model alone.
    [`${proc.url}/v2/models/errs/versions/canary/infer`, oneRow(), 404],
    [`${proc.url}/v2/models/errs/versions/9/infer`, oneRow(), 404],
    // An archived version exists in the registry: its 404 is its own.
    [`${proc.url}/v2/models/errs/versions/2/infer`, oneRow(), 404],
  ];
  for (const [url, body, status] of sent) {
    const res = await postJson(url, body);
    expect(res.status, `${url} ${JSON.stringify(res.body)}`).toBe(status);
  }
  const model = await db.client.model.findUniqueOrThrow({ where: { name: "errs" } });
  expect(
    await until(
      async () =>
        (await db.client.predictionLog.count({ where: { modelId: model.id } })) === sent.length,
      15_000,
    ),
  ).toBe(true);

  const series = await getModelMetrics(db.client, "errs", {
    from: new Date(started - 120_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
  });
  const summaryOf = (version: number) =>
    series.versions.find((v) => v.version === version)?.summary;
  expect(summaryOf(1)).toMatchObject({ requests: 12, clientErrors: 6, errors: 0 });
  expect(summaryOf(1)!.clientErrorRate).toBeCloseTo(0.5, 12);
  expect(summaryOf(2)).toMatchObject({ requests: 1, clientErrors: 1, errors: 0 });
  expect(series.unresolved?.summary).toMatchObject({
    requests: 2,
    clientErrors: 2,
    errors: 0,
    clientErrorRate: 1,
  });

  // Prometheus says the same, by status code.
  const text = await (await fetch(`${proc.url}/metrics`)).text();
  const count = (version: string, status: string) =>
    Number(
      new RegExp(
        `^modeldeck_inference_requests_total\\{model="errs",version="${version}",status="${status}"\\} (\\d+)$`,
        "m",
      ).exec(text)?.[1] ?? 0,
    );
  expect([count("1", "200"), count("1", "400"), count("1", "413")]).toEqual([6, 5, 1]);
  expect([count("2", "404"), count("", "404")]).toEqual([1, 2]);
  await proc.stop();
});
