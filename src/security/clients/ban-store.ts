import type { Ban, BanStore } from '../types.js';

/**
 * A change to the bans of a store, as {@link WatchedBanStore.watch} reports it. `resync` says that
 * changes may have been missed (the connection came back) and the list should be read again.
 *
 * @example
 * ```ts
 * const change: BanChange = { type: 'delete', client: '203.0.113.7' };
 * ```
 */
export type BanChange =
  | { type: 'put'; ban: Ban }
  | { type: 'delete'; client: string }
  | { type: 'resync' };

/**
 * What a {@link BanStore} may add so that instances learn of a ban at once instead of at their
 * next refresh: a feed of changes, and a version that changes with the bans (so a refresh reads
 * the list only when it did). Both stores of the package have them; a store of yours may too.
 *
 * @example
 * ```ts
 * const stop = await store.watch((change) => console.log(change.type));
 * ```
 */
export interface WatchedBanStore extends BanStore {
  /**
   * Calls `listener` with every change made through any instance, this one's included. Resolves
   * once listening (or rejects, and goes on trying); the function it gives stops.
   */
  watch(listener: (change: BanChange) => void): Promise<() => Promise<void>>;
  /** A value that differs whenever a ban was put or deleted. */
  version(): Promise<string>;
}

/** @internal Whether `store` has the {@link WatchedBanStore} members. */
export function isWatched(store: BanStore): store is WatchedBanStore {
  const candidate = store as Partial<WatchedBanStore>;
  return typeof candidate.watch === 'function' && typeof candidate.version === 'function';
}

/** @internal A ban read back from a store, or undefined when it is not one. */
export function parseBan(json: string): Ban | undefined {
  try {
    const value = JSON.parse(json) as Partial<Ban>;
    if (
      typeof value?.client !== 'string' ||
      typeof value.until !== 'number' ||
      typeof value.reason !== 'string' ||
      typeof value.source !== 'string' ||
      typeof value.createdAt !== 'number'
    ) {
      return undefined;
    }
    return value as Ban;
  } catch {
    return undefined;
  }
}
