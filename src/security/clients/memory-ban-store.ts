import { type Clock, systemClock } from '../../core/clock.js';
import type { Ban } from '../types.js';
import type { BanChange, WatchedBanStore } from './ban-store.js';

/**
 * The bans of one process, in memory: what a {@link BanList} uses without a store. Several ban
 * lists of one process may share one (they see each other's bans at once). Expired bans are left
 * out of `list()` and dropped.
 *
 * @example
 * ```ts
 * const store = new MemoryBanStore();
 * const bans = new BanList({ store });
 * ```
 */
export class MemoryBanStore implements WatchedBanStore {
  readonly #bans = new Map<string, Ban>();
  readonly #listeners = new Set<(change: BanChange) => void>();
  readonly #clock: Clock;
  #version = 0;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  async put(ban: Ban): Promise<void> {
    this.#bans.set(ban.client, { ...ban });
    this.#version++;
    this.#notify({ type: 'put', ban: { ...ban } });
  }

  /** Lifts the ban of `client`; whether there was one in force (an ended ban is none). */
  async delete(client: string): Promise<boolean> {
    const ban = this.#bans.get(client);
    if (ban === undefined) return false;
    this.#bans.delete(client);
    if (ban.until <= this.#clock.epochNow()) return false;
    this.#version++;
    this.#notify({ type: 'delete', client });
    return true;
  }

  async list(): Promise<readonly Ban[]> {
    const now = this.#clock.epochNow();
    const bans: Ban[] = [];
    for (const [client, ban] of this.#bans) {
      if (ban.until <= now) this.#bans.delete(client);
      else bans.push({ ...ban });
    }
    return bans;
  }

  async watch(listener: (change: BanChange) => void): Promise<() => Promise<void>> {
    this.#listeners.add(listener);
    return async () => {
      this.#listeners.delete(listener);
    };
  }

  async version(): Promise<string> {
    return String(this.#version);
  }

  #notify(change: BanChange): void {
    for (const listener of this.#listeners) {
      // Delivered after the call returns, as a store across the network would.
      queueMicrotask(() => {
        try {
          listener(change);
        } catch {
          // A listener's failure is its own.
        }
      });
    }
  }
}
