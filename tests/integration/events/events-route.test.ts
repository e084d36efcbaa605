import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GET } from "../../../app/api/v1/events/route";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import {
  ALERT_EVENTS_CHANNEL,
  METRICS_CHANNEL,
  metricsUpdatedNotifyQuery,
} from "../../../lib/events/channels";
import { getLiveEventHub, LiveEventHub } from "../../../lib/events/hub";
import { liveEventStream } from "../../../lib/events/sse";
import { createLogger } from "../../../lib/log";
import { MODEL_EVENTS_CHANNEL } from "../../../lib/registry/events";
import { useTestDatabase } from "../helpers/db";

/**
 * GET /api/v1/events end to end below HTTP: the real route handler (authentication, query
 * validation), the process's hub on a real LISTEN connection, NOTIFYs sent by another
 * connection as the serving process and the registry do.
 */

type SseMessage = { event: string; data: unknown };

/** Reads an SSE body message by message (comments and `retry:` kept as their own kinds). */
class SseReader {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  readonly seen: SseMessage[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;
  done = false;
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** The next message named `event` (skipping others), or throws after `timeoutMs`. */
  async next(event: string, timeoutMs = 5000): Promise<SseMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen.findIndex((m) => m.event === event);
      if (found >= 0) return this.seen.splice(found, 1)[0]!;
      if (this.done) throw new Error(`stream ended before a "${event}" event`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${event}" event within ${timeoutMs} ms`);
      await this.pull(left);
    }
  }

  /** Reads until the stream ends (or throws after `timeoutMs`). */
  async untilDone(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.done) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream still open after ${timeoutMs} ms`);
      await this.pull(left);
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }

  private async pull(timeoutMs: number) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">(
      (r) => (timer = setTimeout(() => r("timeout"), timeoutMs)),
    );
    const result = await Promise.race([this.reader.read(), timeout]);
    clearTimeout(timer);
    if (result === "timeout") return;
    if (result.done) {
      this.done = true;
      return;
    }
    this.buffer += this.decoder.decode(result.value, { stream: true });
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = "message";
      let data: string | null = null;
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
        else if (line.startsWith("retry: ")) this.retry = Number(line.slice(7));
        else if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data = line.slice(6);
      }
      if (data !== null) this.seen.push({ event, data: JSON.parse(data) });
    }
  }
}

describe("GET /api/v1/events", () => {
  const db = useTestDatabase();
  let notifier: pg.Client;
  let token: string;
  const open: AbortController[] = [];

  beforeAll(async () => {
    process.env.BETTER_AUTH_SECRET ??= "integration-test-secret-".padEnd(48, "x");
    notifier = new pg.Client({ connectionString: db.url });
    await notifier.connect();
  });
  beforeEach(async () => {
    token = (
      await createApiToken(db.client, SYSTEM_ACTOR, {
        name: `viewer-${randomUUID()}`,
        role: "viewer",
      })
    ).secret;
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.abort();
  });
  afterAll(async () => {
    await getLiveEventHub().stop();
    await notifier.end();
  });

  async function connect(query = "", headers: Record<string, string> = {}) {
    const controller = new AbortController();
    open.push(controller);
    const response = await GET(
      new Request(`http://localhost/api/v1/events${query}`, {
        headers: { authorization: `Bearer ${token}`, ...headers },
        signal: controller.signal,
      }),
    );
    return { response, controller };
  }

  async function stream(query = "") {
    const { response, controller } = await connect(query);
    expect(response.status, await peekError(response)).toBe(200);
    const reader = new SseReader(response.body!.getReader());
    return { reader, controller };
  }

  async function peekError(response: Response): Promise<string> {
    return response.status === 200 ? "" : await response.clone().text();
  }

  const notify = (channel: string, payload: unknown) =>
    notifier.query("SELECT pg_notify($1, $2)", [channel, JSON.stringify(payload)]);

  const listenerConnections = async () =>
    Number(
      (
        await notifier.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE application_name = 'modeldeck-live-events' AND datname = current_database()`,
        )
      ).rows[0]!.n,
    );

  it("streams an event after a NOTIFY, with the SSE headers, retry and ready, and closes cleanly on disconnect", async () => {
    const { response, controller } = await connect();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    const reader = new SseReader(response.body!.getReader());

    const ready = await reader.next("ready");
    expect(reader.retry).toBe(3000);
    expect(ready.data).toEqual({ topics: ["metrics", "model", "alert"], heartbeatMs: 15_000 });
    expect(getLiveEventHub().subscriberCount).toBe(1);

    const modelId = randomUUID();
    // The statement the serving process sends after a prediction-log flush.
    const q = metricsUpdatedNotifyQuery([modelId]);
    await notifier.query(q.text, q.values);
    expect((await reader.next("metrics")).data).toEqual({
      type: "metrics.updated",
      modelIds: [modelId],
    });

    const alert = { type: "alert.firing", alertId: randomUUID(), ruleId: randomUUID(), modelId };
    await notify(ALERT_EVENTS_CHANNEL, alert);
    expect((await reader.next("alert")).data).toEqual(alert);
    // A rule change as lib/alerts announces it: no alert id.
    await notify(ALERT_EVENTS_CHANNEL, { type: "rule.created", ruleId: "r9", modelId: null });
    expect((await reader.next("alert")).data).toEqual({
      type: "rule.created",
      alertId: null,
      ruleId: "r9",
      modelId: null,
    });

    // A malformed payload is dropped, the stream carries on.
    await notifier.query("SELECT pg_notify($1, 'not json')", [METRICS_CHANNEL]);
    await notify(METRICS_CHANNEL, { type: "metrics.updated", models: ["after-bad"] });
    expect((await reader.next("metrics")).data).toEqual({
      type: "metrics.updated",
      modelIds: ["after-bad"],
    });

    controller.abort();
    await reader.untilDone();
    expect(getLiveEventHub().subscriberCount).toBe(0);
  });

  it("gives many clients their events through one database connection", async () => {
    const clients = await Promise.all(Array.from({ length: 25 }, () => stream()));
    await Promise.all(clients.map((c) => c.reader.next("ready")));
    expect(getLiveEventHub().subscriberCount).toBe(25);
    expect(await listenerConnections()).toBe(1);

    await notify(METRICS_CHANNEL, { type: "metrics.updated", models: ["m-1", "m-2"] });
    const got = await Promise.all(clients.map((c) => c.reader.next("metrics")));
    for (const m of got)
      expect(m.data).toEqual({ type: "metrics.updated", modelIds: ["m-1", "m-2"] });

    for (const c of clients) c.controller.abort();
    await Promise.all(clients.map((c) => c.reader.untilDone()));
    expect(getLiveEventHub().subscriberCount).toBe(0);
    // The connection lingers for the next page (30 s by default), still one.
    expect(await listenerConnections()).toBe(1);
  });

  it("filters by topic and by model (events about no model in particular still pass)", async () => {
    const model = await db.client.model.create({
      data: {
        name: "filtered",
        task: "classification",
        createdByType: "system",
        createdByLabel: "system",
      },
    });
    const { reader } = await stream("?topics=metrics,alert&model=filtered");
    expect((await reader.next("ready")).data).toMatchObject({ topics: ["metrics", "alert"] });

    await notify(METRICS_CHANNEL, { type: "metrics.updated", models: [randomUUID()] });
    await notify(MODEL_EVENTS_CHANNEL, {
      type: "model.updated",
      modelId: model.id,
      model: "filtered",
      alias: null,
      version: null,
      versionId: null,
      actor: "system",
      at: new Date().toISOString(),
    });
    const jobAlert = { type: "alert.firing", alertId: "a1", ruleId: "r1", modelId: null };
    await notify(ALERT_EVENTS_CHANNEL, jobAlert);
    await notify(METRICS_CHANNEL, { type: "metrics.updated", models: [randomUUID(), model.id] });

    // In order: the other model's metrics and the (unasked) model topic were dropped.
    expect((await reader.next("alert")).data).toEqual(jobAlert);
    const metrics = await reader.next("metrics");
    expect((metrics.data as { modelIds: string[] }).modelIds).toContain(model.id);
    expect(reader.seen).toEqual([]);
  });

  it("answers 400 for unknown topics or parameters, 404 for an unknown model, 401 without credentials", async () => {
    const bad = await connect("?topics=metrics,weather");
    expect(bad.response.status).toBe(400);
    const body = (await bad.response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.message).toContain('unknown topic "weather"');

    const unknownParam = await connect("?since=5");
    expect(unknownParam.response.status).toBe(400);
    expect(await unknownParam.response.text()).toContain("since");

    const missing = await connect("?model=no-such-model");
    expect(missing.response.status).toBe(404);

    const anonymous = await GET(new Request("http://localhost/api/v1/events"));
    expect(anonymous.status).toBe(401);
    expect(getLiveEventHub().subscriberCount).toBe(0);
  });
});

describe("LiveEventHub and the event stream", () => {
  const db = useTestDatabase({ truncate: false });
  const log = createLogger("test", "silent");
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(() => admin.end());

  const connectionsOf = async (name: string) =>
    (
      await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
        [name],
      )
    ).rows;

  it("sends heartbeats, ends at its lifetime, and the hub closes its connection after the last subscriber lingers out", async () => {
    const hub = new LiveEventHub({ connectionString: db.url, log, lingerMs: 200 });
    const body = liveEventStream({
      hub,
      topics: new Set(["metrics"]),
      heartbeatMs: 50,
      maxLifetimeMs: 600,
    });
    const reader = new SseReader(body.getReader());
    await reader.next("ready");
    const opened = Date.now();
    await reader.untilDone(2000);
    // Ended by the server at about 600 ms (±10 %), with a heartbeat every 50 ms until then.
    expect(Date.now() - opened).toBeGreaterThan(400);
    expect(reader.comments.filter((c) => c === "heartbeat").length).toBeGreaterThanOrEqual(5);
    expect(hub.subscriberCount).toBe(0);
    expect(hub.connected).toBe(true);
    await expect.poll(() => hub.connected, { timeout: 3000 }).toBe(false);
    // The route tests' process-wide hub was stopped in their afterAll: nothing listens now.
    await expect
      .poll(async () => (await connectionsOf("modeldeck-live-events")).length, { timeout: 3000 })
      .toBe(0);
    await hub.stop();
  });

  it("tells streams to resync when the database connection was lost and is back", async () => {
    const hub = new LiveEventHub({ connectionString: db.url, log });
    const reader = new SseReader(
      liveEventStream({ hub, topics: new Set(["metrics"]) }).getReader(),
    );
    await reader.next("ready");
    const connections = await connectionsOf("modeldeck-live-events");
    expect(connections).toHaveLength(1);
    await admin.query("SELECT pg_terminate_backend($1)", [connections[0]!.pid]);
    await reader.next("resync", 10_000);
    // Delivering again after the reconnection.
    await admin.query("SELECT pg_notify($1, $2)", [
      METRICS_CHANNEL,
      JSON.stringify({ type: "metrics.updated", models: ["again"] }),
    ]);
    expect((await reader.next("metrics")).data).toEqual({
      type: "metrics.updated",
      modelIds: ["again"],
    });
    await reader.cancel();
    await hub.stop();
  });

  it("drops a stream whose reader stopped reading, not the others", async () => {
    const hub = new LiveEventHub({ connectionString: db.url, log });
    const stalled = liveEventStream({ hub, topics: new Set(["metrics"]), maxQueued: 4 });
    const live = new SseReader(liveEventStream({ hub, topics: new Set(["metrics"]) }).getReader());
    await live.next("ready");
    expect(hub.subscriberCount).toBe(2);
    for (let i = 0; i < 6; i++) {
      await admin.query("SELECT pg_notify($1, $2)", [
        METRICS_CHANNEL,
        JSON.stringify({ type: "metrics.updated", models: [`m${i}`] }),
      ]);
    }
    for (let i = 0; i < 6; i++) {
      expect((await live.next("metrics")).data).toEqual({
        type: "metrics.updated",
        modelIds: [`m${i}`],
      });
    }
    expect(hub.subscriberCount).toBe(1);
    await stalled.cancel();
    await hub.stop();
  });
});
