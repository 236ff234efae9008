import type { Logger } from '../../core/logger.js';
import type { QueueCounts, TaskBackend } from '../types.js';
import type { PoolSettings } from './types.js';

/** What one look of auto-scaling decides. */
export interface ScaleStep {
  /** The slots the pool has from now on. */
  concurrency: number;
  /** Looks in a row with nothing waiting and fewer than half the slots busy. */
  idleTicks: number;
  /** Whether it grew (the pool then starts claiming for the new slots at once). */
  grew: boolean;
}

/**
 * Auto-scaling: grows by half when every slot is busy and the oldest ready task has waited longer
 * than `targetWaitMs`; shrinks by one after three looks in a row with nothing waiting and fewer
 * than half the slots busy.
 */
export function scaleStep(
  counts: QueueCounts,
  active: number,
  concurrency: number,
  idleTicks: number,
  settings: Pick<PoolSettings, 'minConcurrency' | 'maxConcurrency' | 'targetWaitMs'>,
): ScaleStep {
  const { minConcurrency, maxConcurrency, targetWaitMs } = settings;
  const waitedMs = counts.oldestWaitingAt === undefined ? 0 : Date.now() - counts.oldestWaitingAt;
  const busy = active >= concurrency;
  if (counts.waiting > 0 && busy && waitedMs >= targetWaitMs && concurrency < maxConcurrency) {
    const next = Math.min(maxConcurrency, concurrency + Math.ceil(concurrency / 2));
    return { concurrency: next, idleTicks: 0, grew: true };
  }
  if (counts.waiting === 0 && active < concurrency / 2) {
    const idle = idleTicks + 1;
    if (idle >= 3 && concurrency > minConcurrency) {
      return { concurrency: concurrency - 1, idleTicks: 0, grew: false };
    }
    return { concurrency, idleTicks: idle, grew: false };
  }
  return { concurrency, idleTicks: 0, grew: false };
}

/** What auto-scaling reads of a pool. */
export interface ScaledPool {
  readonly queue: string;
  /** Attempts running now. */
  readonly active: number;
  /** Slots now. */
  readonly concurrency: number;
}

/** A pool's auto-scaling: each look reads the queue's backlog and decides (see {@link scaleStep}). */
export class Autoscaler {
  readonly #backend: TaskBackend;
  readonly #settings: PoolSettings;
  readonly #log: Logger;
  #idleTicks = 0;

  constructor(backend: TaskBackend, settings: PoolSettings, log: Logger) {
    this.#backend = backend;
    this.#settings = settings;
    this.#log = log;
  }

  /** One look: the pool's slots from now on, or `undefined` when the backlog could not be read. */
  async look(pool: ScaledPool): Promise<ScaleStep | undefined> {
    let counts: QueueCounts;
    try {
      counts = await this.#backend.counts(pool.queue);
    } catch {
      return undefined;
    }
    const from = pool.concurrency;
    const step = scaleStep(counts, pool.active, from, this.#idleTicks, this.#settings);
    this.#idleTicks = step.idleTicks;
    if (step.grew) this.#log.debug({ queue: pool.queue, from, to: step.concurrency }, 'scaling up');
    return step;
  }
}
