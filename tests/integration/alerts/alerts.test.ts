import { beforeEach, describe, expect, it } from "vitest";
import { POST as postRule } from "../../../app/api/v1/alert-rules/route";
import { POST as postAck } from "../../../app/api/v1/alerts/[id]/ack/route";
import {
  acknowledgeAlert,
  createAlertRule,
  createSilence,
  evaluateAlertRules,
  listAlerts,
  updateAlertRule,
} from "../../../lib/alerts";
import { SYSTEM_ACTOR, type Actor } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import { rollupDeltas, upsertRollupsQuery } from "../../../lib/monitoring/rollups";
import { createModel } from "../../../lib/registry";
import { useTestDatabase } from "../helpers/db";

/**
 * Alert rules end to end against the real database: rollups written as the serving process
 * writes them, the evaluator run at scripted times, transitions, webhooks queued, ack,
 * silences, and bad rule definitions through the API.
 */
const db = useTestDatabase();
const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);
const MIN = 60_000;
const operator: Actor = { type: "system", label: "operator@test" };

let modelId: string;
beforeEach(async () => {
  modelId = (await createModel(db.client, SYSTEM_ACTOR, { name: "clf", task: "classification" }))
    .id;
});

/** 20 requests in minute `m` at `latencyMs` each (version 1). */
async function traffic(m: number, latencyMs: number) {
  const records = Array.from({ length: 20 }, (_, i) => ({
    modelId,
    version: 1,
    status: 200,
    latencyMs,
    at: new Date(T0 + m * MIN + i * 1000),
  }));
  const q = upsertRollupsQuery(rollupDeltas(records));
  await db.client.$executeRawUnsafe(q.text, ...q.values);
}

const evalAt = (k: number) => new Date(T0 + k * MIN + 30_000);

async function transitions() {
  const rows = await db.client.alertTransition.findMany({ orderBy: { id: "asc" } });
  return rows.map((t) => ({
    k: Math.round((t.at.getTime() - T0 - 30_000) / MIN),
    from: t.fromState,
    to: t.toState,
    value: t.value === null ? null : Math.round(t.value),
  }));
}

describe("alert evaluation", () => {
  it("the alert state machine over a scripted metric series matches the expected transitions including for and keep_firing_for", async () => {
    await db.client.webhook.create({
      data: {
        name: "ops",
        url: "http://127.0.0.1:9/hook",
        secret: "s3cret",
        events: ["alert.pending", "alert.firing", "alert.resolved"],
        createdByType: "system",
        createdByLabel: "system",
      },
    });
    const rule = await createAlertRule(db.client, operator, {
      name: "p95 too slow",
      model: "clf",
      metric: "latency_p95",
      windowSeconds: 60,
      comparison: "gt",
      threshold: 50,
      forSeconds: 120,
      keepFiringForSeconds: 120,
      severity: "critical",
    });
    // Per-minute latency (ms); undefined = no traffic that minute. Each evaluation at k:30
    // sees minutes k-1 and k (a 60 s window overlaps both).
    // prettier-ignore
    const series: (number | undefined)[] = [
      10, 10, 100, 100, 100, 100, 10, 10, 10, 10, // episode 1: fires, then keep_firing_for
      100, 10, 10, 10, //                           episode 2: clears while pending
      100, undefined, undefined, undefined, 100, // episode 3: a gap holds pending
    ];
    for (const [m, ms] of series.entries()) if (ms !== undefined) await traffic(m, ms);
    for (let k = 0; k < series.length; k++) {
      await evaluateAlertRules(db.client, { now: evalAt(k) });
    }

    expect(await transitions()).toEqual([
      { k: 2, from: "inactive", to: "pending", value: 100 }, // first breach
      { k: 4, from: "pending", to: "firing", value: 100 }, // held 120 s (`for`)
      // k 6 still breaches (minute 5); k 7 clear 60 s < keep_firing_for; k 8 clear 120 s
      { k: 8, from: "firing", to: "resolved", value: 10 },
      { k: 10, from: "inactive", to: "pending", value: 100 },
      { k: 12, from: "pending", to: "inactive", value: 10 }, // cleared before `for`
      { k: 14, from: "inactive", to: "pending", value: 100 },
      // k 16, 17: no data holds pending; k 18 breaches again, 240 s after the start
      { k: 18, from: "pending", to: "firing", value: 100 },
    ]);

    const alerts = await db.client.alert.findMany({ orderBy: { startedAt: "asc" } });
    expect(alerts.map((a) => a.state)).toEqual(["resolved", "inactive", "firing"]);
    expect(alerts[0]!.firingSince).toEqual(evalAt(4));
    expect(alerts[0]!.endedAt).toEqual(evalAt(8));
    const after = await db.client.alertRule.findUniqueOrThrow({ where: { id: rule.id } });
    expect(after.lastEvaluatedAt).toEqual(evalAt(series.length - 1));

    // Webhooks: one delivery per notified transition (the pending that cleared is not one).
    const deliveries = await db.client.webhookDelivery.findMany({ orderBy: { createdAt: "asc" } });
    expect(deliveries.map((d) => d.eventType)).toEqual([
      "alert.pending",
      "alert.firing",
      "alert.resolved",
      "alert.pending",
      "alert.pending",
      "alert.firing",
    ]);
    const body = JSON.parse(deliveries[1]!.body) as { type: string; data: Record<string, unknown> };
    expect(body.type).toBe("alert.firing");
    expect(body.data).toMatchObject({
      state: "firing",
      severity: "critical",
      rule: { id: rule.id, metric: "latency_p95", threshold: 50, scope: "all versions" },
      model: { name: "clf", version: null },
    });

    // The rule's creation is in the audit log.
    const audit = await db.client.auditEntry.findMany({ where: { resourceId: rule.id } });
    expect(audit.map((a) => a.action)).toEqual(["alert_rule.create"]);
  });

  it("two evaluations of the same fire (replicas racing) record one transition", async () => {
    await createAlertRule(db.client, operator, {
      name: "slow",
      model: "clf",
      metric: "latency_p99",
      windowSeconds: 60,
      comparison: "gt",
      threshold: 50,
      severity: "warning",
    });
    await traffic(0, 200);
    await Promise.all([
      evaluateAlertRules(db.client, { now: evalAt(0) }),
      evaluateAlertRules(db.client, { now: evalAt(0) }),
    ]);
    expect(await transitions()).toEqual([{ k: 0, from: "inactive", to: "firing", value: 200 }]);
    expect(await db.client.alert.count()).toBe(1);
  });

  it("ack records author and comment; a silence mutes webhooks but not state; raising the threshold resolves", async () => {
    await db.client.webhook.create({
      data: {
        name: "ops",
        url: "http://127.0.0.1:9/hook",
        secret: "s",
        events: ["alert.firing", "alert.resolved", "alert.acknowledged"],
        createdByType: "system",
        createdByLabel: "system",
      },
    });
    const rule = await createAlertRule(db.client, operator, {
      name: "slow",
      model: "clf",
      version: null,
      metric: "latency_p95",
      windowSeconds: 120,
      comparison: "gte",
      threshold: 50,
      severity: "warning",
    });
    for (let m = 0; m < 4; m++) await traffic(m, 80);
    await evaluateAlertRules(db.client, { now: evalAt(0) });
    const { alerts } = await listAlerts(db.client, {}, evalAt(0));
    expect(alerts[0]).toMatchObject({ state: "firing", acknowledged: null, silencedBy: null });

    const acked = await acknowledgeAlert(db.client, operator, alerts[0]!.id, {
      comment: "looking into it",
    });
    expect(acked.acknowledged).toMatchObject({ by: "operator@test", comment: "looking into it" });
    await expect(
      acknowledgeAlert(db.client, operator, alerts[0]!.id, { comment: "again" }),
    ).rejects.toMatchObject({ status: 409 });

    // Silence it (by model), then lift the cause: the alert resolves without a webhook.
    const silence = await createSilence(
      db.client,
      operator,
      {
        model: "clf",
        comment: "deploying a fix",
        endsAt: new Date(evalAt(0).getTime() + 3600_000).toISOString(),
      },
      null,
      evalAt(0),
    );
    await updateAlertRule(db.client, operator, rule.id, { threshold: 500 });
    await evaluateAlertRules(db.client, { now: evalAt(1) });
    const last = await db.client.alertTransition.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(last).toMatchObject({ toState: "resolved", silenced: true, silenceId: silence.id });
    const types = (await db.client.webhookDelivery.findMany({ orderBy: { createdAt: "asc" } })).map(
      (d) => d.eventType,
    );
    expect(types).toEqual(["alert.firing", "alert.acknowledged"]);
    const audit = await db.client.auditEntry.findMany({ orderBy: { id: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        "alert_rule.create",
        "alert.acknowledge",
        "alert_silence.create",
        "alert_rule.update",
      ]),
    );
    await expect(
      createSilence(db.client, operator, {
        model: "clf",
        comment: " ",
        endsAt: new Date(Date.now() + 1000).toISOString(),
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it("invalid rule definitions are 400s naming the field; viewers cannot create rules", async () => {
    process.env.BETTER_AUTH_SECRET ??= "integration-test-secret-".padEnd(48, "x");
    await createModel(db.client, SYSTEM_ACTOR, { name: "reg", task: "regression" });
    const operatorToken = (
      await createApiToken(db.client, SYSTEM_ACTOR, { name: "ops", role: "operator" })
    ).secret;
    const viewerToken = (
      await createApiToken(db.client, SYSTEM_ACTOR, { name: "viewer", role: "viewer" })
    ).secret;
    const post = (token: string, body: unknown) =>
      postRule(
        new Request("http://localhost/api/v1/alert-rules", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    const base = {
      name: "r",
      model: "reg",
      metric: "latency_p95",
      windowSeconds: 300,
      comparison: "gt",
      threshold: 5,
      severity: "info",
    };
    const fieldsOf = async (res: Response) => {
      expect(res.status).toBe(400);
      const json = (await res.json()) as {
        error: { details: { fields: { field: string; message: string }[] } };
      };
      return json.error.details.fields;
    };
    expect(
      await fieldsOf(
        await post(operatorToken, { ...base, metric: "live_accuracy", threshold: 0.9 }),
      ),
    ).toEqual([
      {
        field: "metric",
        message: "live_accuracy needs a classification model; reg is a regression model",
      },
    ]);
    expect(
      (await fieldsOf(await post(operatorToken, { ...base, windowSeconds: 30 })))[0],
    ).toMatchObject({
      field: "windowSeconds",
      message: expect.stringMatching(/at least 60 seconds/),
    });
    expect(
      (
        await fieldsOf(await post(operatorToken, { ...base, metric: "error_rate", threshold: 5 }))
      )[0],
    ).toMatchObject({
      field: "threshold",
      message: expect.stringMatching(/between 0 and 1/),
    });
    expect(
      (await fieldsOf(await post(operatorToken, { ...base, version: 1, alias: "production" })))[0],
    ).toMatchObject({
      field: "alias",
    });
    expect(
      (
        await fieldsOf(
          await post(operatorToken, { ...base, metric: "failed_job_runs", alias: "production" }),
        )
      )[0],
    ).toMatchObject({
      field: "alias",
      message: expect.stringMatching(/cannot be scoped/),
    });
    expect((await fieldsOf(await post(operatorToken, { ...base, version: 7 })))[0]).toEqual({
      field: "version",
      message: "reg has no version 7",
    });
    expect((await post(viewerToken, base)).status).toBe(403);
    const created = await post(operatorToken, { ...base, alias: "production" });
    expect(created.status).toBe(201);
    expect(await db.client.alertRule.count()).toBe(1);

    // Ack of an unknown alert: 404 with a JSON body.
    const ack = await postAck(
      new Request("http://localhost/api/v1/alerts/x/ack", {
        method: "POST",
        headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
        body: JSON.stringify({ comment: "on it" }),
      }),
      { params: Promise.resolve({ id: "0b9e4c7e-4f7a-4f8e-9f57-3c1a0c2d9b11" }) },
    );
    expect(ack.status).toBe(404);
  });
});
