/**
 * The evaluation child started ahead of need (lib/evaluation/runner.ts, lib/child-process):
 * an evaluation takes the pre-started child instead of starting one, the pool starts the
 * next one afterwards, a warm child killed while idle is replaced, and one killed during an
 * evaluation fails that evaluation only: the next one succeeds on a fresh warm child.
 */
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { evaluateVersion } from "../../../lib/evaluation";
import { evaluationChildPool, prestartEvaluationChild } from "../../../lib/evaluation/runner";
import { LocalArtifactStore } from "../../../lib/storage";
import { DEMO_MODEL } from "../../../prisma/seed/demo-model";
import { useTestDatabase } from "../helpers/db";
import { tempRoot } from "../storage/harness";
import { registerIris, seedDemo, USER } from "./harness";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(check: () => T | undefined, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Timings = { warmChild: boolean; startMs: number };
const timingsOf = (v: { latency: unknown }) => (v.latency as { timings: Timings }).timings;

describe("the warm evaluation child", () => {
  const db = useTestDatabase();
  let store: LocalArtifactStore;
  let cleanup: () => Promise<void> = async () => {};
  const input = { modelName: DEMO_MODEL.name, version: 2, datasetName: "iris", latencyRuns: 20 };

  beforeEach(async () => {
    await cleanup();
    const t = await tempRoot();
    store = new LocalArtifactStore({ root: path.join(t.dir, "artifacts"), durable: false });
    cleanup = t.cleanup;
    await seedDemo(db.client, store);
    await registerIris(db.client, store);
  });
  afterAll(() => cleanup());

  it("an evaluation runs in the pre-started child, and the next child is started after it", async () => {
    const pool = evaluationChildPool();
    await prestartEvaluationChild();
    await pool.ready();
    const warmPid = await until(() => pool.idlePid, "a warm child");
    const hits = pool.stats.warmHits;

    const view = await evaluateVersion(db.client, store, USER, input);
    expect(view.status, view.error ?? "").toBe("succeeded");
    expect(timingsOf(view)).toMatchObject({ warmChild: true, startMs: 0 });
    expect(pool.stats.warmHits).toBe(hits + 1);
    // One evaluation per child: the used one is gone, a new one waits.
    await until(() => !alive(warmPid), "the used child to exit");
    const next = await until(() => pool.idlePid, "the next warm child");
    expect(next).not.toBe(warmPid);
  }, 120_000);

  it("a warm child killed while idle is replaced, and the next evaluation still uses a warm child", async () => {
    const pool = evaluationChildPool();
    await pool.ready();
    const pid = await until(() => pool.idlePid, "a warm child");
    process.kill(pid, "SIGKILL");
    const replacement = await until(
      () => (pool.idlePid !== undefined && pool.idlePid !== pid ? pool.idlePid : undefined),
      "a replacement warm child",
    );
    expect(alive(replacement)).toBe(true);
    await pool.ready();
    const view = await evaluateVersion(db.client, store, USER, input);
    expect(view.status, view.error ?? "").toBe("succeeded");
    expect(timingsOf(view).warmChild).toBe(true);
  }, 120_000);

  it("a child killed during its evaluation fails that evaluation only", async () => {
    const pool = evaluationChildPool();
    await pool.ready();
    const pid = await until(() => pool.idlePid, "a warm child");
    const failed = await evaluateVersion(db.client, store, USER, {
      ...input,
      // At least 300 latency runs after the model load: the child is still busy when killed.
      latencyRuns: undefined,
      // The child reports "read 150 rows" before it loads the model: kill it then.
      log: (line) => {
        if (/read \d+ rows/.test(line)) process.kill(pid, "SIGKILL");
      },
    });
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/The evaluation process died \(signal SIGKILL\)/);

    await pool.ready();
    const after = await evaluateVersion(db.client, store, USER, input);
    expect(after.status, after.error ?? "").toBe("succeeded");
    expect(timingsOf(after).warmChild).toBe(true);
    expect(after.metrics).toMatchObject({ accuracy: expect.any(Number) });
  }, 120_000);
});
