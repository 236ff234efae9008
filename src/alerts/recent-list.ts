/**
 * @internal The latest items added, at most `capacity`, read newest first. A ring: adding one is
 * O(1) where `unshift` on a full array moves every item (a tick may record hundreds of
 * transitions into a history of a thousand).
 *
 * @example
 * ```ts
 * const history = new RecentList<string>(2);
 * history.add('a');
 * history.add('b');
 * history.add('c');
 * history.newest(); // ['c', 'b']
 * ```
 */
export class RecentList<T> {
  #items: (T | undefined)[] = [];
  /** Where the next item goes. */
  #next = 0;
  #size = 0;
  #capacity: number;

  constructor(capacity: number) {
    this.#capacity = Math.max(0, Math.floor(capacity));
  }

  get size(): number {
    return this.#size;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Adds the newest item; the oldest goes once `capacity` items are held. */
  add(item: T): void {
    const capacity = this.#capacity;
    if (capacity === 0) return;
    this.#items[this.#next] = item;
    this.#next = this.#next + 1 === capacity ? 0 : this.#next + 1;
    if (this.#size < capacity) this.#size++;
  }

  /** Up to `limit` items (all by default), newest first. */
  newest(limit = this.#size): T[] {
    const count = limit >= 0 ? Math.min(Math.floor(limit), this.#size) : 0;
    const out: T[] = new Array(count);
    const capacity = this.#capacity;
    let i = this.#next;
    for (let k = 0; k < count; k++) {
      i = i === 0 ? capacity - 1 : i - 1;
      out[k] = this.#items[i] as T;
    }
    return out;
  }

  /** Holds at most `capacity` items from now on, keeping the newest. */
  resize(capacity: number): void {
    const kept = this.newest(capacity);
    this.#capacity = Math.max(0, Math.floor(capacity));
    this.#items = [];
    this.#next = 0;
    this.#size = 0;
    for (let k = kept.length - 1; k >= 0; k--) this.add(kept[k]!);
  }
}
