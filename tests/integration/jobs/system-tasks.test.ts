import { afterEach, describe, expect, it } from "vitest";
import { SystemTasks } from "../../../lib/jobs/system-tasks";
import { createLogger } from "../../../lib/log";
import { createTestPrisma, useTestDatabase } from "../helpers/db";

const db = useTestDatabase();
const log = createLogger("test");
const running: SystemTasks[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop()));
});

describe("SystemTasks", () => {
  it("runs each fire of a task on exactly one of three replicas", async () => {
    const fires: { at: string; by: number }[] = [];
    const clients = [createTestPrisma(), createTestPrisma(), createTestPrisma()];
    try {
      clients.forEach((client, by) => {
        const tasks = new SystemTasks({ db: client, instanceId: `replica-${by}`, log });
        tasks.add({
          name: "count",
          schedule: "* * * * * *",
          run: async ({ at }) => void fires.push({ at: at.toISOString(), by }),
        });
        tasks.start();
        running.push(tasks);
      });
      await new Promise((r) => setTimeout(r, 4_500));
      await Promise.all(running.splice(0).map((t) => t.stop()));
      const slots = fires.map((f) => f.at);
      expect(new Set(slots).size).toBe(slots.length); // no fire ran twice
      expect(slots.length).toBeGreaterThanOrEqual(3); // and about one per second ran
      const claims = await db.client.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM scheduler_claim WHERE key LIKE 'system:count:%'`;
      expect(Number(claims[0]!.n)).toBe(slots.length);
    } finally {
      await Promise.all(clients.map((c) => c.$disconnect()));
    }
  });

  it("skips a fire while the previous run of the task is still going, and keeps going after a failure", async () => {
    const tasks = new SystemTasks({ db: db.client, instanceId: "solo", log });
    let started = 0;
    tasks.add({
      name: "slow",
      schedule: "* * * * * *",
      run: async ({ signal }) => {
        started++;
        if (started === 1) throw new Error("first run fails");
        await new Promise((r) => {
          const t = setTimeout(r, 2_500);
          signal.addEventListener("abort", () => (clearTimeout(t), r(undefined)));
        });
      },
    });
    tasks.start();
    running.push(tasks);
    await new Promise((r) => setTimeout(r, 4_300));
    const [status] = tasks.status();
    expect(status!.failures).toBe(1);
    // fires at ~1, 2, 3, 4 s: the first fails at once, the second runs 2.5 s, the third is
    // skipped while it runs, so at most three started
    expect(started).toBeGreaterThanOrEqual(2);
    expect(started).toBeLessThanOrEqual(3);
  });
});
