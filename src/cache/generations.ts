const GENERATION_BUCKETS = 4096;
const TAG_BUCKETS = 1024;

/**
 * @internal Generations, so that a read or a load that started before a change cannot write what
 * it fetched over it: one per bucket of keys (bumped by a set or delete of a key in it), one per
 * bucket of tags (marked by a tag invalidation of a tag in it) and one for everything (bumped by
 * clears and dropped local tiers). Buckets keep this bounded; two keys or tags sharing a bucket
 * only cost a skipped write. A tag invalidation only stops the writes of values that carry one of
 * its tags: under a steady stream of updates, untagged entries and entries of other tags are still
 * cached instead of every load under way being thrown away.
 */
export class Generations {
  readonly #keys = new Uint32Array(GENERATION_BUCKETS);
  /** Key deletes under way, by key bucket. */
  readonly #keysPending = new Uint32Array(GENERATION_BUCKETS);
  /** The tag sequence at which each tag bucket was last invalidated. */
  readonly #tags = new Float64Array(TAG_BUCKETS);
  /** Tag invalidations under way, by tag bucket. */
  readonly #tagsPending = new Uint32Array(TAG_BUCKETS);
  #tagSequence = 0;
  /** The generation of everything: bumped by clears and dropped local tiers. */
  global = 0;
  /** Clears under way: while one runs, nothing read from a lower tier is promoted. */
  invalidating = 0;

  /** The generation a read or a load of `key` compares against when it wants to write. */
  of(namespace: string, key: string): number {
    return this.global * GENERATION_BUCKETS + this.#keys[bucketOf(namespace, key)]!;
  }

  /** Where tag invalidations stand: taken with {@link of} when a read or a load starts. */
  tagMark(): number {
    return this.#tagSequence;
  }

  bumpKey(namespace: string, key: string): void {
    this.#keys[bucketOf(namespace, key)]! += 1;
  }

  /** A delete of `key` starts: no write of it counts until {@link endKey}. */
  startKey(namespace: string, key: string): void {
    const bucket = bucketOf(namespace, key);
    this.#keysPending[bucket]! += 1;
    this.#keys[bucket]! += 1;
  }

  /** The delete of `key` ended; bumps again, for reads that started while it ran. */
  endKey(namespace: string, key: string): void {
    const bucket = bucketOf(namespace, key);
    this.#keysPending[bucket]! -= 1;
    this.#keys[bucket]! += 1;
  }

  /**
   * An invalidation of `tags` starts (`pending`), ends, or arrived from another instance: values
   * carrying one of them, read or loaded before, are not written. Namespaces are not told apart.
   */
  markTags(tags: readonly string[], pending: 1 | 0 | -1): void {
    const sequence = ++this.#tagSequence;
    for (const tag of tags) {
      const bucket = tagBucketOf(tag);
      this.#tags[bucket] = sequence;
      this.#tagsPending[bucket]! += pending;
    }
  }

  /**
   * Whether a write of what was read at `generation` and `tagMark` could undo a change since: of
   * the key, of everything, or of one of the value's `tags`.
   */
  changed(
    namespace: string,
    key: string,
    generation: number,
    tagMark: number,
    tags: readonly string[],
  ): boolean {
    if (this.invalidating > 0) return true;
    const bucket = bucketOf(namespace, key);
    if (this.#keysPending[bucket]! > 0) return true;
    if (this.global * GENERATION_BUCKETS + this.#keys[bucket]! !== generation) return true;
    for (let i = 0; i < tags.length; i++) {
      const tagBucket = tagBucketOf(tags[i]!);
      if (this.#tagsPending[tagBucket]! > 0 || this.#tags[tagBucket]! > tagMark) return true;
    }
    return false;
  }
}

/** FNV-1a over `text`, continuing from `hash`. */
function fnv(text: string, hash = 0x811c9dc5): number {
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash;
}

/** The generation bucket of a key: FNV-1a over the namespace, a separator step, the key. */
function bucketOf(namespace: string, key: string): number {
  return (fnv(key, Math.imul(fnv(namespace), 0x01000193)) >>> 0) & (GENERATION_BUCKETS - 1);
}

/** The tag bucket of a tag. */
function tagBucketOf(tag: string): number {
  return (fnv(tag) >>> 0) & (TAG_BUCKETS - 1);
}
