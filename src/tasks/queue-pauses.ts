import type { TaskBackendEvent } from './types.js';
import type { WorkerPool } from './worker-pool.js';

/**
 * @internal Which queues this process knows to be paused, and its worker pools following them. A
 * pause in the backend only stops claims; the pools must also stop starting the tasks they
 * prefetched, and give those back. The calling process does it before `pause()` resolves; every
 * other process does it when it hears the backend's `paused` event, and a periodic read of the
 * queue's flag ({@link sync}) catches an event that was lost.
 */
export class QueuePauses {
  readonly #paused = new Set<string>();
  readonly #pool: (queue: string) => WorkerPool | undefined;
  /** Counts every change, so that a flag read before one is not applied after it. */
  #changes = 0;

  constructor(pool: (queue: string) => WorkerPool | undefined) {
    this.#pool = pool;
  }

  /** Changes so far; pass it to {@link sync} with a flag read after taking it. */
  get changes(): number {
    return this.#changes;
  }

  /**
   * Pauses `queue` for every process: this process's pool stops starting and claiming tasks
   * first, then `pauseBackend` sets the queue's flag, then the pool gives back what it prefetched.
   * When `pauseBackend` fails the pool goes on as before.
   */
  async pause(queue: string, pauseBackend: () => Promise<void>): Promise<void> {
    this.#set(queue, true);
    try {
      await pauseBackend();
    } catch (error) {
      this.#set(queue, false);
      throw error;
    }
    // Again: the event of a resume made before this pause may have arrived meanwhile.
    this.#set(queue, true);
    await this.#pool(queue)?.returnPrefetched();
  }

  /** Resumes `queue` in the backend, then lets this process's pool start and claim again. */
  async resume(queue: string, resumeBackend: () => Promise<void>): Promise<void> {
    this.#changes += 1;
    try {
      await resumeBackend();
    } finally {
      this.#changes += 1;
    }
    this.#set(queue, false);
  }

  /** Follows a `paused` or `resumed` event of any process (this one's own included). */
  heard(event: TaskBackendEvent): void {
    if (event.type === 'paused') {
      this.#set(event.queue, true);
      void this.#pool(event.queue)?.returnPrefetched();
    } else if (event.type === 'resumed') {
      this.#set(event.queue, false);
    }
  }

  /**
   * Follows the queue's flag as read from the backend, unless anything changed since `since` (the
   * read may predate the change): repairs the state after a lost event.
   */
  sync(queue: string, paused: boolean, since: number): void {
    if (since !== this.#changes || paused === this.#paused.has(queue)) return;
    this.heard({ type: paused ? 'paused' : 'resumed', queue, id: '', name: '' });
  }

  /** A pool created for a queue known to be paused starts paused. */
  apply(pool: WorkerPool): void {
    if (this.#paused.has(pool.queue)) pool.pause();
  }

  #set(queue: string, paused: boolean): void {
    this.#changes += 1;
    if (paused) this.#paused.add(queue);
    else this.#paused.delete(queue);
    const pool = this.#pool(queue);
    if (paused) pool?.pause();
    else pool?.resume();
  }
}
