import type { Loader, LoadOptions } from './get-or-set.js';

/** @internal One tracked key: its estimated read count and how to load it again. */
export interface HotKey {
  namespace: string;
  key: string;
  count: number;
  loader: Loader<unknown>;
  options: LoadOptions<unknown>;
}

/** The keys tracked in one namespace, and the least-read one while known. */
interface NamespaceKeys {
  keys: Map<string, HotKey>;
  /** The entry with the lowest count, or `undefined` when it must be looked for again. */
  least: HotKey | undefined;
}

/**
 * @internal A bounded top-K sketch of the keys read through `getOrSet` and `@Cached`, per
 * namespace: at most `capacity` keys per namespace and `maxNamespaces` namespaces, whatever the
 * key space. A new key in a full namespace takes the place of the least-read one with probability
 * 1 / (its count + 1) and then inherits that count plus one (probabilistic Space-Saving), so a key
 * read often enough ends up in the sketch while a long tail of keys read once rarely costs the scan
 * for the least-read entry. Counts are halved by {@link decay} (each refresh round), so keys that
 * cooled down make room. Only keys whose loader is known are tracked: `cache.set` entries are
 * left to their TTL.
 */
export class HotKeys {
  readonly #namespaces = new Map<string, NamespaceKeys>();
  readonly #capacity: number;
  readonly #maxNamespaces: number;
  readonly #random: () => number;

  constructor(capacity = 64, maxNamespaces = 64, random: () => number = Math.random) {
    this.#capacity = capacity;
    this.#maxNamespaces = maxNamespaces;
    this.#random = random;
  }

  /** Counts one read of `key`; keeps the latest loader and options. */
  touch(
    namespace: string,
    key: string,
    loader: Loader<unknown>,
    options: LoadOptions<unknown>,
  ): void {
    let space = this.#namespaces.get(namespace);
    if (space === undefined) {
      if (this.#namespaces.size >= this.#maxNamespaces) return;
      space = { keys: new Map(), least: undefined };
      this.#namespaces.set(namespace, space);
    }
    const { keys } = space;
    const entry = keys.get(key);
    if (entry !== undefined) {
      entry.count++;
      entry.loader = loader;
      entry.options = options;
      if (entry === space.least) space.least = undefined;
      return;
    }
    if (keys.size < this.#capacity) {
      keys.set(key, { namespace, key, count: 1, loader, options });
      space.least = undefined;
      return;
    }
    space.least ??= leastOf(keys);
    const least = space.least;
    if (this.#random() * (least.count + 1) >= 1) return;
    keys.delete(least.key);
    keys.set(key, { namespace, key, count: least.count + 1, loader, options });
    space.least = undefined;
  }

  /** Every tracked key, the most read first. */
  top(): HotKey[] {
    return [...this.#namespaces.values()]
      .flatMap((space) => [...space.keys.values()])
      .sort((a, b) => b.count - a.count);
  }

  /** Forgets `key` (deleted or invalidated: refreshing it would bring it back). */
  forget(namespace: string, key: string): void {
    const space = this.#namespaces.get(namespace);
    if (space === undefined) return;
    space.keys.delete(key);
    space.least = undefined;
  }

  /** Halves every count and drops the keys that reach zero. */
  decay(): void {
    for (const [namespace, space] of this.#namespaces) {
      for (const entry of space.keys.values()) {
        entry.count = Math.floor(entry.count / 2);
        if (entry.count === 0) space.keys.delete(entry.key);
      }
      space.least = undefined;
      if (space.keys.size === 0) this.#namespaces.delete(namespace);
    }
  }
}

function leastOf(keys: Map<string, HotKey>): HotKey {
  let least: HotKey | undefined;
  for (const candidate of keys.values()) {
    if (least === undefined || candidate.count < least.count) least = candidate;
  }
  return least!;
}

/**
 * What `cache.refreshHotKeys()` found and did.
 *
 * @example
 * ```ts
 * const { examined, refreshed, keys } = await cache.refreshHotKeys({ withinMs: 60_000, maxKeys: 50, budgetMs: 5_000 });
 * ```
 */
export interface HotRefreshReport {
  /** Hot keys looked at. */
  examined: number;
  /** Keys whose loader ran again and whose value was stored with a fresh TTL. */
  refreshed: number;
  /** Keys whose loader failed (the old value stays until its own expiry). */
  failed: number;
  /** `namespace:key` of the refreshed keys. */
  keys: string[];
}

/**
 * @internal Reloads the hottest keys whose fresh time ends within `withinMs` (or already ended,
 * within their grace), the hottest first, until `maxKeys` were refreshed or `budgetMs` passed.
 * Keys no longer cached are left alone: a refresh must not bring back what was deleted.
 */
export async function refreshHotKeys(
  hot: HotKeys,
  parts: {
    expiresAt: (namespace: string, key: string) => Promise<number | undefined>;
    reload: (entry: HotKey) => Promise<unknown>;
    now: () => number;
  },
  options: { withinMs: number; maxKeys: number; budgetMs: number; signal?: AbortSignal },
): Promise<HotRefreshReport> {
  const report: HotRefreshReport = { examined: 0, refreshed: 0, failed: 0, keys: [] };
  const started = performance.now();
  for (const entry of hot.top()) {
    if (report.refreshed + report.failed >= options.maxKeys) break;
    if (performance.now() - started >= options.budgetMs || options.signal?.aborted) break;
    report.examined++;
    const expiresAt = await parts.expiresAt(entry.namespace, entry.key);
    if (expiresAt === undefined || expiresAt - parts.now() > options.withinMs) continue;
    try {
      await parts.reload(entry);
      report.refreshed++;
      report.keys.push(`${entry.namespace}:${entry.key}`);
    } catch {
      report.failed++;
    }
  }
  hot.decay();
  return report;
}
