import type { Logger } from '../core/logger.js';
import { QueuePauses } from './queue-pauses.js';
import type { TaskSettings } from './settings.js';
import type { TaskQueues } from './task-queues.js';
import type { QueueCounts, TaskBackend } from './types.js';
import { type PoolHooks, WorkerPool } from './worker-pool.js';

/**
 * @internal The worker pools a task manager runs in this process, one per queue, and the loops
 * that go with them while started: giving back tasks whose worker died, and refreshing queue
 * counts (which also repairs a pause or resume whose event was lost).
 */
export class TaskPools {
  readonly pools = new Map<string, WorkerPool>();
  /** The latest counts of every known queue, for the Prometheus exposition. */
  readonly counts = new Map<string, QueueCounts>();
  /** Queues known to be paused, and this process's pools following them. */
  readonly pauses = new QueuePauses((queue) => this.pools.get(queue));
  readonly #settings: TaskSettings;
  readonly #hooks: PoolHooks;
  readonly #log: Logger;
  #timers: NodeJS.Timeout[] = [];

  constructor(settings: TaskSettings, hooks: PoolHooks, log: Logger) {
    this.#settings = settings;
    this.#hooks = hooks;
    this.#log = log;
  }

  /** Starts a pool for `queue` (the default queue when `undefined`) unless one runs. */
  ensure(backend: TaskBackend, queue: string | undefined): void {
    const name = queue ?? this.#settings.queueName;
    if (this.pools.has(name)) return;
    const s = this.#settings;
    const pool = new WorkerPool(
      backend,
      {
        queue: name,
        minConcurrency: s.minConcurrency,
        maxConcurrency: s.maxConcurrency,
        initialConcurrency: s.workerCount,
        leaseMs: s.leaseMs,
        heartbeatMs: s.heartbeatMs,
        prefetch: s.prefetch,
        idleWaitMs: Math.min(5_000, s.leaseMs),
        scaleIntervalMs: 2_000,
        targetWaitMs: 1_000,
      },
      this.#hooks,
      this.#log,
    );
    this.pools.set(name, pool);
    this.pauses.apply(pool);
    pool.start();
  }

  /**
   * A group of `queue` was paused in the backend (by this process, or an event said so): the
   * queue's pool starts none of the tasks of it it claimed before, and gives them back.
   */
  async groupPaused(queue: string, group: string): Promise<void> {
    await this.pools.get(queue)?.pauseGroup(group);
  }

  /** The limits of `queue` were stored again: its pool reads them now. */
  async limitsChanged(queue: string): Promise<void> {
    await this.pools.get(queue)?.refreshLimits();
  }

  /** A group of `queue` was resumed. */
  groupResumed(queue: string, group: string): void {
    this.pools.get(queue)?.resumeGroup(group);
  }

  /** Gives back the tasks of the pools' queues whose lease expired. */
  async recover(backend: TaskBackend | undefined): Promise<void> {
    if (backend === undefined) return;
    for (const queue of this.pools.keys()) {
      try {
        const recovered = await backend.recoverExpired(queue, Date.now());
        if (recovered > 0) {
          this.#log.warn(
            { queue, recovered },
            'tasks whose worker stopped were given back to the queue',
          );
        }
      } catch (error) {
        this.#log.warn({ err: error, queue }, 'recovering expired leases failed');
      }
    }
  }

  /** Reads the counts of every known queue again. */
  async refreshCounts(backend: TaskBackend | undefined, queues: TaskQueues): Promise<void> {
    if (backend === undefined) return;
    try {
      for (const queue of await queues.all()) {
        const since = this.pauses.changes;
        const counts = await backend.counts(queue);
        this.counts.set(queue, counts);
        // Repairs what a lost `paused` or `resumed` event left behind.
        this.pauses.sync(queue, counts.paused, since);
      }
    } catch (error) {
      this.#log.debug({ err: error }, 'refreshing queue counts failed');
    }
  }

  /** Runs `fn` every `ms` until {@link TaskPools.stopTimers}; the timer keeps no process alive. */
  every(ms: number, fn: () => unknown): void {
    const timer = setInterval(() => void fn(), ms);
    timer.unref?.();
    this.#timers.push(timer);
  }

  stopTimers(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }

  /** Stops every pool (running tasks get until `deadline`) and forgets them. */
  async stop(deadline: number): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.stop(deadline)));
    this.pools.clear();
  }

  /** Each pool's queue, concurrency and running tasks, for the Prometheus exposition. */
  figures(): { queue: string; concurrency: number; active: number }[] {
    return [...this.pools.values()].map((p) => ({
      queue: p.queue,
      concurrency: p.concurrency,
      active: p.active,
    }));
  }
}
