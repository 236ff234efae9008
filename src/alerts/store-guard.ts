import type { Logger } from '../core/logger.js';
import { rejectAfter } from '../core/timeout.js';
import type { AlertStore } from './types.js';

/**
 * @internal The engine's view of its {@link AlertStore}: every call bounded by a timeout and
 * answered from a fallback when the store fails, so a store that is down never stops evaluation.
 * After a failure the store is left alone for the rest of the evaluation (one timeout per tick,
 * not one per call). Writes made through the public API while the store is down wait in an
 * outbox, replayed in order at the next evaluations, so an acknowledgement or a silence made
 * during an outage reaches the other instances once the store is back.
 */
export class StoreGuard {
  readonly store: AlertStore;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  #skip = false;
  #down = false;
  readonly #outbox: { what: string; write: () => Promise<unknown> }[] = [];

  constructor(store: AlertStore, timeoutMs: number, log: Logger) {
    this.store = store;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
  }

  /** True while the last call failed: notifications fall back to local deduplication. */
  get down(): boolean {
    return this.#down;
  }

  /** Writes waiting for the store to come back. */
  get pendingWrites(): number {
    return this.#outbox.length;
  }

  /** Called at the start of each evaluation: the store gets one more chance. */
  async beginTick(): Promise<void> {
    this.#skip = false;
    while (this.#outbox.length > 0) {
      const next = this.#outbox[0]!;
      const ok = await this.call(next.what, () => next.write().then(() => true), false);
      if (!ok) return;
      this.#outbox.shift();
    }
  }

  /** Runs `operation` against the store, or returns `fallback` when it fails or is skipped. */
  async call<T>(what: string, operation: () => Promise<T>, fallback: T): Promise<T> {
    if (this.#skip) return fallback;
    try {
      const result = await rejectAfter(
        Promise.resolve().then(operation),
        this.#timeoutMs,
        `no answer within ${this.#timeoutMs} ms`,
      );
      if (this.#down) {
        this.#down = false;
        this.#log.info({ operation: what }, 'alert store reachable again');
      }
      return result;
    } catch (error) {
      this.#skip = true;
      if (!this.#down) {
        this.#down = true;
        this.#log.warn(
          { operation: what, err: (error as Error)?.message ?? String(error) },
          'alert store unavailable: evaluating on local state, deduplicating notifications locally',
        );
      }
      return fallback;
    }
  }

  /** A write from the public API: tried now, kept in the outbox when the store fails. */
  async write(what: string, operation: () => Promise<unknown>): Promise<boolean> {
    if (this.#outbox.length === 0) {
      const skip = this.#skip;
      this.#skip = false;
      const ok = await this.call(what, () => operation().then(() => true), false);
      if (ok) {
        this.#skip = skip;
        return true;
      }
    }
    if (this.#outbox.length >= OUTBOX_LIMIT) {
      const dropped = this.#outbox.shift()!;
      this.#log.warn({ operation: dropped.what }, 'alert store outbox full: oldest write dropped');
    }
    this.#outbox.push({ what, write: operation });
    return false;
  }
}

/** Writes kept while the store is down; an outage long enough to fill it loses the oldest. */
const OUTBOX_LIMIT = 1_000;
