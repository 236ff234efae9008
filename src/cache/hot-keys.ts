import type { Loader, LoadOptions } from './get-or-set.js';

/** @internal One tracked key: its estimated read count and how to load it again. */
export interface HotKey {
  namespace: string;
  key: string;
  count: number;
  loader: Loader<unknown>;
  options: LoadOptions<unknown>;
}

/**
 * @internal A bounded top-K sketch (Space-Saving) of the keys read through `getOrSet` and
 * `@Cached`, per namespace: at most `capacity` keys per namespace and `maxNamespaces` namespaces,
 * whatever the key space. A new key in a full namespace takes the place of the least-read one and
 * inherits its count, so a key read often enough always ends up in the sketch. Counts are halved
 * by {@link decay} (each refresh round), so keys that cooled down make room. Only keys whose loader
 * is known are tracked: `cache.set` entries are left to their TTL.
 */
export class HotKeys {
  readonly #namespaces = new Map<string, Map<string, HotKey>>();
  readonly #capacity: number;
  readonly #maxNamespaces: number;

  constructor(capacity = 64, maxNamespaces = 64) {
    this.#capacity = capacity;
    this.#maxNamespaces = maxNamespaces;
  }

  /** Counts one read of `key`; keeps the latest loader and options. */
  touch(
    namespace: string,
    key: string,
    loader: Loader<unknown>,
    options: LoadOptions<unknown>,
  ): void {
    let keys = this.#namespaces.get(namespace);
    if (keys === undefined) {
      if (this.#namespaces.size >= this.#maxNamespaces) return;
      keys = new Map();
      this.#namespaces.set(namespace, keys);
    }
    const entry = keys.get(key);
    if (entry !== undefined) {
      entry.count++;
      entry.loader = loader;
      entry.options = options;
      return;
    }
    let count = 1;
    if (keys.size >= this.#capacity) {
      let least: HotKey | undefined;
      for (const candidate of keys.values()) {
        if (least === undefined || candidate.count < least.count) least = candidate;
      }
      keys.delete(least!.key);
      count = least!.count + 1;
    }
    keys.set(key, { namespace, key, count, loader, options });
  }

  /** Every tracked key, the most read first. */
  top(): HotKey[] {
    return [...this.#namespaces.values()]
      .flatMap((keys) => [...keys.values()])
      .sort((a, b) => b.count - a.count);
  }

  /** Forgets `key` (deleted or invalidated: refreshing it would bring it back). */
  forget(namespace: string, key: string): void {
    this.#namespaces.get(namespace)?.delete(key);
  }

  /** Halves every count and drops the keys that reach zero. */
  decay(): void {
    for (const [namespace, keys] of this.#namespaces) {
      for (const entry of keys.values()) {
        entry.count = Math.floor(entry.count / 2);
        if (entry.count === 0) keys.delete(entry.key);
      }
      if (keys.size === 0) this.#namespaces.delete(namespace);
    }
  }
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
