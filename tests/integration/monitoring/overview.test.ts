import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addCounts, emptyCounts, quantileOfCounts } from "../../../lib/monitoring/histogram";
import { getMonitoringOverview } from "../../../lib/monitoring/overview";
import {
  rollupDeltas,
  upsertRollupsQuery,
  type RolledUpRequest,
} from "../../../lib/monitoring/rollups";
import { truncateAll, useTestDatabase } from "../helpers/db";

/**
 * The Monitoring page's figures from real rollups: totals, client (4xx) and server (5xx)
 * errors apart (requests no version answered counted for the model), a p95 from the
 * versions' histograms merged (not an average of per-version p95s), gaps in the sparkline,
 * and models without traffic in the range left out.
 */
describe("getMonitoringOverview", () => {
  const db = useTestDatabase({ truncate: false });
  let client: pg.Client;
  const MINUTE = 60_000;
  const to = Date.parse("2026-11-30T12:00:00Z");
  const from = to - 3_600_000;
  const requests: RolledUpRequest[] = [];
  let busy = "";
  let quiet = "";
  let idle = "";

  beforeAll(async () => {
    await truncateAll(db.url);
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const model = (name: string, task: "classification" | "regression") =>
      db.client.model.create({
        data: { name, task, createdByType: "system", createdByLabel: "system" },
      });
    const [busyModel, quietModel, idleModel] = await Promise.all([
      model("ov-busy", "classification"),
      model("ov-quiet", "regression"),
      model("ov-idle", "classification"),
    ]);
    [busy, quiet, idle] = [busyModel.id, quietModel.id, idleModel.id];
    for (let k = 0; k < 60; k++) {
      const at = new Date(from + k * MINUTE + 5_000);
      // busy: v1 fast every minute (a 400 every sixth minute); v2 slow, only in the second
      // half hour (a 503 every tenth minute); now and then a 404 for an alias it does not
      // serve, which no version answered (version null, as serving logs it).
      for (let i = 0; i < 10; i++) {
        const status = i === 9 && k % 6 === 0 ? 400 : 200;
        requests.push({ modelId: busy, version: 1, status, latencyMs: 2 + i / 10, at });
      }
      if (k % 20 === 7) {
        for (let i = 0; i < 2; i++)
          requests.push({ modelId: busy, version: null, status: 404, latencyMs: 0.3, at });
      }
      if (k >= 30) {
        for (let i = 0; i < 3; i++) {
          requests.push({
            modelId: busy,
            version: 2,
            status: i === 0 && k % 10 === 0 ? 503 : 200,
            latencyMs: 40 + i,
            at,
          });
        }
      }
      // quiet: one request every ten minutes; idle: only long before the range.
      if (k % 10 === 0)
        requests.push({ modelId: quiet, version: 1, status: 200, latencyMs: 7, at });
    }
    requests.push({
      modelId: idle,
      version: 1,
      status: 200,
      latencyMs: 1,
      at: new Date(from - 86_400_000),
    });
    const deltas = rollupDeltas(requests);
    await client.query(upsertRollupsQuery(deltas).text, upsertRollupsQuery(deltas).values);
    await client.query(
      `UPDATE metric_rollup SET labelled = requests, correct = requests - 1, "absErrorSum" = requests * 0.5
        WHERE "modelId" = ANY($1::uuid[]) AND version > 0`,
      [[busy, quiet]],
    );
  });
  afterAll(() => client.end());

  it("adds the rollups up per model and merges the versions' histograms for p95", async () => {
    const overview = await getMonitoringOverview(db.client, { fromMs: from, toMs: to });
    expect(overview.models.map((m) => m.model)).toEqual(["ov-busy", "ov-quiet"]);
    const b = overview.models[0]!;
    const mine = requests.filter((r) => r.modelId === busy);
    expect(b.requests).toBe(mine.length);
    // 4xx and 5xx apart, the unresolved 404s among the client errors of the model.
    const clientErrors = mine.filter((r) => r.status >= 400 && r.status < 500).length;
    const serverErrors = mine.filter((r) => r.status >= 500).length;
    expect([clientErrors, serverErrors]).toEqual([10 + 6, 3]);
    expect(b).toMatchObject({ clientErrors, serverErrors, unresolvedRequests: 6 });
    expect(b.clientErrorRate).toBeCloseTo(clientErrors / mine.length, 12);
    expect(b.serverErrorRate).toBeCloseTo(serverErrors / mine.length, 12);
    expect(b.throughput).toBeCloseTo(mine.length / 3600, 12);
    const counts = emptyCounts();
    for (const d of rollupDeltas(mine)) addCounts(counts, d.latencyBuckets);
    expect(b.latencyP95Ms).toBe(
      quantileOfCounts(counts, 0.95, Math.max(...mine.map((r) => r.latencyMs))),
    );
    // 90 of 696 requests are v2's slow ones: the merged p95 sits among them.
    expect(b.latencyP95Ms).toBeGreaterThan(30);
    // Shares of the model's requests: the 6 unresolved ones are no version's.
    expect(b.versions).toEqual([
      { version: 1, requests: 600, share: 600 / 696 },
      { version: 2, requests: 90, share: 90 / 696 },
    ]);
    // 60 minutes, each with one wrong answer per version that served.
    expect(b.labelled).toBe(690);
    expect(b.accuracy).toBeCloseTo((690 - 90) / 690, 12);
    expect(b.mae).toBeNull();

    const q = overview.models[1]!;
    expect(q.requests).toBe(6);
    expect(q).toMatchObject({ clientErrors: 0, serverErrors: 0, unresolvedRequests: 0 });
    expect(q.mae).toBeCloseTo(0.5, 12);
    expect(q.accuracy).toBeNull();
  });

  it("draws the sparkline over the whole range with gaps where nothing was served", async () => {
    const overview = await getMonitoringOverview(db.client, { fromMs: from, toMs: to });
    expect(overview.stepSeconds).toBe(60);
    const q = overview.models.find((m) => m.model === "ov-quiet")!;
    expect(q.sparkline).toHaveLength(60);
    expect(q.sparkline.filter((p) => p.throughput !== null)).toHaveLength(6);
    expect(q.sparkline[0]).toEqual({ time: from, throughput: 1 / 60 });
    expect(q.sparkline[1]!.throughput).toBeNull();
    const b = overview.models.find((m) => m.model === "ov-busy")!;
    expect(b.sparkline[45]!.throughput).toBeCloseTo(13 / 60, 12);
  });

  it("is empty for a range without traffic", async () => {
    const overview = await getMonitoringOverview(db.client, { fromMs: to, toMs: to + 3_600_000 });
    expect(overview.models).toEqual([]);
  });
});
