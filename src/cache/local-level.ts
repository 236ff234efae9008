import type { CacheTier, EntryMeta, StoredEntry } from './types.js';

/**
 * @internal A local tier as the engine drives it: its synchronous `peek` when it has one, its
 * promise-returning members otherwise. A local tier has no timeout or circuit breaker (it is this
 * process), but one written by a user may still throw or reject: that is reported and read as a
 * miss or a no-op, so that, as with remote tiers, nothing the cache does throws because of a tier.
 */
export class LocalLevel {
  readonly kind = 'local';
  readonly counters = { hits: 0, misses: 0, sets: 0, deletes: 0 };
  readonly tier: CacheTier<unknown>;
  readonly #report: (operation: string, error: unknown) => void;

  constructor(tier: CacheTier<unknown>, report: (operation: string, error: unknown) => void) {
    this.tier = tier;
    this.#report = report;
  }

  /** The entry (past `staleUntil` never), synchronously when the tier can `peek`. */
  read(
    namespace: string,
    key: string,
    now: number,
  ): StoredEntry<unknown> | undefined | Promise<StoredEntry<unknown> | undefined> {
    const tier = this.tier;
    if (tier.peek !== undefined) return tier.peek(namespace, key, now);
    return this.#settle('get', () => tier.get(namespace, key), undefined);
  }

  /**
   * Stores an entry. The tier's `set` is called before this returns, so a tier whose `set` acts
   * synchronously (the memory tier) holds the value at once, as the engine's invalidation
   * bookkeeping expects.
   */
  write(namespace: string, key: string, payload: unknown, meta: EntryMeta): Promise<void> {
    return this.#settle('set', () => this.tier.set(namespace, key, payload, meta), undefined);
  }

  remove(namespace: string, key: string): Promise<boolean> {
    return this.#settle('delete', () => this.tier.delete(namespace, key), false);
  }

  removeByTags(tags: readonly string[], namespace?: string): Promise<number> {
    return this.#settle('deleteByTags', () => this.tier.deleteByTags(tags, namespace), 0);
  }

  removeAll(namespace?: string): Promise<void> {
    return this.#settle('clear', () => this.tier.clear(namespace), undefined);
  }

  #settle<R>(operation: string, run: () => Promise<R>, fallback: R): Promise<R> {
    try {
      return run().catch((error: unknown) => {
        this.#report(operation, error);
        return fallback;
      });
    } catch (error) {
      this.#report(operation, error);
      return Promise.resolve(fallback);
    }
  }
}
