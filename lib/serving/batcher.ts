import { concatBatch, sliceBatch, type HostTensor } from "./protocol";

/**
 * Dynamic batching for one served version. Requests queue here; a dispatcher takes as many as
 * fit in `maxBatchSize` rows, concatenates their inputs along the batch dimension, makes one
 * onnxruntime call, and hands each request its rows of the outputs.
 *
 * Work-conserving by default (`maxQueueDelayMicros` 0): an idle model runs a request at once,
 * and whatever arrives while a batch runs is coalesced into the next one. Under light traffic
 * this adds no latency; under heavy traffic batches fill up by themselves. A positive delay
 * makes an idle model wait up to that long for companions (Triton's max_queue_delay).
 */
export type Tensors = Record<string, HostTensor>;

export type BatchSettings = {
  maxBatchSize: number;
  maxQueueDelayMicros: number;
  maxQueueLength: number;
};

export type BatchResult = {
  outputs: Tensors;
  /** rows in the onnxruntime call this request ran in */
  batchRows: number;
  queueMs: number;
  computeMs: number;
  /** True for exactly one request of each onnxruntime call: per-call figures are counted once. */
  firstInBatch: boolean;
};

export class QueueFullError extends Error {
  constructor(readonly queueLength: number) {
    super(`The model's queue is full (${queueLength} requests waiting); retry shortly.`);
    this.name = "QueueFullError";
  }
}

type Job = {
  inputs: Tensors;
  rows: number;
  enqueuedAt: number;
  resolve: (r: BatchResult) => void;
  reject: (e: unknown) => void;
};

export class DynamicBatcher {
  private queue: Job[] = [];
  private head = 0;
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private settings: BatchSettings,
    /** false: inputs have no batch dimension, so each request runs alone. */
    private readonly batchable: boolean,
    private readonly run: (inputs: Tensors) => Promise<Tensors>,
    /** onnxruntime calls in flight at once for this version. */
    private readonly concurrency = 1,
  ) {}

  updateSettings(settings: BatchSettings): void {
    this.settings = settings;
    this.pump();
  }

  /** Requests waiting (not yet running). */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Requests waiting or running. */
  get busy(): boolean {
    return this.waiting > 0 || this.running > 0;
  }

  submit(inputs: Tensors, rows: number): Promise<BatchResult> {
    if (this.waiting >= this.settings.maxQueueLength) {
      return Promise.reject(new QueueFullError(this.waiting));
    }
    return new Promise<BatchResult>((resolve, reject) => {
      this.queue.push({ inputs, rows, enqueuedAt: performance.now(), resolve, reject });
      this.pump();
    });
  }

  /** Resolves once nothing is waiting or running (for draining a retired version). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting > 0) {
      const delayMicros = this.settings.maxQueueDelayMicros;
      if (
        delayMicros > 0 &&
        this.batchable &&
        this.running === 0 &&
        this.waitingRows() < this.settings.maxBatchSize
      ) {
        // Idle with a partial batch: wait (once) for companions, up to the delay.
        const oldest = this.queue[this.head]!.enqueuedAt;
        const remainingMs = delayMicros / 1000 - (performance.now() - oldest);
        if (remainingMs > 0) {
          this.timer ??= setTimeout(() => {
            this.timer = null;
            this.dispatch();
          }, remainingMs);
          return;
        }
      }
      // Dispatch at the end of this event-loop turn, not now: requests whose bodies were
      // read in the same I/O phase then join this batch instead of waiting for the next one.
      if (!this.immediate) {
        this.immediate = setImmediate(() => {
          this.immediate = null;
          this.dispatch();
          this.pump();
        });
      }
      return;
    }
  }

  private waitingRows(): number {
    let rows = 0;
    for (let i = this.head; i < this.queue.length; i++) rows += this.queue[i]!.rows;
    return rows;
  }

  private take(): Job[] {
    const jobs: Job[] = [this.takeHead()];
    if (this.batchable) {
      let rows = jobs[0]!.rows;
      while (this.head < this.queue.length) {
        const next = this.queue[this.head]!;
        if (rows + next.rows > this.settings.maxBatchSize) break;
        rows += next.rows;
        jobs.push(this.takeHead());
      }
    }
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return jobs;
  }

  /**
   * Takes the oldest job and clears its slot: a taken job left in the array until the next
   * compaction kept each request's inputs and continuation alive for about a thousand
   * requests, long enough to be promoted to the old generation (at 7k requests/s about 4 KB
   * per request, which made every scavenge several times slower).
   */
  private takeHead(): Job {
    const job = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as Job;
    return job;
  }

  private dispatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.waiting === 0 || this.running >= this.concurrency) return;
    const jobs = this.take();
    this.running++;
    void this.execute(jobs).finally(() => {
      this.running--;
      this.pump();
      if (!this.busy) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  private async execute(jobs: Job[]): Promise<void> {
    const startedAt = performance.now();
    const totalRows = jobs.reduce((n, j) => n + j.rows, 0);
    try {
      const inputs = jobs.length === 1 ? jobs[0]!.inputs : concatBatch(jobs.map((j) => j.inputs));
      const outputs = await this.run(inputs);
      const computeMs = performance.now() - startedAt;
      let offset = 0;
      for (const job of jobs) {
        job.resolve({
          outputs: jobs.length === 1 ? outputs : sliceBatch(outputs, offset, job.rows, totalRows),
          batchRows: totalRows,
          queueMs: startedAt - job.enqueuedAt,
          computeMs,
          firstInBatch: offset === 0,
        });
        offset += job.rows;
      }
    } catch (error) {
      if (jobs.length === 1) {
        jobs[0]!.reject(error);
        return;
      }
      // One request's data can make a model fail (an index out of range, say): run each alone
      // so only the request at fault gets the error, not everyone it was batched with.
      for (const job of jobs) await this.execute([job]);
    }
  }
}
