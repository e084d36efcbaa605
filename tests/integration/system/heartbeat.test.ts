import { hostname } from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_STALE_MS,
  liveInstances,
  startHeartbeat,
} from "../../../lib/system/heartbeat";
import { useTestDatabase } from "../helpers/db";

/** The first query of a file opens connections; give writes time to land. */
const WAIT = { timeout: 5_000 };

describe("process heartbeats", () => {
  const db = useTestDatabase();
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  function start(kind: "serving" | "scheduler", info: () => Record<string, unknown> = () => ({})) {
    const errors: unknown[] = [];
    const heartbeat = startHeartbeat(db.client, kind, info, (e) => errors.push(e));
    stops.push(heartbeat.stop);
    return { ...heartbeat, errors };
  }

  async function seedBeat(instanceId: string, kind: string, lastSeenAt: Date) {
    await db.client.processHeartbeat.create({
      data: { instanceId, kind, hostname: "h", pid: 1, startedAt: lastSeenAt, lastSeenAt },
    });
  }

  it("writes a row for the process at once, which liveInstances reports", async () => {
    const before = Date.now();
    const heartbeat = start("scheduler", () => ({ jobs: 3 }));
    await vi.waitFor(async () => {
      expect(await db.client.processHeartbeat.count()).toBe(1);
    }, WAIT);
    const row = await db.client.processHeartbeat.findUniqueOrThrow({
      where: { instanceId: heartbeat.instanceId },
    });
    expect(row).toMatchObject({
      kind: "scheduler",
      hostname: hostname(),
      pid: process.pid,
      info: { jobs: 3 },
    });
    expect(row.lastSeenAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(heartbeat.instanceId).toMatch(new RegExp(`^scheduler-.*-${process.pid}-[0-9a-f]{8}$`));

    const live = await liveInstances(db.client, "scheduler");
    expect(live.map((r) => r.instanceId)).toEqual([heartbeat.instanceId]);
    expect(await liveInstances(db.client, "serving")).toEqual([]);
    expect(heartbeat.errors).toEqual([]);
  });

  it("gives each process its own row", async () => {
    const a = start("serving");
    const b = start("serving");
    expect(a.instanceId).not.toBe(b.instanceId);
    await vi.waitFor(async () => {
      expect((await liveInstances(db.client, "serving")).length).toBe(2);
    }, WAIT);
  });

  it("stop() removes the row", async () => {
    const heartbeat = start("serving");
    await vi.waitFor(async () => {
      expect(await db.client.processHeartbeat.count()).toBe(1);
    }, WAIT);
    await heartbeat.stop();
    expect(await db.client.processHeartbeat.count()).toBe(0);
    expect(await liveInstances(db.client, "serving")).toEqual([]);
    expect(heartbeat.errors).toEqual([]);
  });

  it("stop() right after start leaves no row behind, even with the first beat in flight", async () => {
    for (let i = 0; i < 5; i++) {
      const heartbeat = start("scheduler");
      await heartbeat.stop();
      // Give a beat that was still on its way every chance to land.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await db.client.processHeartbeat.count()).toBe(0);
      expect(heartbeat.errors).toEqual([]);
    }
  });

  it("beats again every interval, refreshing lastSeenAt and info", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      let n = 0;
      const heartbeat = start("scheduler", () => ({ n: ++n }));
      await vi.waitFor(async () => {
        expect(await db.client.processHeartbeat.count()).toBe(1);
      }, WAIT);
      const first = await db.client.processHeartbeat.findFirstOrThrow();
      expect(first.info).toEqual({ n: 1 });
      await new Promise((resolve) => setTimeout(resolve, 5));
      vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS);
      await vi.waitFor(async () => {
        const row = await db.client.processHeartbeat.findFirstOrThrow();
        expect(row.info).toEqual({ n: 2 });
        expect(row.lastSeenAt.getTime()).toBeGreaterThan(first.lastSeenAt.getTime());
        expect(row.startedAt).toEqual(first.startedAt);
      }, WAIT);
      expect(heartbeat.errors).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not count processes that stopped beating; a starting process forgets rows older than a day", async () => {
    const now = new Date();
    const ago = (ms: number) => new Date(now.getTime() - ms);
    await seedBeat("fresh", "scheduler", ago(1_000));
    await seedBeat("edge", "scheduler", ago(HEARTBEAT_STALE_MS - 1_000));
    await seedBeat("stale", "scheduler", ago(HEARTBEAT_STALE_MS + 1_000));
    await seedBeat("ancient", "scheduler", ago(25 * 3600_000));
    await seedBeat("other-kind", "serving", ago(1_000));

    const live = await liveInstances(db.client, "scheduler", now);
    expect(live.map((r) => r.instanceId)).toEqual(["fresh", "edge"]); // most recent first
    // Reporting is a read: nothing is deleted by asking.
    expect(await db.client.processHeartbeat.count()).toBe(5);

    const heartbeat = start("serving");
    await vi.waitFor(async () => {
      const remaining = await db.client.processHeartbeat.findMany({
        where: { instanceId: { not: heartbeat.instanceId } },
        orderBy: { instanceId: "asc" },
      });
      expect(remaining.map((r) => r.instanceId)).toEqual(["edge", "fresh", "other-kind", "stale"]);
    }, WAIT);
    expect(heartbeat.errors).toEqual([]);
  });
});
