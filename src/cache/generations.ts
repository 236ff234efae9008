const GENERATION_BUCKETS = 4096;

/**
 * @internal Generations, so that a read or a load that started before a change cannot write what
 * it fetched over it: one per bucket of keys (bumped by a set or delete of a key in it) and one for
 * everything (bumped by tag invalidations and clears). Buckets, not keys, keep this bounded; two
 * keys sharing a bucket only cost a skipped promotion.
 */
export class Generations {
  readonly #keys = new Uint32Array(GENERATION_BUCKETS);
  /** The generation of everything: bumped by tag invalidations, clears and dropped local tiers. */
  global = 0;
  /** Invalidations under way: while one runs, nothing read from a lower tier is promoted. */
  invalidating = 0;

  /** The generation a read or a load of `key` compares against when it wants to write. */
  of(namespace: string, key: string): number {
    return this.global * GENERATION_BUCKETS + this.#keys[bucketOf(namespace, key)]!;
  }

  bumpKey(namespace: string, key: string): void {
    this.#keys[bucketOf(namespace, key)]! += 1;
  }

  /** Whether a write of what was read at `generation` could undo a change since. */
  changed(namespace: string, key: string, generation: number): boolean {
    return this.invalidating > 0 || this.of(namespace, key) !== generation;
  }
}

/** FNV-1a over the namespace and the key, into a generation bucket. */
function bucketOf(namespace: string, key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < namespace.length; i++) {
    hash = Math.imul(hash ^ namespace.charCodeAt(i), 0x01000193);
  }
  hash = Math.imul(hash, 0x01000193);
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) & (GENERATION_BUCKETS - 1);
}
