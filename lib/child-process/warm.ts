/**
 * One child kept started ahead of need, so a short job does not wait for node and its
 * imports (about 0.2 s for the evaluation child, onnxruntime included). `take()` hands out
 * the ready child (or starts one when there is none), `replenish()` starts the next one
 * after a use; an idle child that dies is replaced (with a growing delay if it keeps dying
 * young, so a broken host does not spin). Idle children never hold the parent open and are
 * killed when it exits; a child also exits by itself when its IPC channel closes.
 */
import { childCommand, launchChild, type ChildEntry, type LaunchedChild } from "./launcher";

const MIN_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 60_000;
/** A child that lives at least this long resets the restart delay. */
const HEALTHY_AFTER_MS = 10_000;

export class WarmChildPool {
  private idle: LaunchedChild | null = null;
  private starting: Promise<void> | null = null;
  private closed = false;
  private restartDelay = MIN_RESTART_DELAY_MS;
  private restartTimer: NodeJS.Timeout | null = null;
  /** Children handed out from the pool and children started cold: counted for tests. */
  readonly stats = { started: 0, warmHits: 0, coldStarts: 0, replacedAfterExit: 0 };

  constructor(readonly entry: ChildEntry) {
    process.once("exit", () => this.idle?.kill());
  }

  /** Starts the warm child if there is none (process start; after each use). */
  replenish(): Promise<void> {
    if (this.closed || this.idle || this.restartTimer) return this.starting ?? Promise.resolve();
    this.starting ??= (async () => {
      try {
        const child = await launchChild(this.entry);
        if (this.closed) return child.kill();
        this.stats.started++;
        child.setHoldsParent(false);
        this.idle = child;
        child.onExit(() => this.idleExited(child));
        await child.ready;
      } catch {
        // The command could not be resolved: the next take() starts a child itself.
      } finally {
        this.starting = null;
      }
    })();
    return this.starting;
  }

  /** Resolves when the warm child said ready (or is gone): benchmarks wait for it. */
  async ready(): Promise<void> {
    await this.replenish();
    if (this.idle) await this.idle.ready;
  }

  private idleExited(child: LaunchedChild): void {
    if (this.idle !== child) return; // it was handed out; its run reports what happened
    this.idle = null;
    if (this.closed) return;
    this.stats.replacedAfterExit++;
    const lived = performance.now() - child.startedAt;
    if (lived > HEALTHY_AFTER_MS) this.restartDelay = MIN_RESTART_DELAY_MS;
    const delay = lived > HEALTHY_AFTER_MS ? 0 : this.restartDelay;
    this.restartDelay = Math.min(MAX_RESTART_DELAY_MS, this.restartDelay * 2);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.replenish();
    }, delay);
    this.restartTimer.unref();
  }

  /**
   * A child for one request: the warm one when it is alive and started from the current
   * command (a rebuilt bundle or MODELDECK_CHILD_BUNDLE=0 makes it stale), else a fresh one.
   */
  async take(): Promise<{ child: LaunchedChild; warm: boolean }> {
    if (this.starting) await this.starting;
    const child = this.idle;
    if (child && !child.exited) {
      const current = await childCommand(this.entry);
      if (this.idle === child && !child.exited && current.join("\0") === child.args.join("\0")) {
        this.idle = null;
        this.stats.warmHits++;
        return { child, warm: true };
      }
      if (this.idle === child) {
        this.idle = null;
        child.kill();
      }
    }
    this.stats.coldStarts++;
    return { child: await launchChild(this.entry), warm: false };
  }

  /** The idle child's pid (tests kill it to see it replaced). */
  get idlePid(): number | undefined {
    return this.idle && !this.idle.exited ? this.idle.pid : undefined;
  }

  /** Kills the idle child and starts no more (shutdown). */
  close(): void {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.idle?.kill();
    this.idle = null;
  }
}
