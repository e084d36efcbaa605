import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as postRule } from "../../../app/api/v1/alert-rules/route";
import { createAlertRule, evaluateAlertRules, type AlertMetric } from "../../../lib/alerts";
import { readMetric } from "../../../lib/alerts/values";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import {
  rollupDeltas,
  upsertRollupsQuery,
  type RolledUpRequest,
} from "../../../lib/monitoring/rollups";
import { truncateAll, useTestDatabase } from "../helpers/db";
import { classifierBytes, createClassifier, storeFor, tempDataDir } from "../serving/harness";

/**
 * Client and server error rates as alert metrics, read from rollups written as the serving
 * process writes them: one window with 200s, 400s, 500s/503s and 404s no version answered,
 * judged per metric and scope (a table), then through the evaluator and the API.
 */
const db = useTestDatabase({ truncate: false });
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const NOW = new Date(T0 + 90_000);
let modelId = "";
let data: Awaited<ReturnType<typeof tempDataDir>>;

beforeAll(async () => {
  await truncateAll(db.url);
  data = await tempDataDir();
  // v1 and v2 exist; v2 is in production.
  await createClassifier(
    db.client,
    storeFor(data.dir),
    "clf",
    [classifierBytes(0), classifierBytes(1)],
    2,
  );
  modelId = (await db.client.model.findUniqueOrThrow({ where: { name: "clf" } })).id;
  const at = new Date(T0 + 30_000);
  const requests = (version: number | null, status: number, n: number): RolledUpRequest[] =>
    Array.from({ length: n }, () => ({ modelId, version, status, latencyMs: 3, at }));
  const q = upsertRollupsQuery(
    rollupDeltas([
      // v1: 100 requests, 15 client errors, 5 server errors.
      ...requests(1, 200, 80),
      ...requests(1, 400, 12),
      ...requests(1, 413, 3),
      ...requests(1, 500, 5),
      // v2: 50 requests, no client errors, 5 server errors.
      ...requests(2, 200, 45),
      ...requests(2, 503, 5),
      // An alias the model does not have: 10 requests no version answered.
      ...requests(null, 404, 10),
    ]),
  );
  await db.client.$executeRawUnsafe(q.text, ...q.values);
});

afterAll(() => data?.cleanup());

describe("client_error_rate and server_error_rate", () => {
  const table: Array<{
    metric: AlertMetric;
    scope: { version?: number; alias?: string };
    value: number | null;
  }> = [
    // All versions: the model's 160 requests, the 404s no version answered among them.
    { metric: "client_error_rate", scope: {}, value: 25 / 160 },
    { metric: "server_error_rate", scope: {}, value: 10 / 160 },
    // error_rate, as stored rules have it, is the server error rate (5xx only).
    { metric: "error_rate", scope: {}, value: 10 / 160 },
    { metric: "client_error_rate", scope: { version: 1 }, value: 15 / 100 },
    { metric: "server_error_rate", scope: { version: 1 }, value: 5 / 100 },
    { metric: "error_rate", scope: { version: 1 }, value: 5 / 100 },
    // An alias resolves to its version (production → v2) at evaluation time.
    { metric: "client_error_rate", scope: { alias: "production" }, value: 0 },
    { metric: "server_error_rate", scope: { alias: "production" }, value: 5 / 50 },
    // No requests: no data, neither 0 nor a breach.
    { metric: "client_error_rate", scope: { version: 3 }, value: null },
    { metric: "server_error_rate", scope: { alias: "staging" }, value: null },
  ];
  it.each(table)("$metric over $scope is $value", async ({ metric, scope, value }) => {
    const reading = await readMetric(
      db.client,
      {
        modelId,
        metric,
        windowSeconds: 60,
        version: scope.version ?? null,
        alias: scope.alias ?? null,
      },
      NOW,
    );
    if (value === null) expect(reading.value).toBeNull();
    else expect(reading.value).toBeCloseTo(value, 12);
  });

  it("a rule on each fires on its own kind: 4xx do not trip a 5xx rule", async () => {
    const rule = (name: string, metric: AlertMetric) =>
      createAlertRule(db.client, SYSTEM_ACTOR, {
        name,
        model: "clf",
        version: 1,
        metric,
        windowSeconds: 60,
        comparison: "gt",
        threshold: 0.1,
        forSeconds: 0,
        severity: "warning",
      });
    const client = await rule("bad requests", "client_error_rate");
    const server = await rule("failing", "server_error_rate");
    await evaluateAlertRules(db.client, { now: NOW });
    const open = await db.client.alert.findMany({ where: { state: "firing" } });
    expect(open.map((a) => a.ruleId)).toEqual([client.id]);
    const t = await db.client.alertTransition.findFirstOrThrow({ where: { ruleId: client.id } });
    expect(t.reason).toMatch(/^Client error rate \(4xx\) 0\.15 > 0\.1: /);
    const quiet = await db.client.alertRule.findUniqueOrThrow({ where: { id: server.id } });
    expect(quiet.lastValue).toBeCloseTo(0.05, 12);
  });

  it("the API takes the new metrics, checks their threshold, and still takes error_rate", async () => {
    process.env.BETTER_AUTH_SECRET ??= "integration-test-secret-".padEnd(48, "x");
    const { secret } = await createApiToken(db.client, SYSTEM_ACTOR, {
      name: "ops",
      role: "operator",
    });
    const post = (body: Record<string, unknown>) =>
      postRule(
        new Request("http://localhost/api/v1/alert-rules", {
          method: "POST",
          headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
          body: JSON.stringify({
            name: `rule ${body.metric} ${body.threshold}`,
            model: "clf",
            windowSeconds: 300,
            comparison: "gt",
            severity: "info",
            ...body,
          }),
        }),
      );
    for (const metric of ["client_error_rate", "server_error_rate", "error_rate"]) {
      const ok = await post({ metric, threshold: 0.05 });
      expect(ok.status, await ok.clone().text()).toBe(201);
      expect(((await ok.json()) as { rule: { unit: string } }).rule.unit).toBe("fraction");
      const bad = await post({ metric, threshold: 5 });
      expect(bad.status).toBe(400);
      const body = (await bad.json()) as {
        error: { details: { fields: { field: string; message: string }[] } };
      };
      expect(body.error.details.fields).toEqual([
        { field: "threshold", message: `must be between 0 and 1 for ${metric} (fraction)` },
      ]);
    }
  });
});
