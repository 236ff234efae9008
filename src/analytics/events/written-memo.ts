/**
 * @internal What this process has already written to a shared store and need not send again: a
 * user in the sketch of a day, a user's activity flags in a week. Both writes are idempotent
 * (PFADD of a member already there, a cohort bit already set), so leaving them out changes no
 * figure; it spares Redis most of its work once users come back. Two generations of `size`
 * entries, the older dropped when the newer fills.
 */
export class WrittenMemo {
  readonly #size: number;
  #current = new Map<string, number>();
  #previous = new Map<string, number>();

  constructor(size = 100_000) {
    this.#size = size;
  }

  /** Whether `flags` (bits) were all written under `key`. */
  has(key: string, flags = 1): boolean {
    const known = this.#current.get(key) ?? this.#previous.get(key);
    return known !== undefined && (known & flags) === flags;
  }

  /** Notes that `flags` were written under `key`. */
  add(key: string, flags = 1): void {
    const known = this.#current.get(key) ?? this.#previous.get(key) ?? 0;
    if (this.#current.size >= this.#size && !this.#current.has(key)) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(key, known | flags);
  }
}
