import { createHmac, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import * as contracts from "../../../lib/api/contracts/notifications";
import type { Actor } from "../../../lib/audit";
import { createLogger } from "../../../lib/log";
import {
  createWebhook,
  listDeliveries,
  publishEvent,
  rotateWebhookSecret,
  sendTestEvent,
  updateWebhook,
  verifySignature,
  WebhookDispatcher,
  type WebhookSettings,
} from "../../../lib/notifications";
import { claimDelivery, LOST_ATTEMPT_ERROR } from "../../../lib/notifications/queue";
import { deleteOldDeliveries } from "../../../lib/notifications/retention";
import { createJob, runJobNow } from "../../../lib/jobs";
import { claimNextRun, endAttempt } from "../../../lib/jobs/runs";
import { createModel, createVersion, setAlias } from "../../../lib/registry";
import { createTestPrisma, useTestDatabase } from "../helpers/db";

/**
 * Webhook delivery end to end against real HTTP receivers (node:http servers started here)
 * and the real Postgres queue: signatures, retries, timeouts, leases, and publishing inside
 * the registry's transactions.
 */

const ADMIN: Actor = { type: "system", label: "webhook-test" };

// The receivers here listen on loopback, which the outbound-request policy refuses by default:
// admit them deliberately, as an operator would an internal receiver. The policy's defaults are
// tested in outbound-policy.test.ts.
process.env.MODELDECK_OUTBOUND_ALLOW = "127.0.0.1";

type Received = {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
};

type Receiver = {
  url: string;
  received: Received[];
  close: () => Promise<void>;
};

const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/**
 * A real HTTP receiver. `respond(n, req)` decides the answer to the n-th request (1-based):
 * a status code, or "hang" to never answer.
 */
async function startReceiver(
  respond: (n: number, req: Received) => number | "hang" = () => 200,
): Promise<Receiver> {
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const entry = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      received.push(entry);
      const answer = respond(received.length, entry);
      if (answer === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(answer, { "content-type": "text/plain" });
      res.end(answer < 300 ? "ok, thanks" : `nope (${answer})`);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/modeldeck`,
    received,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const FAST: WebhookSettings = {
  timeoutMs: 2_000,
  retryBaseMs: 40,
  retryMaxMs: 200,
  pollMs: 25,
  concurrency: 4,
  retentionDays: 30,
};

describe("webhooks (lib/notifications)", () => {
  const db = useTestDatabase();
  const dispatchers: WebhookDispatcher[] = [];
  const receivers: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  function dispatcher(settings: Partial<WebhookSettings> = {}, client = db.client) {
    const d = new WebhookDispatcher({
      db: client,
      instanceId: `test-${randomUUID().slice(0, 8)}`,
      log: createLogger("test", "silent"),
      settings: { ...FAST, ...settings },
    });
    dispatchers.push(d);
    return d;
  }

  async function receiver(respond?: Parameters<typeof startReceiver>[0]) {
    const r = await startReceiver(respond);
    receivers.push(r);
    return r;
  }

  /** Polls until `done` holds (or fails after `ms`). */
  async function until<T>(
    what: string,
    fn: () => Promise<T>,
    done: (v: T) => boolean,
    ms = 15_000,
  ) {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await fn();
      if (done(value)) return value;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  const deliveryRows = () =>
    db.client.webhookDelivery.findMany({
      include: { attemptLog: { orderBy: { attempt: "asc" } } },
      orderBy: { createdAt: "asc" },
    });

  it("delivers a correctly signed payload that the receiver can verify", async () => {
    const r = await receiver();
    const { webhook, secret } = await createWebhook(db.client, ADMIN, {
      name: "ops",
      url: r.url,
      events: ["alias.moved"],
    });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const d = dispatcher();
    d.start();
    const delivery = await sendTestEvent(db.client, ADMIN, webhook.id);
    await until(
      "the delivery",
      () => listDeliveries(db.client, webhook.id),
      (l) => l.deliveries[0]?.status === "succeeded",
    );

    expect(r.received).toHaveLength(1);
    const [req] = r.received;
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers["modeldeck-event"]).toBe("webhook.test");
    expect(req!.headers["modeldeck-delivery"]).toBe(delivery.id);
    // Recomputed here independently of lib/notifications/signature.ts, as a receiver would.
    const header = String(req!.headers["modeldeck-signature"]);
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    expect(match, header).not.toBeNull();
    const [, t, v1] = match!;
    expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(30);
    const expected = createHmac("sha256", secret).update(`${t}.${req!.body}`).digest("hex");
    expect(v1).toBe(expected);
    expect(verifySignature({ header, body: req!.body, secret }).ok).toBe(true);
    expect(verifySignature({ header, body: req!.body + " ", secret }).ok).toBe(false);
    expect(verifySignature({ header, body: req!.body, secret: secret + "x" }).ok).toBe(false);

    const body = JSON.parse(req!.body);
    expect(body).toMatchObject({
      type: "webhook.test",
      id: delivery.eventId,
      data: { webhook: { id: webhook.id } },
    });

    const [logged] = (await listDeliveries(db.client, webhook.id)).deliveries;
    expect(logged).toMatchObject({
      status: "succeeded",
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
    });
    expect(logged!.attemptLog).toEqual([
      expect.objectContaining({
        attempt: 1,
        statusCode: 200,
        errorClass: null,
        error: null,
      }),
    ]);
    expect(logged!.attemptLog[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("retries a receiver that fails twice, then stops after its success: exactly three attempts", async () => {
    const r = await receiver((n) => (n <= 2 ? 503 : 200));
    const { webhook } = await createWebhook(db.client, ADMIN, {
      name: "flaky",
      url: r.url,
      events: ["job.failed"],
    });
    const d = dispatcher();
    d.start();
    await db.client.$transaction((tx) =>
      publishEvent(tx, { type: "job.failed", payload: { runId: "r1" } }),
    );
    await until("success", deliveryRows, (rows) => rows[0]?.status === "succeeded");
    // Keep polling well past the backoff: nothing more may be sent.
    for (let i = 0; i < 10; i++) {
      await d.pollOnce();
      await new Promise((res) => setTimeout(res, 40));
    }
    await d.idle();
    expect(r.received).toHaveLength(3);
    const [row] = await deliveryRows();
    expect(row).toMatchObject({
      webhookId: webhook.id,
      status: "succeeded",
      attempts: 3,
      lastStatusCode: 200,
    });
    expect(row!.attemptLog.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 503],
      [2, 503],
      [3, 200],
    ]);
    // Status and class only: neither the reason phrase nor the body ("nope (503)") is kept.
    expect(row!.attemptLog[0]!.error).toBe("The receiver answered HTTP 503.");
    expect(row!.attemptLog[0]!.errorClass).toBe("http_status");
    expect(
      JSON.stringify(row!.attemptLog, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
    ).not.toContain("nope");
    // Backoff: each retry waited (jittered, at least half the nominal delay).
    const gaps = r.received.slice(1).map((x, i) => x.at - r.received[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(FAST.retryBaseMs / 2 - 5);
    // The same delivery id and the same body every time (receivers deduplicate on it).
    expect(new Set(r.received.map((x) => x.headers["modeldeck-delivery"])).size).toBe(1);
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
  });

  it("gives up after maxAttempts and marks the delivery failed", async () => {
    const r = await receiver(() => 500);
    await createWebhook(db.client, ADMIN, { name: "down", url: r.url, events: ["job.failed"] });
    const d = dispatcher({ retryBaseMs: 5, retryMaxMs: 20 });
    d.start();
    await db.client.$transaction((tx) => publishEvent(tx, { type: "job.failed", payload: {} }));
    const [row] = await until(
      "failure",
      deliveryRows,
      (rows) => rows[0]?.status === "failed",
      30_000,
    );
    await d.idle();
    expect(row!.attempts).toBe(row!.maxAttempts);
    expect(r.received).toHaveLength(row!.maxAttempts);
    expect(row!.attemptLog).toHaveLength(row!.maxAttempts);
  });

  it("records a receiver that hangs as a timed-out attempt and retries it", async () => {
    const r = await receiver((n) => (n === 1 ? "hang" : 200));
    const { webhook } = await createWebhook(db.client, ADMIN, {
      name: "slow",
      url: r.url,
      events: ["version.created"],
    });
    const d = dispatcher({ timeoutMs: 300 });
    d.start();
    await sendTestEvent(db.client, ADMIN, webhook.id);
    const [row] = await until(
      "retry success",
      deliveryRows,
      (rows) => rows[0]?.status === "succeeded",
    );
    expect(r.received).toHaveLength(2);
    expect(row!.attemptLog).toHaveLength(2);
    const [first, second] = row!.attemptLog;
    expect(first).toMatchObject({
      attempt: 1,
      statusCode: null,
      errorClass: "timeout",
      error: "Timed out: no response within 0.3 s.",
    });
    expect(first!.durationMs).toBeGreaterThanOrEqual(290);
    expect(first!.durationMs).toBeLessThan(2_000);
    expect(second).toMatchObject({ attempt: 2, statusCode: 200, error: null });
  });

  it("records a refused connection as a failed attempt with the reason", async () => {
    const r = await receiver();
    const url = r.url;
    await r.close();
    receivers.length = 0;
    const { webhook } = await createWebhook(db.client, ADMIN, {
      name: "gone",
      url,
      events: ["job.failed"],
    });
    const d = dispatcher({ retryBaseMs: 60_000, retryMaxMs: 60_000 });
    await sendTestEvent(db.client, ADMIN, webhook.id);
    await d.pollOnce();
    await d.idle();
    const [row] = await deliveryRows();
    expect(row).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: null });
    expect(row!.lastError).toMatch(/^Request failed: ECONNREFUSED/);
    expect(row!.attemptLog[0]!.errorClass).toBe("connection");
    expect(row!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 20_000);
  });

  it("rejects URLs that are not http(s) and unknown event types, creating nothing", async () => {
    for (const url of [
      "ftp://example.com/x",
      "javascript:alert(1)",
      "file:///etc/passwd",
      "example.com/hook",
      "",
    ]) {
      const error = await createWebhook(db.client, ADMIN, {
        name: "bad",
        url,
        events: ["alias.moved"],
      }).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).details).toEqual({
        fields: [{ field: "url", message: expect.stringContaining("http:// or https://") }],
      });
    }
    const badEvent = await createWebhook(db.client, ADMIN, {
      name: "bad",
      url: "https://hooks.example.com/x",
      // @ts-expect-error an event type that does not exist
      events: ["alias.teleported"],
    }).catch((e: unknown) => e);
    expect((badEvent as ApiError).status).toBe(400);
    expect(JSON.stringify((badEvent as ApiError).details)).toContain("events.0");
    const none = await createWebhook(db.client, ADMIN, {
      name: "bad",
      url: "https://x.example",
      events: [],
    }).catch((e: unknown) => e);
    expect((none as ApiError).message).toContain("subscribe to at least one event type");
    // The API contract applies the same rules before the handler runs.
    expect(
      contracts.createWebhook.body!.safeParse({
        name: "x",
        url: "ftp://x",
        events: ["alias.moved"],
      }).success,
    ).toBe(false);
    expect(
      contracts.createWebhook.body!.safeParse({
        name: "x",
        url: "https://x.example",
        events: ["alias.moved"],
        extra: 1,
      }).success,
    ).toBe(false);
    expect(await db.client.webhook.count()).toBe(0);
    expect(await db.client.auditEntry.count()).toBe(0);
    // A PATCH with a bad URL changes nothing either.
    const { webhook } = await createWebhook(db.client, ADMIN, {
      name: "ok",
      url: "https://x.example/h",
      events: ["alias.moved"],
    });
    await expect(
      updateWebhook(db.client, ADMIN, webhook.id, { url: "gopher://x" }),
    ).rejects.toMatchObject({ status: 400 });
    expect((await db.client.webhook.findUniqueOrThrow({ where: { id: webhook.id } })).url).toBe(
      "https://x.example/h",
    );
  });

  it("queues only for enabled webhooks subscribed to the type, and nothing when the transaction rolls back", async () => {
    const a = await createWebhook(db.client, ADMIN, {
      name: "a",
      url: "https://a.example/h",
      events: ["alias.moved", "job.failed"],
    });
    await createWebhook(db.client, ADMIN, {
      name: "b",
      url: "https://b.example/h",
      events: ["version.created"],
    });
    const c = await createWebhook(db.client, ADMIN, {
      name: "c",
      url: "https://c.example/h",
      events: ["alias.moved"],
    });
    await updateWebhook(db.client, ADMIN, c.webhook.id, { enabled: false });
    await db.client.$transaction((tx) =>
      publishEvent(tx, { type: "alias.moved", payload: { model: "m" } }),
    );
    await expect(
      db.client.$transaction(async (tx) => {
        await publishEvent(tx, { type: "job.failed", payload: {} });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    const rows = await deliveryRows();
    expect(rows.map((r) => [r.webhookId, r.eventType])).toEqual([[a.webhook.id, "alias.moved"]]);
  });

  it("publishes alias.moved from a registry promotion, in the promotion's transaction", async () => {
    const { webhook } = await createWebhook(db.client, ADMIN, {
      name: "registry",
      url: "https://hooks.example/h",
      events: ["alias.moved", "version.created"],
    });
    const operator = { type: "system" as const, label: "promoter", role: "admin" as const };
    await createModel(db.client, operator, { name: "churn", task: "classification" });
    for (const n of [1, 2]) {
      const sha = createHmac("sha256", "x").update(`v${n}`).digest("hex");
      await createVersion(db.client, operator, {
        modelName: "churn",
        sha256: sha,
        sizeBytes: 10,
        storageKey: `sha256/${sha.slice(0, 2)}/${sha}`,
        signature: { inputs: [], outputs: [], opsets: [], producer: { name: "t", version: "1" } },
        originalFilename: `v${n}.onnx`,
      });
    }
    await setAlias(db.client, operator, { modelName: "churn", alias: "production", version: 1 });
    let rows = await deliveryRows();
    expect(rows.map((r) => r.eventType)).toEqual([
      "version.created",
      "version.created",
      "alias.moved",
    ]);
    const moved = JSON.parse(rows[2]!.body);
    expect(moved).toMatchObject({
      type: "alias.moved",
      data: { model: "churn", alias: "production", version: 1, fromVersion: null },
    });
    expect(rows.every((r) => r.webhookId === webhook.id)).toBe(true);

    // A promotion whose transaction fails after the alias moved (its audit entry is refused
    // here by a trigger) is rolled back whole: no alias move, no notification.
    await db.client.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION test_refuse_alias_audit() RETURNS trigger AS $$
      BEGIN
        IF NEW.action = 'alias.move' THEN RAISE EXCEPTION 'audit refused by the test'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await db.client.$executeRawUnsafe(
      `CREATE TRIGGER test_refuse_alias_audit BEFORE INSERT ON audit_entry FOR EACH ROW EXECUTE FUNCTION test_refuse_alias_audit()`,
    );
    try {
      await expect(
        setAlias(db.client, operator, { modelName: "churn", alias: "production", version: 2 }),
      ).rejects.toThrow(/audit refused by the test/);
    } finally {
      await db.client.$executeRawUnsafe(`DROP TRIGGER test_refuse_alias_audit ON audit_entry`);
      await db.client.$executeRawUnsafe(`DROP FUNCTION test_refuse_alias_audit()`);
    }
    rows = await deliveryRows();
    expect(rows).toHaveLength(3);
    const alias = await db.client.modelAlias.findFirstOrThrow({
      where: { name: "production" },
      include: { version: true },
    });
    expect(alias.version.version).toBe(1);
  });

  it("publishes job.failed when a run ends failed, not while it is retried", async () => {
    await createWebhook(db.client, ADMIN, {
      name: "jobs",
      url: "https://hooks.example/j",
      events: ["job.failed"],
    });
    const actor = { type: "system" as const, label: "jobs-test", role: "admin" as const };
    await createModel(db.client, actor, { name: "churn", task: "classification" });
    const job = await createJob(db.client, actor, {
      name: "nightly-import",
      model: "churn",
      schedule: "0 3 * * *",
      timezone: "UTC",
      action: { type: "import", directory: "incoming" },
    });
    const queued = await runJobNow(db.client, actor, job.id);
    const run = (await claimNextRun(db.client, "s1", 30_000))!;
    expect(run.id).toBe(queued.id);
    await db.client.jobRun.update({ where: { id: run.id }, data: { maxAttempts: 2 } });
    const retry = { status: "failed" as const, error: "disk busy.", retryable: true };
    expect(await endAttempt(db.client, run.id, "s1", retry, 0)).toBe("retrying");
    expect(await deliveryRows()).toHaveLength(0);
    const again = (await claimNextRun(db.client, "s1", 30_000))!;
    expect(again.attempt).toBe(2);
    expect(await endAttempt(db.client, run.id, "s1", { ...retry, error: "disk gone." }, 0)).toBe(
      "failed",
    );
    const rows = await deliveryRows();
    expect(rows.map((r) => r.eventType)).toEqual(["job.failed"]);
    expect(JSON.parse(rows[0]!.body).data).toEqual({
      runId: run.id,
      jobId: job.id,
      job: "nightly-import",
      model: "churn",
      attempt: 2,
      trigger: "manual",
      error: "disk gone.",
    });
  });

  it("deletes finished deliveries past the retention, never pending ones", async () => {
    const r = await receiver();
    const { webhook } = await createWebhook(db.client, ADMIN, {
      name: "old",
      url: r.url,
      events: ["job.failed"],
    });
    for (let i = 0; i < 3; i++) await sendTestEvent(db.client, ADMIN, webhook.id);
    const d = dispatcher();
    for (let i = 0; i < 3; i++) await d.pollOnce();
    await d.idle();
    await sendTestEvent(db.client, ADMIN, webhook.id); // still pending
    const rows = await deliveryRows();
    expect(rows.map((x) => x.status).sort()).toEqual([
      "pending",
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    const old = rows.filter((x) => x.status === "succeeded").slice(0, 2);
    await db.client.webhookDelivery.updateMany({
      where: { id: { in: old.map((x) => x.id) } },
      data: { finishedAt: new Date(Date.now() - 40 * 86_400_000) },
    });
    await db.client.webhookDelivery.updateMany({
      where: { status: "pending" },
      data: { createdAt: new Date(Date.now() - 40 * 86_400_000) },
    });
    expect(await deleteOldDeliveries(db.client, new Date(Date.now() - 30 * 86_400_000))).toBe(2);
    const left = await deliveryRows();
    expect(left.map((x) => x.status).sort()).toEqual(["pending", "succeeded"]);
    expect(await db.client.webhookDeliveryAttempt.count()).toBe(1);
  });

  it("retries an attempt whose scheduler died (lease expired), logging the lost attempt", async () => {
    const r = await receiver();
    const { webhook } = await createWebhook(db.client, ADMIN, {
      name: "x",
      url: r.url,
      events: ["job.failed"],
    });
    await sendTestEvent(db.client, ADMIN, webhook.id);
    // A scheduler claims it and dies before sending: its lease (50 ms here) runs out.
    const claimed = await claimDelivery(db.client, "dead-scheduler", 50);
    expect(claimed?.attempt).toBe(1);
    expect(await claimDelivery(db.client, "other", 50)).toBeNull();
    await new Promise((res) => setTimeout(res, 120));
    const d = dispatcher();
    await d.pollOnce();
    await d.idle();
    const [row] = await deliveryRows();
    expect(row).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(row!.attemptLog.map((a) => [a.attempt, a.statusCode, a.error, a.instanceId])).toEqual([
      [1, null, LOST_ATTEMPT_ERROR, "dead-scheduler"],
      [2, 200, null, expect.stringMatching(/^test-/)],
    ]);
    expect(row!.attemptLog.map((a) => a.errorClass)).toEqual(["lost", null]);
    expect(r.received).toHaveLength(1);
  });

  it("with two schedulers, makes exactly one attempt per delivery, never two at once", async () => {
    let inFlight = 0;
    let maxInFlightPerDelivery = 0;
    const active = new Map<string, number>();
    const server = http.createServer((req, res) => {
      const id = String(req.headers["modeldeck-delivery"]);
      active.set(id, (active.get(id) ?? 0) + 1);
      maxInFlightPerDelivery = Math.max(maxInFlightPerDelivery, active.get(id)!);
      inFlight++;
      req.resume();
      setTimeout(() => {
        inFlight--;
        active.set(id, active.get(id)! - 1);
        res.end("ok");
      }, 20);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/h`;
    await createWebhook(db.client, ADMIN, { name: "busy", url, events: ["job.failed"] });
    const other = createTestPrisma(db.url);
    try {
      const d1 = dispatcher({ concurrency: 3 });
      const d2 = dispatcher({ concurrency: 3 }, other);
      d1.start();
      d2.start();
      const N = 30;
      for (let i = 0; i < N; i++) {
        await db.client.$transaction((tx) =>
          publishEvent(tx, { type: "job.failed", payload: { i } }),
        );
      }
      const rows = await until(
        "all delivered",
        deliveryRows,
        (rs) => rs.length === N && rs.every((x) => x.status === "succeeded"),
        30_000,
      );
      await Promise.all([d1.idle(), d2.idle()]);
      expect(rows.every((x) => x.attempts === 1 && x.attemptLog.length === 1)).toBe(true);
      expect(new Set(rows.map((x) => x.attemptLog[0]!.instanceId)).size).toBe(2);
      expect(maxInFlightPerDelivery).toBe(1);
      expect(inFlight).toBe(0);
      const seen = [...active.keys()];
      expect(seen).toHaveLength(N);
    } finally {
      await other.$disconnect();
    }
  });

  it("signs with the rotated secret from the next attempt on, and audits without the secret", async () => {
    const r = await receiver();
    const { webhook, secret: oldSecret } = await createWebhook(db.client, ADMIN, {
      name: "rot",
      url: r.url,
      events: ["job.failed"],
    });
    const { secret: newSecret, webhook: after } = await rotateWebhookSecret(
      db.client,
      ADMIN,
      webhook.id,
    );
    expect(newSecret).not.toBe(oldSecret);
    expect(after.secretHint).toBe(`whsec_…${newSecret.slice(-4)}`);
    const d = dispatcher();
    await sendTestEvent(db.client, ADMIN, webhook.id);
    await d.pollOnce();
    await d.idle();
    const [req] = r.received;
    const header = String(req!.headers["modeldeck-signature"]);
    expect(verifySignature({ header, body: req!.body, secret: newSecret }).ok).toBe(true);
    expect(verifySignature({ header, body: req!.body, secret: oldSecret }).ok).toBe(false);
    const audit = await db.client.auditEntry.findMany({ orderBy: { id: "asc" } });
    expect(audit.map((a) => a.action)).toEqual([
      "webhook.create",
      "webhook.rotate_secret",
      "webhook.test",
    ]);
    const text = JSON.stringify(audit.map((a) => [a.before, a.after]));
    expect(text).not.toContain(oldSecret);
    expect(text).not.toContain(newSecret);
  });
});
