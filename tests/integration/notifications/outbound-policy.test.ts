import { sealWebhookSecret } from "../../../lib/notifications/stored-secret";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { POST as postWebhook } from "../../../app/api/v1/webhooks/route";
import { PATCH as patchWebhook } from "../../../app/api/v1/webhooks/[id]/route";
import { SYSTEM_ACTOR, type Actor } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import { createLogger } from "../../../lib/log";
import { OutboundPolicy } from "../../../lib/net/outbound-policy";
import {
  createWebhook,
  listDeliveries,
  sendTestEvent,
  WebhookDispatcher,
  type WebhookSettings,
} from "../../../lib/notifications";
import { truncateAll, useTestDatabase } from "../helpers/db";

/**
 * The outbound-request policy on webhooks, with real HTTP receivers on loopback, the real
 * route handlers and the real delivery queue: internal addresses in every spelling are
 * refused with a 400 naming the policy, the allow-list admits a deliberate receiver, a
 * redirect towards loopback is not followed, and no receiver body is stored.
 */

const ADMIN: Actor = { type: "system", label: "outbound-test" };
const FAST: WebhookSettings = {
  timeoutMs: 2_000,
  retryBaseMs: 60_000,
  retryMaxMs: 60_000,
  pollMs: 25,
  concurrency: 2,
  retentionDays: 30,
};
const SECRET_REPLY = "internal-only: db password is hunter2";

/** Queues a signed test event for the webhook and lets one dispatcher attempt it. */
async function deliverTestEvent(webhookId: string, outbound?: OutboundPolicy) {
  const dispatcher = new WebhookDispatcher({
    db: db.client,
    instanceId: `test-${randomUUID().slice(0, 8)}`,
    log: createLogger("test", "silent"),
    settings: FAST,
    ...(outbound ? { outbound } : {}),
  });
  try {
    await sendTestEvent(db.client, ADMIN, webhookId);
    await dispatcher.pollOnce();
    await dispatcher.idle();
  } finally {
    await dispatcher.stop();
  }
}

const db = useTestDatabase({ truncate: false });
let token: string;
const servers: http.Server[] = [];
const hits = new Map<http.Server, number>();

/** A loopback server answering `status` (with `headers`) and a body that must never be kept. */
async function server(status = 200, headers: http.OutgoingHttpHeaders = {}) {
  const s = http.createServer((req, res) => {
    hits.set(s, (hits.get(s) ?? 0) + 1);
    req.resume();
    req.on("end", () => {
      res.writeHead(status, { "content-type": "text/plain", ...headers });
      res.end(SECRET_REPLY);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  return { server: s, port, url: `http://127.0.0.1:${port}/hook` };
}

beforeAll(async () => {
  // The route wrapper authenticates through better-auth, which needs a secret.
  process.env.BETTER_AUTH_SECRET ??= "integration-test-secret-".padEnd(48, "x");
  delete process.env.MODELDECK_OUTBOUND_ALLOW;
  await truncateAll(db.url);
  token = (await createApiToken(db.client, SYSTEM_ACTOR, { name: "admin-client", role: "admin" }))
    .secret;
});

afterEach(() => {
  delete process.env.MODELDECK_OUTBOUND_ALLOW;
});

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const post = (body: unknown) =>
  postWebhook(
    new Request("http://localhost/api/v1/webhooks", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );

type ErrorBody = {
  error: {
    code: string;
    message: string;
    details: { policy: string; addressClass: string | null; fields: { field: string }[] };
  };
};

describe("the outbound-request policy on webhooks", () => {
  it("refuses every spelling of an internal address with a 400 naming the policy, creating nothing", async () => {
    const { port } = await server();
    const cases: [string, string][] = [
      [`http://127.0.0.1:${port}/hook`, "loopback"],
      [`http://2130706433:${port}/hook`, "loopback"],
      [`http://0x7f000001:${port}/hook`, "loopback"],
      [`http://0177.0.0.1:${port}/hook`, "loopback"],
      [`http://[::ffff:127.0.0.1]:${port}/hook`, "loopback"],
      [`http://[::1]:${port}/hook`, "loopback"],
      // A DNS name that resolves to loopback (the system resolver, /etc/hosts).
      [`http://localhost:${port}/hook`, "loopback"],
      ["http://169.254.169.254/latest/meta-data/", "link-local"],
      ["http://10.0.0.8/hook", "private"],
      ["http://100.64.1.1/hook", "shared (CGNAT)"],
      ["http://0.0.0.0/hook", "unspecified"],
    ];
    for (const [url, cls] of cases) {
      const res = await post({ name: "internal", url, events: ["alias.moved"] });
      expect(res.status, url).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code, url).toBe("outbound_refused");
      expect(body.error.message, url).toContain("outbound-request policy");
      expect(body.error.message, url).toContain(cls);
      expect(body.error.details, url).toMatchObject({
        policy: "outbound",
        addressClass: cls,
        fields: [{ field: "url" }],
      });
    }
    // User info in the URL, refused by the policy as well.
    const userinfo = await post({
      name: "creds",
      url: "http://user:pw@hooks.example/x",
      events: ["alias.moved"],
    });
    expect(userinfo.status).toBe(400);
    expect(((await userinfo.json()) as ErrorBody).error.code).toBe("outbound_refused");
    expect(await db.client.webhook.count()).toBe(0);
    expect(hits.size).toBe(0);
  });

  it("refuses an internal URL on update too, leaving the webhook as it was", async () => {
    const { webhook } = await createWebhook(db.client, ADMIN, {
      name: "public",
      url: "https://hooks.example/x",
      events: ["alias.moved"],
    });
    const res = await patchWebhook(
      new Request(`http://localhost/api/v1/webhooks/${webhook.id}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ url: "http://localhost:5432/" }),
      }),
      { params: Promise.resolve({ id: webhook.id }) },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.code).toBe("outbound_refused");
    const row = await db.client.webhook.findUniqueOrThrow({ where: { id: webhook.id } });
    expect(row.url).toBe("https://hooks.example/x");
    await db.client.webhook.deleteMany();
  });

  it("admits a receiver the allow-list names, and delivers to it without keeping its body", async () => {
    const receiver = await server(200);
    process.env.MODELDECK_OUTBOUND_ALLOW = "hooks.internal.test, 127.0.0.0/8";
    const res = await post({ name: "internal ok", url: receiver.url, events: ["alias.moved"] });
    expect(res.status).toBe(201);
    const { webhook } = (await res.json()) as { webhook: { id: string } };

    await deliverTestEvent(webhook.id);
    expect(hits.get(receiver.server)).toBe(1);
    const [delivery] = (await listDeliveries(db.client, webhook.id)).deliveries;
    expect(delivery).toMatchObject({ status: "succeeded", lastStatusCode: 200 });
    expect(delivery!.attemptLog[0]).toMatchObject({ statusCode: 200, errorClass: null });
    await expectNoReplyStored();
    await db.client.webhook.deleteMany();
  });

  it("does not follow a redirect from an allowed receiver to loopback; the 3xx is a failed attempt", async () => {
    const inside = await server(200);
    const redirecting = await server(302, { location: inside.url });
    process.env.MODELDECK_OUTBOUND_ALLOW = `127.0.0.1`;
    const { webhook } = await createWebhook(db.client, ADMIN, {
      name: "redirects",
      url: redirecting.url,
      events: ["alias.moved"],
    });
    // Both listen on 127.0.0.1 (the allow-list has no ports): what keeps the signed body from
    // the inside server is that no redirect is ever followed.
    await deliverTestEvent(webhook.id);
    expect(hits.get(redirecting.server)).toBe(1);
    expect(hits.get(inside.server)).toBeUndefined();
    const [delivery] = (await listDeliveries(db.client, webhook.id)).deliveries;
    expect(delivery).toMatchObject({ lastStatusCode: 302, lastErrorClass: "redirect" });
    expect(delivery!.lastError).toContain("redirects are not followed");
    // The Location is the receiver's text: not repeated in the log.
    expect(delivery!.lastError).not.toContain(String(inside.port));
    await expectNoReplyStored();
    await db.client.webhook.deleteMany();
  });

  it("refuses at connect time a saved URL whose name now resolves to loopback", async () => {
    const inside = await server(200);
    // Saved while the name pointed at a public address (written directly: the save-time check
    // is the other test's subject), then the name re-resolves to loopback.
    const names: Record<string, string> = { "rebind.test": "93.184.215.14" };
    const policy = new OutboundPolicy({
      resolver: async (host) => [{ address: names[host] ?? "0.0.0.0", family: 4 }],
    });
    await policy.checkUrl(`http://rebind.test:${inside.port}/hook`);
    const webhook = await db.client.webhook.create({
      data: {
        name: "rebinding",
        url: `http://rebind.test:${inside.port}/hook`,
        secret: sealWebhookSecret("whsec_test"),
        events: ["alias.moved"],
        createdByType: "system",
        createdByLabel: "test",
      },
    });
    names["rebind.test"] = "127.0.0.1";
    await deliverTestEvent(webhook.id, policy);
    expect(hits.get(inside.server)).toBeUndefined();
    const [delivery] = (await listDeliveries(db.client, webhook.id)).deliveries;
    expect(delivery).toMatchObject({
      status: "pending",
      lastStatusCode: null,
      lastErrorClass: "outbound_refused",
    });
    expect(delivery!.lastError).toContain("loopback");
    await db.client.webhook.deleteMany();
  });
});

/** No column of the delivery log holds any part of what a receiver answered. */
async function expectNoReplyStored() {
  const rows = await db.client.$queryRawUnsafe<{ dump: string }[]>(
    `SELECT coalesce(string_agg(t::text, ' '), '') AS dump FROM (
       SELECT a::text AS t FROM webhook_delivery_attempt a
       UNION ALL SELECT d::text FROM webhook_delivery d) x`,
  );
  expect(rows[0]!.dump.length).toBeGreaterThan(0);
  expect(rows[0]!.dump).not.toContain("hunter2");
}
