import type { QueueCounts } from '../types.js';
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
