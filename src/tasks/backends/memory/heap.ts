import type { Slot } from './slot.js';

/** A heap entry: a slot as it was when pushed (`gen`), and its order keys. */
export interface Entry {
  slot: Slot;
  gen: number;
  /** Ready heap: priority; delayed heap: runAt; oldest heap: createdAt. */
  a: number;
  b: number;
}

/** A binary min-heap of entries ordered by `a`, then `b`. */
export class Heap {
  items: Entry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(entry: Entry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(entry, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = entry;
  }

  peek(): Entry | undefined {
    return this.items[0];
  }

  pop(): Entry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    const n = items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && less(items[right]!, items[left]!) ? right : left;
      if (!less(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Drops entries `live` rejects and restores heap order (used when stale entries pile up). */
  compact(live: (entry: Entry) => boolean): void {
    const kept = this.items.filter(live);
    this.items = [];
    for (const entry of kept) this.push(entry);
  }
}

const less = (x: Entry, y: Entry) => x.a < y.a || (x.a === y.a && x.b < y.b);
