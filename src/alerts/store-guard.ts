import type { Logger } from '../core/logger.js';
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
  /** The deadline calls join until the current synchronous run ends. */
  #open: Deadline | undefined;
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
      const result = await this.#deadline().bound(operation);
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

  /**
   * The deadline of the calls started in this synchronous run: a tick starts hundreds of calls
   * together (its transitions, its episodes), and one timer for them all costs far less than one
   * each. A call made in a later run gets a deadline of its own.
   */
  #deadline(): Deadline {
    let deadline = this.#open;
    if (deadline === undefined) {
      const opened = new Deadline(this.#timeoutMs);
      this.#open = deadline = opened;
      queueMicrotask(() => {
        if (this.#open === opened) this.#open = undefined;
        opened.close();
      });
    }
    return deadline;
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

/**
 * One timer for the calls of one synchronous run: each call settles as its operation does, or
 * rejects when `timeoutMs` has passed since the run began. The timer is cleared once the run is
 * over and every call has settled.
 */
class Deadline {
  readonly #waiting = new Set<(error: Error) => void>();
  readonly #timeoutMs: number;
  readonly #timer: NodeJS.Timeout;
  #open = true;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#timer = setTimeout(() => this.#expire(), timeoutMs);
    this.#timer.unref();
  }

  /** `operation()` (run after the current one, as a reaction), bounded by this deadline. */
  bound<T>(operation: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.add(reject);
      Promise.resolve()
        .then(operation)
        .then(
          (value) => {
            this.#settled(reject);
            resolve(value);
          },
          (error: unknown) => {
            this.#settled(reject);
            reject(error);
          },
        );
    });
  }

  /** No call joins any more. */
  close(): void {
    this.#open = false;
    if (this.#waiting.size === 0) clearTimeout(this.#timer);
  }

  #settled(reject: (error: Error) => void): void {
    this.#waiting.delete(reject);
    if (!this.#open && this.#waiting.size === 0) clearTimeout(this.#timer);
  }

  #expire(): void {
    const message = `no answer within ${this.#timeoutMs} ms`;
    for (const reject of this.#waiting) reject(new Error(message));
    this.#waiting.clear();
  }
}
