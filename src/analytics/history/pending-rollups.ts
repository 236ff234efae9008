import { InvalidArgumentError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { rejectAfter } from '../../core/timeout.js';
import type { HistoryStore, MinuteRollup } from './types.js';

/**
 * @internal The closed minutes a recorder has not written yet, oldest first. Each flush writes
 * them in order and stops at the first failure, keeping that minute and the later ones for the
 * next flush: while the store is down the last `limit` minutes wait here, and once it is back they
 * are written, catching up. Writes are idempotent (each rollup has its id), so a minute whose
 * write timed out but went through is not counted twice. Never throws.
 */
export class PendingRollups {
  readonly #store: HistoryStore;
  readonly #limit: number;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #queue: MinuteRollup[] = [];
  #dropped = 0;
  #down = false;
  #lastError: string | undefined;
  #lastWrittenAt: number | undefined;

  constructor(store: HistoryStore, limit: number, timeoutMs: number, log: Logger) {
    this.#store = store;
    this.#limit = limit;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
  }

  get size(): number {
    return this.#queue.length;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** True from a failed write until the next successful one. */
  get down(): boolean {
    return this.#down;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Start of the last minute written. */
  get lastWrittenAt(): number | undefined {
    return this.#lastWrittenAt;
  }

  /** Queues a closed minute; beyond the limit the oldest is dropped. */
  push(rollup: MinuteRollup): void {
    this.#queue.push(rollup);
    if (this.#queue.length > this.#limit) {
      const dropped = this.#queue.shift()!;
      this.#dropped++;
      this.#log.warn(
        { minute: new Date(dropped.at).toISOString(), pending: this.#queue.length },
        'history store unavailable for too long: the oldest minute kept in memory was dropped',
      );
    }
  }

  /** Writes the queued minutes in order until one fails. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      try {
        await rejectAfter(
          Promise.resolve().then(() => this.#store.write(next)),
          this.#timeoutMs,
          `the history store did not answer within ${this.#timeoutMs} ms`,
        );
      } catch (error) {
        if (error instanceof InvalidArgumentError) {
          // A rollup the store refuses would block every later one: it is dropped.
          this.#queue.shift();
          this.#dropped++;
          this.#log.error({ err: error }, 'history store refused a rollup; it was dropped');
          continue;
        }
        this.#lastError = error instanceof Error ? error.message : String(error);
        if (!this.#down) {
          this.#down = true;
          this.#log.warn(
            { err: this.#lastError, store: this.#store.name, pending: this.#queue.length },
            'history store unavailable: keeping the last minutes in memory until it is back',
          );
        }
        return;
      }
      this.#queue.shift();
      this.#lastWrittenAt = next.at;
      if (this.#down) {
        this.#down = false;
        this.#log.info(
          { store: this.#store.name, pending: this.#queue.length },
          'history store reachable again: writing the minutes kept meanwhile',
        );
      }
    }
  }
}
