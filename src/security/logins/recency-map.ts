/**
 * @internal A map bounded by size and age: iteration runs from the least recently touched entry,
 * and the oldest entries go first when it is full or once they expire. What keeps the login
 * analytics' memory bounded whatever an attacker sends.
 *
 * @example
 * ```ts
 * const failing = new RecencyMap<number>(10_000, 600_000);
 * failing.touch('alice', now, () => 0);
 * failing.prune(now);
 * ```
 */
export class RecencyMap<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #maxSize: number;
  readonly #maxAgeMs: number;

  constructor(maxSize: number, maxAgeMs: number) {
    this.#maxSize = Math.max(1, Math.floor(maxSize));
    this.#maxAgeMs = maxAgeMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value of `key`, without touching it. */
  peek(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /**
   * The value of `key` (made by `make` when absent), now the most recent entry and kept at least
   * until `at` + the map's age. The oldest entries leave when the map is over its size.
   */
  touch(key: string, at: number, make: () => V): V {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { value: make(), expires: at + this.#maxAgeMs };
    } else {
      this.#entries.delete(key);
      entry.expires = Math.max(entry.expires, at + this.#maxAgeMs);
    }
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxSize) this.#dropOldest();
    return entry.value;
  }

  /** Keeps `key` at least until `until` (a lockout that outlives the window). */
  keepUntil(key: string, until: number): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined) entry.expires = Math.max(entry.expires, until);
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /**
   * Drops the expired entries at the old end. An entry kept longer (locked) stops the sweep there;
   * the ones behind it go when their turn comes or when the map is full.
   */
  prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expires > now) return;
      this.#entries.delete(key);
    }
  }

  /** The entries, least recently touched first. */
  *entries(): IterableIterator<[string, V]> {
    for (const [key, entry] of this.#entries) yield [key, entry.value];
  }

  clear(): void {
    this.#entries.clear();
  }

  #dropOldest(): void {
    const oldest = this.#entries.keys().next();
    if (oldest.done !== true) this.#entries.delete(oldest.value);
  }
}
