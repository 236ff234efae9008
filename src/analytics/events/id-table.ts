const MIN_CAPACITY = 64;
const MAX_LOAD = 0.7;

/**
 * An open-addressing hash table of 64-bit ids (two 32-bit halves), each with `words` values
 * (32-bit unsigned integers, or doubles for a `wide` table), in typed arrays: 8 bytes of key, 4
 * (or 8) per value word and one byte of occupancy per slot,
 * so a million pseudonyms take tens of megabytes where a `Map` of strings takes hundreds. The ids
 * are hashes already, so the low half picks the slot. Linear probing; entries leave only through
 * {@link retain}, which rebuilds the table.
 *
 * @example
 * ```ts
 * const users = new IdTable(2); // two 32-bit values per id
 * const slot = users.insert(hi, lo); // a new slot's values are 0
 * users.set(slot, 0, cohortWeek);
 * users.find(hi, lo); // the slot, or -1
 * ```
 */
export class IdTable {
  readonly words: number;
  #capacity: number;
  #mask: number;
  #keys: Uint32Array;
  #values: Uint32Array | Float64Array;
  readonly #wide: boolean;
  #used: Uint8Array;
  #size = 0;

  constructor(words: number, capacity = MIN_CAPACITY, wide = false) {
    this.words = words;
    this.#wide = wide;
    this.#capacity = capacityFor(capacity);
    this.#mask = this.#capacity - 1;
    this.#keys = new Uint32Array(this.#capacity * 2);
    this.#values = this.#valueArray(this.#capacity);
    this.#used = new Uint8Array(this.#capacity);
  }

  #valueArray(capacity: number): Uint32Array | Float64Array {
    return this.#wide
      ? new Float64Array(capacity * this.words)
      : new Uint32Array(capacity * this.words);
  }

  /** How many ids the table holds. */
  get size(): number {
    return this.#size;
  }

  /** Bytes held by the typed arrays (for memory accounting). */
  get bytes(): number {
    return this.#keys.byteLength + this.#values.byteLength + this.#used.byteLength;
  }

  /** The slot of the id, or -1. */
  find(hi: number, lo: number): number {
    let slot = (lo >>> 0) & this.#mask;
    while (this.#used[slot] === 1) {
      if (this.#keys[slot * 2] === hi >>> 0 && this.#keys[slot * 2 + 1] === lo >>> 0) return slot;
      slot = (slot + 1) & this.#mask;
    }
    return -1;
  }

  /** Whether the table holds the id. */
  has(hi: number, lo: number): boolean {
    return this.find(hi, lo) >= 0;
  }

  /** The slot of the id, added (values 0) when absent. A slot stays valid until the next insert. */
  insert(hi: number, lo: number): number {
    if ((this.#size + 1) / this.#capacity > MAX_LOAD) this.#rehash(this.#capacity * 2, () => true);
    let slot = (lo >>> 0) & this.#mask;
    while (this.#used[slot] === 1) {
      if (this.#keys[slot * 2] === hi >>> 0 && this.#keys[slot * 2 + 1] === lo >>> 0) return slot;
      slot = (slot + 1) & this.#mask;
    }
    this.#used[slot] = 1;
    this.#keys[slot * 2] = hi;
    this.#keys[slot * 2 + 1] = lo;
    this.#size += 1;
    return slot;
  }

  /** Value word `word` of `slot`. */
  get(slot: number, word: number): number {
    return this.#values[slot * this.words + word]!;
  }

  /** Sets value word `word` of `slot`. */
  set(slot: number, word: number, value: number): void {
    this.#values[slot * this.words + word] = value;
  }

  /** Calls `visit` with each id and its slot. */
  forEach(visit: (hi: number, lo: number, slot: number) => void): void {
    for (let slot = 0; slot < this.#capacity; slot++) {
      if (this.#used[slot] === 1) visit(this.#keys[slot * 2]!, this.#keys[slot * 2 + 1]!, slot);
    }
  }

  /** Keeps only the entries `keep(slot)` accepts, and shrinks the table to fit them. */
  retain(keep: (slot: number) => boolean): void {
    // Decided before the rebuild: `keep` reads values through the slots of the current arrays.
    const kept = new Uint8Array(this.#capacity);
    let count = 0;
    for (let slot = 0; slot < this.#capacity; slot++) {
      if (this.#used[slot] === 1 && keep(slot)) {
        kept[slot] = 1;
        count++;
      }
    }
    if (count === this.#size) return;
    this.#rehash(capacityFor(count / (MAX_LOAD / 2)), (slot) => kept[slot] === 1);
  }

  #rehash(capacity: number, keep: (slot: number) => boolean): void {
    const { words } = this;
    const keys = this.#keys;
    const values = this.#values;
    const used = this.#used;
    const old = this.#capacity;
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    this.#keys = new Uint32Array(capacity * 2);
    this.#values = this.#valueArray(capacity);
    this.#used = new Uint8Array(capacity);
    this.#size = 0;
    for (let from = 0; from < old; from++) {
      if (used[from] !== 1 || !keep(from)) continue;
      const hi = keys[from * 2]!;
      const lo = keys[from * 2 + 1]!;
      let slot = lo & this.#mask;
      while (this.#used[slot] === 1) slot = (slot + 1) & this.#mask;
      this.#used[slot] = 1;
      this.#keys[slot * 2] = hi;
      this.#keys[slot * 2 + 1] = lo;
      for (let w = 0; w < words; w++) this.#values[slot * words + w] = values[from * words + w]!;
      this.#size += 1;
    }
  }
}

function capacityFor(entries: number): number {
  let capacity = MIN_CAPACITY;
  while (capacity < entries) capacity *= 2;
  return capacity;
}
