/**
 * The batch prediction worker, started by the scheduler process next to its run queue
 * (workers/scheduler/main.ts). It polls batch_prediction for queued rows, claims one with
 * FOR UPDATE SKIP LOCKED, scores it in a child process (runner.ts / child.ts) while renewing
 * its lease and recording progress, stages the CSV into the artifact store and ends the row.
 * Every poll also fails rows whose lease expired (a scheduler that died mid-run).
 *
 * Why this and not pg-boss: the project already has a Postgres queue with the same guarantees
 * (lib/jobs/runs.ts: SKIP LOCKED claims, leases, heartbeats, expiry) run by the scheduler; a
 * second queue library would add a dependency, its own schema and its own worker loop for
 * one table's worth of work. The batch row itself is the queue entry, so status, progress and
 * result live in one place that the API reads.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getDatasetMatrixKey, getDatasetVersionById } from "../datasets/datasets";
import { checkDatasetFitsModel } from "../datasets/fit";
import type { PrismaClient } from "../db/generated/client";
import { withLocalFiles } from "../evaluation/files";
import type { Logger } from "../log";
import type { OnnxSignature } from "../onnx/types";
import type { ArtifactStore } from "../storage";
import {
  claimNextBatch,
  endBatch,
  failExpiredBatches,
  loadClaimedBatch,
  renewBatchLease,
} from "./batch";
import { runBatchInChild } from "./runner";

export type BatchPollerOptions = {
  db: PrismaClient;
  store: ArtifactStore;
  instanceId: string;
  log: Logger;
  leaseMs: number;
  pollMs: number;
  /** Batch predictions one process runs at once (default 1: each child takes a core). */
  concurrency?: number;
  /** Rows between progress reports (default 2000). */
  progressEvery?: number;
  timeoutMs?: number;
  maxResultBytes?: number;
};

export class BatchPoller {
  private timer: NodeJS.Timeout | null = null;
  private running = new Map<string, AbortController>();
  private stopping = false;
  private polling = false;

  constructor(private readonly opts: BatchPollerOptions) {}

  start(): void {
    const tick = () => {
      void this.pollOnce().catch((error: unknown) =>
        this.opts.log.warn({ err: error }, "batch prediction poll failed"),
      );
    };
    this.timer = setInterval(tick, this.opts.pollMs);
    this.timer.unref();
    tick();
  }

  status() {
    return { batchPredictionsRunning: this.running.size };
  }

  /** One poll: fail expired leases, then claim and start queued rows up to the concurrency. */
  async pollOnce(): Promise<void> {
    if (this.stopping || this.polling) return;
    this.polling = true;
    try {
      const expired = await failExpiredBatches(this.opts.db);
      for (const id of expired) this.opts.log.warn({ id }, "batch prediction lease expired");
      while (!this.stopping && this.running.size < (this.opts.concurrency ?? 1)) {
        const id = await claimNextBatch(this.opts.db, this.opts.instanceId, this.opts.leaseMs);
        if (!id) break;
        const ctrl = new AbortController();
        this.running.set(id, ctrl);
        void this.execute(id, ctrl.signal).finally(() => this.running.delete(id));
      }
    } finally {
      this.polling = false;
    }
  }

  /** Waits until nothing is running (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.polling) await new Promise((r) => setTimeout(r, 20));
  }

  /** No new claims; running batch predictions are stopped and given back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    for (const ctrl of this.running.values()) ctrl.abort(new Error("the scheduler is stopping"));
    await this.idle();
  }

  private async execute(id: string, signal: AbortSignal): Promise<void> {
    const { db, store, instanceId, leaseMs, log } = this.opts;
    let rowsDone = 0;
    let lost = false;
    const lostCtrl = new AbortController();
    const beat = setInterval(
      () => {
        void renewBatchLease(db, id, instanceId, leaseMs, rowsDone)
          .then((held) => {
            if (!held) {
              lost = true;
              lostCtrl.abort(new Error("this scheduler no longer holds the batch prediction"));
            }
          })
          .catch(() => {});
      },
      Math.max(200, Math.floor(leaseMs / 3)),
    );
    beat.unref();
    const dir = await mkdtemp(path.join(os.tmpdir(), "modeldeck-batch-"));
    try {
      const row = await loadClaimedBatch(db, id);
      const dataset = await getDatasetVersionById(db, row.datasetVersionId);
      const fit = checkDatasetFitsModel(
        dataset,
        row.version.signature as unknown as OnnxSignature,
        row.model.task as never,
      );
      if (!fit.ok)
        throw new Error(`The dataset no longer fits the model: ${fit.problems.join("; ")}`);
      const matrixKey = await getDatasetMatrixKey(db, dataset.id);
      const outPath = path.join(dir, "predictions.csv");
      const keys = [row.version.storageKey, dataset.storageKey, ...(matrixKey ? [matrixKey] : [])];
      const result = await withLocalFiles(store, keys, ([modelPath, datasetPath, matrixPath]) =>
        runBatchInChild(
          {
            modelPath: modelPath!,
            datasetPath: datasetPath!,
            matrixPath: matrixPath ?? null,
            format: dataset.format,
            plan: fit.plan,
            outPath,
            batchSize: 256,
            progressEvery: this.opts.progressEvery ?? 2000,
            threads: 1,
          },
          {
            timeoutMs: this.opts.timeoutMs ?? 60 * 60_000,
            signal: AbortSignal.any([signal, lostCtrl.signal]),
            onProgress: (done) => {
              rowsDone = done;
              void renewBatchLease(db, id, instanceId, leaseMs, done).catch(() => {});
            },
          },
        ),
      );
      const staged = await store.stage(createReadStream(outPath), {
        maxBytes: this.opts.maxResultBytes ?? 10 * 1024 ** 3,
      });
      const { key } = await staged.commit();
      await endBatch(db, id, instanceId, {
        status: "succeeded",
        resultKey: key,
        sizeBytes: staged.sizeBytes,
        rows: result.rows,
      });
      log.info({ id, rows: result.rows }, "batch prediction succeeded");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (lost) {
        log.warn({ id }, "batch prediction was taken from this scheduler (lease lost)");
      } else if (signal.aborted) {
        await endBatch(db, id, instanceId, { status: "queued" }).catch(() => {});
        log.info({ id }, "batch prediction given back to the queue (shutdown)");
      } else {
        await endBatch(db, id, instanceId, { status: "failed", error: message }).catch(() => {});
        log.warn({ id, err: error }, "batch prediction failed");
      }
    } finally {
      clearInterval(beat);
      await rm(dir, { recursive: true, force: true });
    }
  }
}
