import { describe, expect, it } from "vitest";
import { DynamicBatcher, QueueFullError, type BatchSettings, type Tensors } from "./batcher";

/** A fake model: output row i = input row i × 2; records the rows of every call. */
function doubler(delayMs = 5) {
  const calls: number[] = [];
  let failOn: number | null = null;
  const run = async (inputs: Tensors): Promise<Tensors> => {
    const x = inputs.x!;
    calls.push(x.dims[0]!);
    await new Promise((r) => setTimeout(r, delayMs));
    const data = Float32Array.from(x.data as Float32Array, (v) => v * 2);
    if (failOn !== null && (x.data as Float32Array).includes(failOn)) {
      throw new Error(`bad value ${failOn}`);
    }
    return { y: { type: "float32", dims: [...x.dims], data } };
  };
  return { run, calls, failWhenInputHas: (v: number) => (failOn = v) };
}

const rows = (...values: number[]): Tensors => ({
  x: { type: "float32", dims: [values.length, 1], data: Float32Array.from(values) },
});
const settings = (s: Partial<BatchSettings> = {}): BatchSettings => ({
  maxBatchSize: 64,
  maxQueueDelayMicros: 0,
  maxQueueLength: 100,
  ...s,
});
const turn = () => new Promise((r) => setImmediate(r));
const values = (t: Tensors) => [...(t.y!.data as Float32Array)];

describe("DynamicBatcher", () => {
  it("requests submitted in one event-loop turn share one call", async () => {
    const model = doubler(0);
    const batcher = new DynamicBatcher(settings(), true, model.run);
    await Promise.all([1, 2, 3].map((v) => batcher.submit(rows(v), 1)));
    expect(model.calls).toEqual([3]);
  });

  it("runs a lone request at once (no added delay) and returns its rows", async () => {
    const model = doubler(0);
    const batcher = new DynamicBatcher(settings(), true, model.run);
    const result = await batcher.submit(rows(1, 2), 2);
    expect(values(result.outputs)).toEqual([2, 4]);
    expect(result.batchRows).toBe(2);
    expect(result.queueMs).toBeLessThan(5);
    expect(model.calls).toEqual([2]);
  });

  it("coalesces requests that arrive while a batch runs, and splits the outputs back", async () => {
    const model = doubler(20);
    const batcher = new DynamicBatcher(settings(), true, model.run);
    const first = batcher.submit(rows(1), 1);
    await turn(); // the first has started running
    const rest = Array.from({ length: 10 }, (_, i) => batcher.submit(rows(10 + i, 100 + i), 2));
    const [a, ...others] = await Promise.all([first, ...rest]);
    expect(values(a!.outputs)).toEqual([2]);
    others.forEach((r, i) => expect(values(r.outputs)).toEqual([2 * (10 + i), 2 * (100 + i)]));
    // The first ran alone; the ten that queued behind it ran together.
    expect(model.calls).toEqual([1, 20]);
    expect(others[0]!.batchRows).toBe(20);
  });

  it("never exceeds maxBatchSize rows per call", async () => {
    const model = doubler(10);
    const batcher = new DynamicBatcher(settings({ maxBatchSize: 8 }), true, model.run);
    await Promise.all(Array.from({ length: 30 }, (_, i) => batcher.submit(rows(i, i), 2)));
    expect(model.calls.every((n) => n <= 8)).toBe(true);
    expect(model.calls.reduce((a, b) => a + b, 0)).toBe(60);
  });

  it("a request larger than maxBatchSize still runs, alone", async () => {
    const model = doubler(0);
    const batcher = new DynamicBatcher(settings({ maxBatchSize: 4 }), true, model.run);
    const result = await batcher.submit(rows(1, 2, 3, 4, 5, 6), 6);
    expect(values(result.outputs)).toHaveLength(6);
  });

  it("runs one request per call when the model cannot be batched", async () => {
    const model = doubler(5);
    const batcher = new DynamicBatcher(settings(), false, model.run);
    await Promise.all(Array.from({ length: 5 }, (_, i) => batcher.submit(rows(i), 1)));
    expect(model.calls).toEqual([1, 1, 1, 1, 1]);
  });

  it("with a queue delay, an idle model waits for companions up to that long", async () => {
    const model = doubler(0);
    const batcher = new DynamicBatcher(settings({ maxQueueDelayMicros: 20_000 }), true, model.run);
    const pending = [batcher.submit(rows(1), 1)];
    await new Promise((r) => setTimeout(r, 5));
    pending.push(batcher.submit(rows(2), 1), batcher.submit(rows(3), 1));
    const results = await Promise.all(pending);
    expect(model.calls).toEqual([3]);
    expect(results[0]!.queueMs).toBeGreaterThanOrEqual(15);
  });

  it("a full queue refuses at once with QueueFullError instead of growing", async () => {
    const model = doubler(30);
    const batcher = new DynamicBatcher(settings({ maxQueueLength: 3 }), true, model.run);
    const running = batcher.submit(rows(0), 1);
    await turn(); // running now, so it no longer counts as waiting
    const queued = [1, 2, 3].map((v) => batcher.submit(rows(v), 1));
    await expect(batcher.submit(rows(4), 1)).rejects.toBeInstanceOf(QueueFullError);
    await Promise.all([running, ...queued]);
  });

  it("when a batched call fails, only the request at fault gets the error", async () => {
    const model = doubler(10);
    model.failWhenInputHas(13);
    const batcher = new DynamicBatcher(settings(), true, model.run);
    const first = batcher.submit(rows(1), 1);
    await turn();
    const good = batcher.submit(rows(2), 1);
    const bad = batcher.submit(rows(13), 1);
    const alsoGood = batcher.submit(rows(4), 1);
    await expect(bad).rejects.toThrow("bad value 13");
    expect(values((await good).outputs)).toEqual([4]);
    expect(values((await alsoGood).outputs)).toEqual([8]);
    await first;
  });

  it("whenIdle resolves once everything queued and running is done", async () => {
    const model = doubler(10);
    const batcher = new DynamicBatcher(settings(), true, model.run);
    const all = Promise.all([1, 2, 3].map((v) => batcher.submit(rows(v), 1)));
    expect(batcher.busy).toBe(true);
    await batcher.whenIdle();
    expect(batcher.busy).toBe(false);
    await all;
  });
});
