import { LRUCache } from 'lru-cache';
import { describeValue, InvalidArgumentError } from '../../core/errors.js';
import type { CacheTier, EntryMeta, StoredEntry } from '../types.js';

/** Options of {@link memoryTier}. */
export interface MemoryTierOptions {
  /** Most entries kept; the least recently used go first. @defaultValue CACHE_MAX_SIZE (10000) */
  maxSize?: number;
  /**
   * Also bound the total size in bytes, as measured by `sizeOf` (default: a rough estimate of the
   * value's JSON length). @defaultValue no byte bound
   */
  maxBytes?: number;
  /** Measures one value, in bytes, for `maxBytes`. */
  sizeOf?: (value: unknown) => number;
  /**
   * Keep entries in memory at most this long, even when their TTL is longer: a short L1 TTL over a
   * longer L2 TTL bounds how stale one instance can be without the invalidation bus. Milliseconds.
   */
  maxTtlMs?: number;
  /**
   * Store and return structured clones instead of the values themselves, so callers that mutate
   * what they got cannot change the cached value. Off by default: it costs a copy per call.
   */
  clone?: boolean;
}

interface Slot {
  namespace: string;
  key: string;
  entry: StoredEntry<unknown>;
}

const SEPARATOR = '\u0000';

/**
 * The in-process tier (L1): an LRU bounded by entry count and optionally by bytes, on lru-cache.
 * Values are kept as they are, without serialization.
 *
 * @example
 * ```ts
 * const cache = createCache({ tiers: [memoryTier({ maxSize: 50_000, maxTtlMs: 30_000 })] });
 * ```
 */
export function memoryTier(options: MemoryTierOptions = {}): MemoryTier {
  return new MemoryTier(options);
}

/** @see {@link memoryTier} */
export class MemoryTier implements CacheTier<unknown> {
  readonly name = 'memory';
  readonly local = true;
  readonly maxTtlMs: number | undefined;
  readonly #lru: LRUCache<string, Slot>;
  readonly #byTag = new Map<string, Set<string>>();
  /**
   * Namespace -> key -> the LRU's key for them. Reads look the LRU key up here instead of building
   * `namespace + separator + key` on every call: a stored string has its hash computed once, a new
   * one must be hashed on every lookup, which was most of the cost of a hit.
   */
  readonly #ids = new Map<string, Map<string, string>>();
  readonly #clone: boolean;

  constructor(options: MemoryTierOptions = {}) {
    const maxSize = options.maxSize ?? 10_000;
    if (!Number.isInteger(maxSize) || maxSize <= 0) {
      throw new InvalidArgumentError(
        `maxSize=${describeValue(maxSize)} is invalid: expected a positive whole number of entries`,
        { argument: 'maxSize', value: maxSize, expected: 'a positive whole number' },
      );
    }
    if (
      options.maxBytes !== undefined &&
      (!Number.isInteger(options.maxBytes) || options.maxBytes <= 0)
    ) {
      throw new InvalidArgumentError(
        `maxBytes=${describeValue(options.maxBytes)} is invalid: expected a positive whole number of bytes`,
        { argument: 'maxBytes', value: options.maxBytes, expected: 'a positive whole number' },
      );
    }
    this.maxTtlMs = options.maxTtlMs;
    this.#clone = options.clone === true;
    const sizeOf = options.sizeOf ?? estimateSize;
    this.#lru = new LRUCache<string, Slot>({
      max: maxSize,
      ...(options.maxBytes === undefined
        ? {}
        : {
            maxSize: options.maxBytes,
            sizeCalculation: (slot: Slot) => Math.max(1, sizeOf(slot.entry.payload)),
          }),
      dispose: (slot, id) => this.#unindex(id, slot),
    });
  }

  /** @internal Keys in the read index; equals `size` unless the index leaks. */
  get indexedKeys(): number {
    let count = 0;
    for (const keys of this.#ids.values()) count += keys.size;
    return count;
  }

  /** Number of entries held (expired ones included until they are touched or evicted). */
  get size(): number {
    return this.#lru.size;
  }

  /**
   * The synchronous read the engine uses on its hot path ({@link CacheTier.peek}): the entry when
   * present and not past `staleUntil`.
   *
   * @example
   * ```ts
   * const entry = tier.peek('users', 'user:1', Date.now());
   * ```
   */
  peek(namespace: string, key: string, now = Date.now()): StoredEntry<unknown> | undefined {
    const id = this.#ids.get(namespace)?.get(key);
    if (id === undefined) return undefined;
    const slot = this.#lru.get(id);
    if (slot === undefined) return undefined;
    const entry = slot.entry;
    if (entry.staleUntil <= now) {
      this.#lru.delete(id);
      return undefined;
    }
    return this.#clone ? { ...entry, payload: structuredClone(entry.payload) } : entry;
  }

  /** @internal @deprecated Use {@link MemoryTier.peek}, of which this is another name. */
  read(namespace: string, key: string, now = Date.now()): StoredEntry<unknown> | undefined {
    return this.peek(namespace, key, now);
  }

  /** @internal Synchronous write (`set` runs it). */
  write(namespace: string, key: string, payload: unknown, meta: EntryMeta): void {
    let id = this.#ids.get(namespace)?.get(key);
    // Replacing an entry must drop it from the tag index of its old tags.
    if (id !== undefined) this.#lru.delete(id);
    const entry: StoredEntry<unknown> = {
      payload: this.#clone ? structuredClone(payload) : payload,
      createdAt: meta.createdAt,
      expiresAt: meta.expiresAt,
      staleUntil: meta.staleUntil,
      tags: meta.tags,
    };
    if (entry.staleUntil - Date.now() <= 0) return;
    id = namespace + SEPARATOR + key;
    // Looked up again: deleting the old entry may have dropped the namespace's map.
    let keys = this.#ids.get(namespace);
    if (keys === undefined) this.#ids.set(namespace, (keys = new Map()));
    keys.set(key, id);
    this.#lru.set(id, { namespace, key, entry });
    for (const tag of entry.tags) addTo(this.#byTag, tag, id);
  }

  /** @internal Synchronous delete. */
  remove(namespace: string, key: string): boolean {
    const id = this.#ids.get(namespace)?.get(key);
    return id !== undefined && this.#lru.delete(id);
  }

  /** Always answers: the store is this process. */
  async ping(): Promise<void> {}

  async get(namespace: string, key: string): Promise<StoredEntry<unknown> | undefined> {
    return this.peek(namespace, key);
  }

  async set(namespace: string, key: string, payload: unknown, meta: EntryMeta): Promise<void> {
    this.write(namespace, key, payload, meta);
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    return this.remove(namespace, key);
  }

  /** @internal Synchronous tag deletion (`deleteByTags` runs it). */
  removeByTags(tags: readonly string[], namespace?: string): number {
    let removed = 0;
    for (const tag of tags) {
      const ids = this.#byTag.get(tag);
      if (ids === undefined) continue;
      for (const id of [...ids]) {
        if (namespace !== undefined && this.#lru.peek(id)?.namespace !== namespace) continue;
        if (this.#lru.delete(id)) removed++;
      }
    }
    return removed;
  }

  async deleteByTags(tags: readonly string[], namespace?: string): Promise<number> {
    return this.removeByTags(tags, namespace);
  }

  /** @internal Synchronous clear. */
  removeAll(namespace?: string): void {
    if (namespace === undefined) {
      this.#lru.clear();
      return;
    }
    const keys = this.#ids.get(namespace);
    if (keys === undefined) return;
    for (const id of [...keys.values()]) this.#lru.delete(id);
  }

  async clear(namespace?: string): Promise<void> {
    this.removeAll(namespace);
  }

  async removeExpired(): Promise<number> {
    const now = Date.now();
    let removed = 0;
    for (const [id, slot] of this.#lru.entries()) {
      if (slot.entry.staleUntil <= now && this.#lru.delete(id)) removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    this.#lru.clear();
  }

  #unindex(id: string, slot: Slot): void {
    for (const tag of slot.entry.tags) removeFrom(this.#byTag, tag, id);
    const keys = this.#ids.get(slot.namespace);
    // write() deletes an entry before storing its successor, so the id is free to forget here.
    if (keys !== undefined && keys.get(slot.key) === id) {
      keys.delete(slot.key);
      if (keys.size === 0) this.#ids.delete(slot.namespace);
    }
  }
}

function addTo(index: Map<string, Set<string>>, name: string, id: string): void {
  let ids = index.get(name);
  if (ids === undefined) index.set(name, (ids = new Set()));
  ids.add(id);
}

function removeFrom(index: Map<string, Set<string>>, name: string, id: string): void {
  const ids = index.get(name);
  if (ids === undefined) return;
  ids.delete(id);
  if (ids.size === 0) index.delete(name);
}

/** A rough byte size: strings by length, buffers by byteLength, the rest by their JSON. */
function estimateSize(value: unknown): number {
  if (typeof value === 'string') return value.length * 2;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value === null || typeof value !== 'object') return 8;
  try {
    return (JSON.stringify(value)?.length ?? 8) * 2;
  } catch {
    return 1024;
  }
}
