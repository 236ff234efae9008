import { describeValue, InvalidArgumentError } from '../../core/errors.js';
import {
  checkTimeout,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from '../../redis/client.js';
import { checkPrefix, escapeSegment, hashTag, redisSegment } from '../../redis/keys.js';
import { runScript } from '../../redis/scripts.js';
import { redisServerVersion } from '../../redis/server-version.js';
import type { CacheCodecError } from '../errors.js';
import { CacheTierError } from '../errors.js';
import { MAX_PLAIN_KEY_LENGTH, storageKey } from '../keys.js';
import { RedisInvalidationBus } from '../redis-bus.js';
import { RedisLock } from '../redis-lock.js';
import type { CacheTier, EntryMeta, InvalidationBusHooks, StoredEntry } from '../types.js';
import { decodeEntry, encodeEntry, LONE_SURROGATE } from './redis-entry.js';
import { unlinkTierKeys } from './redis-scan.js';
import { DELETE, DELETE_IF_EQUAL, REGISTER, SET, UNLINK_IF_EQUAL } from './redis-scripts.js';
import {
  deleteTagsEverywhere,
  deleteTagsInNamespace,
  pruneTagIndexes,
  tagNamespacesKey,
} from './redis-tag-index.js';

/**
 * Options of {@link redisTier}.
 *
 * @example
 * ```ts
 * const options: RedisTierOptions = { url: 'redis://127.0.0.1:6379', prefix: 'shop:cache', commandTimeoutMs: 500 };
 * ```
 */
export interface RedisTierOptions {
  /**
   * An ioredis client or Cluster to use. The tier never closes it: its owner does. Give either
   * `client` or `url`.
   */
  client?: RedisClient;
  /**
   * A Redis URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS). The tier creates a
   * fail-fast client on it and quits it on {@link RedisTier.close}. For a Cluster, pass a `client`.
   */
  url?: string;
  /**
   * First segment of every key this tier writes. Two tiers with different prefixes never touch
   * each other's keys, even when one prefix extends the other. Must not contain `{` or `}` (they
   * would change the Cluster hash slot). @defaultValue 'enterprise:cache'
   */
  prefix?: string;
  /**
   * Longest wait for one command, and for the connection when it is not ready, before the call
   * rejects. On a `client` you pass, set ioredis' own `commandTimeout`: the tier cannot change it.
   * @defaultValue 1000
   */
  commandTimeoutMs?: number;
  /** Connection errors of the client the tier created (it keeps reconnecting meanwhile). */
  onError?: (error: Error) => void;
  /**
   * Called when a stored value is not in the tier's format (written by something else, truncated,
   * of a newer format version). The entry is then treated as a miss and, unless it is of a newer
   * version (which newer instances read), deleted if it still holds the same bytes.
   */
  onMalformed?: (event: { namespace: string; key: string; error: CacheCodecError }) => void;
}

export type { RedisClient } from '../../redis/client.js';

const DEFAULT_PREFIX = 'enterprise:cache';
const DEFAULT_COMMAND_TIMEOUT_MS = 1_000;

/**
 * The Redis tier (L2), on ioredis. Values are stored as a compact binary header (format version,
 * times, tags) followed by the codec's bytes; every write is one atomic Lua script; all the keys of
 * one namespace share a Cluster hash slot.
 *
 * Key layout (`P` the prefix, `ns` and `tag` escaped by `escapeSegment`):
 * - `P:{ns}:k:<storageKey(key)>`: an entry, a string that Redis expires at its `staleUntil`;
 * - `P:{ns}:t:<tag>`: the set of the namespace's keys carrying `tag`;
 * - `P:tag-ns:<tag>`: the set of namespaces that have entries carrying `tag`, so a global
 *   `deleteByTags` visits only those.
 *
 * @example
 * ```ts
 * const l2 = redisTier({ url: 'redis://127.0.0.1:6379', prefix: 'shop:cache' });
 * const cache = createCache({ tiers: [memoryTier(), l2] });
 * // or on a client (or Cluster) the application already owns:
 * const shared = redisTier({ client: new Redis.Cluster(nodes) });
 * ```
 */
export function redisTier(options: RedisTierOptions): RedisTier {
  return new RedisTier(options);
}

/**
 * The Redis tier; build it with {@link redisTier}.
 *
 * @example
 * ```ts
 * const tier = new RedisTier({ client: redis, prefix: 'shop:cache' });
 * await tier.deleteByTags(['user:42']); // in every namespace
 * ```
 */
export class RedisTier implements CacheTier<Uint8Array> {
  readonly name = 'redis';
  readonly local = false;
  /** The connection the tier uses: the one it was given, or the one it created. */
  readonly client: RedisClient;
  /** First segment of every key of this tier. */
  readonly prefix: string;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  readonly #onMalformed: RedisTierOptions['onMalformed'];
  #closing: Promise<void> | undefined;
  readonly #prefixes = new Map<string, string>();

  constructor(options: RedisTierOptions) {
    this.prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    this.#timeoutMs = checkTimeout(
      options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      'commandTimeoutMs',
    );
    this.#onMalformed = options.onMalformed;
    const { client, owned } = resolveClient(options, this.#timeoutMs, 'redisTier');
    const keyPrefix = client.options.keyPrefix;
    if (keyPrefix) {
      // ioredis adds keyPrefix to declared keys only, not to the keys the Lua scripts build nor to
      // what SCAN returns: the tier would lose track of its own keys.
      throw new InvalidArgumentError(
        `redisTier: the client has keyPrefix=${describeValue(keyPrefix)}: use the tier's prefix option instead`,
        { argument: 'client', value: keyPrefix, expected: 'a client without keyPrefix' },
      );
    }
    this.client = client;
    this.#owned = owned;
  }

  async get(namespace: string, key: string): Promise<StoredEntry<Uint8Array> | undefined> {
    // The hot path of an L2 hit: no readiness wait when the connection is up.
    const client =
      this.client.status === 'ready' && this.#closing === undefined
        ? this.client
        : await this.#ready('get', namespace);
    const entryKey = this.#entryKey(namespace, key);
    let raw: Buffer | null;
    try {
      raw = await client.getBuffer(entryKey);
    } catch (error) {
      throw this.#failure('get', error, namespace);
    }
    if (raw === null) return undefined;
    let entry: StoredEntry<Uint8Array>;
    try {
      entry = decodeEntry(raw);
    } catch (error) {
      await this.#dropMalformed(client, namespace, key, entryKey, raw, error as CacheCodecError);
      return undefined;
    }
    // Redis expires the key at staleUntil by its own clock; this check holds the contract on ours.
    if (entry.staleUntil <= Date.now()) return undefined;
    return entry;
  }

  async set(namespace: string, key: string, payload: Uint8Array, meta: EntryMeta): Promise<void> {
    const value = encodeEntry(payload, meta);
    const client = await this.#ready('set', namespace);
    const nsPrefix = this.#namespacePrefix(namespace);
    const member = keySegment(key);
    const tags = [...new Set(meta.tags)];
    // PX from the application's clock, not Redis' TIME: staleUntil was computed on this clock.
    const px = Math.ceil(meta.staleUntil - Date.now());
    try {
      if (px > 0 && tags.length > 0) {
        // Register the namespace under each tag before the entry exists, and wait for it: if the
        // registration failed after the entry was written, a global deleteByTags would miss it.
        const ns = redisSegment(namespace);
        await Promise.all(
          tags.map((tag) =>
            runScript(client, REGISTER, [tagNamespacesKey(this.prefix, tag)], [px, ns]),
          ),
        );
      }
      await runScript(
        client,
        SET,
        [nsPrefix + 'k:' + member, ...tags.map((tag) => nsPrefix + 't:' + escapeSegment(tag))],
        [value, px, nsPrefix, member, ...tags],
      );
    } catch (error) {
      throw this.#failure('set', error, namespace);
    }
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const client = await this.#ready('delete', namespace);
    const nsPrefix = this.#namespacePrefix(namespace);
    const member = keySegment(key);
    try {
      const removed = await runScript(
        client,
        DELETE,
        [nsPrefix + 'k:' + member],
        [nsPrefix, member],
      );
      return removed === 1;
    } catch (error) {
      throw this.#failure('delete', error, namespace);
    }
  }

  /** One script: the entry is deleted (and dropped from its tag sets) only if it is still `entry`. */
  async deleteIfUnchanged(
    namespace: string,
    key: string,
    entry: StoredEntry<Uint8Array>,
  ): Promise<boolean> {
    // The stored form is canonical: what decodeEntry accepted, encodeEntry writes byte for byte.
    const value = encodeEntry(entry.payload, entry);
    const client = await this.#ready('deleteIfUnchanged', namespace);
    const nsPrefix = this.#namespacePrefix(namespace);
    const member = keySegment(key);
    try {
      const removed = await runScript(
        client,
        DELETE_IF_EQUAL,
        [nsPrefix + 'k:' + member],
        [nsPrefix, member, value],
      );
      return removed === 1;
    } catch (error) {
      throw this.#failure('deleteIfUnchanged', error, namespace);
    }
  }

  async deleteByTags(tags: readonly string[], namespace?: string): Promise<number> {
    // A tag that is not well-formed UTF-16 was refused at set, so nothing carries it; its lossy
    // UTF-8 form could match another tag, so it must not reach Redis.
    const wanted = [...new Set(tags)].filter((tag) => !LONE_SURROGATE.test(tag));
    if (wanted.length === 0) return 0;
    const client = await this.#ready('deleteByTags', namespace);
    try {
      if (namespace !== undefined) {
        return await deleteTagsInNamespace(client, this.#namespacePrefix(namespace), wanted);
      }
      return await deleteTagsEverywhere(client, this.prefix, wanted);
    } catch (error) {
      throw this.#failure('deleteByTags', error, namespace);
    }
  }

  /**
   * SCANs every master for this tier's keys (of `namespace`, or all of them) and UNLINKs them in
   * batches. Not atomic: an entry written while the scan runs may survive it.
   */
  async clear(namespace?: string): Promise<void> {
    const client = await this.#ready('clear', namespace);
    try {
      await unlinkTierKeys(client, this.prefix, namespace);
    } catch (error) {
      throw this.#failure('clear', error, namespace);
    }
  }

  /** A `PING` on the tier's connection. */
  async serverVersion(): Promise<string | undefined> {
    const client = await this.#ready('serverVersion');
    try {
      return await redisServerVersion(client);
    } catch (error) {
      throw this.#failure('serverVersion', error);
    }
  }

  async ping(): Promise<void> {
    const client = await this.#ready('ping');
    try {
      await client.ping();
    } catch (error) {
      throw this.#failure('ping', error);
    }
  }

  /**
   * Redis expires entries by itself, so no entry is left to remove. This prunes the tag indexes
   * instead: members of `P:{ns}:t:<tag>` whose entry expired, was deleted or no longer carries the
   * tag. Resolves how many such index members were removed (not entries).
   */
  async removeExpired(): Promise<number> {
    const client = await this.#ready('removeExpired');
    try {
      return await pruneTagIndexes(client, this.prefix);
    } catch (error) {
      throw this.#failure('removeExpired', error);
    }
  }

  /**
   * The pub/sub bus between the instances sharing this tier, on its connection and prefix: the
   * cache calls it when it has a local tier and no `bus` option (see {@link CacheTier.invalidationBus}).
   *
   * @example
   * ```ts
   * const bus = tier.invalidationBus({ onReconnect: () => l1.clear(), onError: console.warn });
   * ```
   */
  invalidationBus(hooks: InvalidationBusHooks): RedisInvalidationBus {
    return new RedisInvalidationBus({ client: this.client, prefix: this.prefix, ...hooks });
  }

  /**
   * A lock on this tier's connection, its keys under the tier's prefix: the cache calls it when it
   * has no `lock` option (see {@link CacheTier.distributedLock}).
   *
   * @example
   * ```ts
   * const token = await tier.distributedLock().acquire('report:42', 30_000);
   * ```
   */
  distributedLock(): RedisLock {
    return new RedisLock({ client: this.client, prefix: this.prefix });
  }

  /** Quits the client the tier created (a given client stays open). Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= this.#owned ? quitClient(this.client) : Promise.resolve();
    await this.#closing;
  }

  async #ready(operation: string, namespace?: string): Promise<RedisClient> {
    if (this.#closing !== undefined) {
      throw new CacheTierError(`redis tier: ${operation} after close()`, {
        tier: 'redis',
        operation,
        namespace,
      });
    }
    try {
      await whenReady(this.client, this.#timeoutMs);
    } catch (error) {
      throw this.#failure(operation, error, namespace);
    }
    return this.client;
  }

  async #dropMalformed(
    client: RedisClient,
    namespace: string,
    key: string,
    entryKey: string,
    raw: Buffer,
    error: CacheCodecError,
  ): Promise<void> {
    try {
      this.#onMalformed?.({ namespace, key, error });
    } catch {
      // A throwing hook must not turn a miss into a failure.
    }
    // A newer release's format: the instances that wrote it still read it.
    if (error.context.reason === 'unsupported-version') return;
    // Deleted only if unchanged, so a valid value written meanwhile survives. A failure here
    // leaves the entry to its TTL or the next set: the answer is a miss either way.
    await runScript(client, UNLINK_IF_EQUAL, [entryKey], [raw]).catch(() => undefined);
  }

  #failure(operation: string, error: unknown, namespace?: string): Error {
    if (error instanceof CacheTierError || error instanceof InvalidArgumentError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new CacheTierError(
      `redis tier: ${operation} failed: ${message}`,
      { tier: 'redis', operation, ...(namespace === undefined ? {} : { namespace }) },
      error,
    );
  }

  #namespacePrefix(namespace: string): string {
    // Namespaces are few and repeat on every call: escape each one once.
    let prefix = this.#prefixes.get(namespace);
    if (prefix === undefined) {
      prefix = `${this.prefix}:${hashTag(namespace)}:`;
      if (this.#prefixes.size >= 10_000) this.#prefixes.clear();
      this.#prefixes.set(namespace, prefix);
    }
    return prefix;
  }

  #entryKey(namespace: string, key: string): string {
    return `${this.#namespacePrefix(namespace)}k:${keySegment(key)}`;
  }
}

function keySegment(key: string): string {
  // Most keys are short and hold nothing to escape or hash: one test instead of four passes.
  if (key.length <= MAX_PLAIN_KEY_LENGTH && PLAIN_KEY.test(key)) return `=${key}`;
  return redisSegment(storageKey(key));
}

/** Keys whose storage form is `=key` unchanged: no `%`, `:`, `{`, `}`, NUL or surrogate. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters excluded
const PLAIN_KEY = /^[^%:{}\u0000\uD800-\uDFFF]*$/;
