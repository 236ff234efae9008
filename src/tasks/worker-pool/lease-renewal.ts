import type { Logger } from '../../core/logger.js';
import type { Lease, TaskBackend } from '../types.js';
import { abort, type Running, TaskLeaseLostError } from './attempt.js';
import type { OutcomeBatches } from './outcomes.js';
import type { Prefetch } from './prefetch.js';

// Keeping a pool's leases: without renewal another worker would recover and run its tasks.

/** What lease renewal reads and changes of a pool. */
export interface LeaseHolder {
  readonly backend: TaskBackend;
  readonly queue: string;
  readonly leaseMs: number;
  /** The attempts running now, by task id. */
  readonly running: Map<string, Running>;
  /** Attempts that ended, whose outcome waits for the next batch. */
  readonly outcomes: OutcomeBatches;
  /** Tasks claimed and not started yet. */
  readonly prefetch: Prefetch;
  readonly log: Logger;
  /** Called when lost leases freed slots. */
  wake(): void;
}

/**
 * Renews every lease a pool holds in one call. A lease the backend reports lost is let go: its
 * prefetched task leaves the buffer, its running attempt is aborted (another worker may run it).
 * A failure is logged, and the next renewal tries again. Never rejects.
 */
export async function renewPoolLeases(pool: LeaseHolder): Promise<void> {
  const { running, outcomes, prefetch } = pool;
  const leases: Lease[] = [];
  for (const attempt of running.values()) {
    leases.push({ id: attempt.task.id, token: attempt.token });
  }
  outcomes.pendingLeases(leases);
  for (const claimed of prefetch.buffer) leases.push({ id: claimed.task.id, token: claimed.token });
  if (leases.length === 0) return;
  try {
    const lost = await pool.backend.renewLeases(pool.queue, leases, pool.leaseMs);
    if (lost.length > 0) {
      const gone = new Set(lost);
      prefetch.buffer = prefetch.buffer.filter((c) => !gone.has(c.task.id));
    }
    for (const id of lost) {
      const attempt = running.get(id);
      if (attempt === undefined) continue;
      attempt.done = true;
      running.delete(id);
      abort(
        attempt,
        new TaskLeaseLostError(`the lease on task ${id} expired and another worker may run it`),
      );
      outcomes.lost(attempt.task);
    }
    if (lost.length > 0) pool.wake();
  } catch (error) {
    pool.log.warn({ err: error, queue: pool.queue }, 'renewing task leases failed');
  }
}
