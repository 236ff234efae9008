import { createRequire } from 'node:module';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { describeValue, InvalidArgumentError } from '../core/errors.js';

/**
 * A standalone ioredis client or a Cluster: every Redis-backed part of the package works on both.
 *
 * @example
 * ```ts
 * const client: RedisClient = new Cluster([{ host: 'redis-1', port: 6379 }]);
 * ```
 */
export type RedisClient = Redis | Cluster;

/**
 * @internal The client a module builds from a URL: calls fail fast instead of waiting in ioredis'
 * offline queue while Redis is away, each command has a timeout, reconnection goes on forever with
 * a capped backoff, and connection errors go to `onError` instead of being emitted unhandled.
 *
 * @example
 * ```ts
 * const client = createClient('redis://127.0.0.1:6379', 1_000, (error) => log.warn({ err: error }));
 * ```
 */
export function createClient(
  url: string,
  commandTimeoutMs: number,
  onError: ((error: Error) => void) | undefined,
  overrides: Partial<RedisOptions> = {},
): Redis {
  // Loaded on first use: importing ioredis touches process.stderr (its debug output), and importing
  // this package must have no side effects for the services that never use Redis.
  const { Redis: RedisClass } = createRequire(import.meta.url)(
    'ioredis',
  ) as typeof import('ioredis');
  const client = new RedisClass(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), 2_000),
    ...overrides,
  });
  client.on('error', (error: Error) => {
    try {
      onError?.(error);
    } catch {
      // The listener exists so that ioredis never emits an unhandled 'error'; a throwing hook
      // must not defeat it.
    }
  });
  return client;
}

/**
 * @internal Validates `client` / `url` and returns the client to use and whether it is ours (a
 * client created from `url` is; a given one never is).
 *
 * @example
 * ```ts
 * const { client, owned } = resolveClient({ url }, 1_000, 'redisTier');
 * ```
 */
export function resolveClient(
  options: { client?: RedisClient; url?: string; onError?: (error: Error) => void },
  commandTimeoutMs: number,
  owner: string,
): { client: RedisClient; owned: boolean } {
  if (options.client !== undefined && options.url !== undefined) {
    throw new InvalidArgumentError(`${owner}: give either client or url, not both`, {
      argument: 'client',
      value: 'client and url',
      expected: 'either client or url',
    });
  }
  if (options.client !== undefined) return { client: options.client, owned: false };
  if (typeof options.url !== 'string' || options.url.length === 0) {
    throw new InvalidArgumentError(
      `${owner}: url=${describeValue(options.url)} is invalid: expected a Redis URL or a client`,
      { argument: 'url', value: options.url, expected: 'a redis:// or rediss:// URL' },
    );
  }
  return { client: createClient(options.url, commandTimeoutMs, options.onError), owned: true };
}

/**
 * @internal Quits a client we created and resolves once its socket is closed, so that nothing of
 * it outlives `close()`. When QUIT cannot be sent (Redis away) it disconnects instead, which also
 * cancels a pending reconnection.
 *
 * @example
 * ```ts
 * if (owned) await quitClient(client);
 * ```
 */
export async function quitClient(client: RedisClient): Promise<void> {
  const status = client.status;
  if (status === 'end') return;
  // While `reconnecting` there is no socket left to close, only the retry timer that
  // disconnect() clears; ioredis emits no 'end' then.
  const ended =
    status === 'reconnecting'
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1_000);
          timer.unref();
          client.once('end', () => {
            clearTimeout(timer);
            resolve();
          });
        });
  if (status === 'ready') {
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
  } else {
    client.disconnect();
  }
  await ended;
}

const readiness = new WeakMap<RedisClient, Promise<void>>();

/**
 * @internal Resolves when `client` can take commands; rejects after `timeoutMs` or when the client
 * ends. Every caller waiting on one client shares one pair of listeners, so a burst of calls
 * during a reconnection adds no listener per call.
 *
 * @example
 * ```ts
 * await whenReady(client, 1_000);
 * ```
 */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  const status = client.status;
  // `wait` is a lazyConnect client that the application gave us: its first command connects it.
  if (status === 'ready' || status === 'wait') return Promise.resolve();
  if (status === 'end') return Promise.reject(new Error('the Redis connection is closed'));
  let shared = readiness.get(client);
  if (shared === undefined) {
    shared = new Promise<void>((resolve, reject) => {
      const onReady = () => {
        done();
        resolve();
      };
      const onEnd = () => {
        done();
        reject(new Error('the Redis connection is closed'));
      };
      const done = () => {
        client.off('ready', onReady);
        client.off('end', onEnd);
        readiness.delete(client);
      };
      client.once('ready', onReady);
      client.once('end', onEnd);
    });
    // Callers race it against their timeout; without a listener left an ending client would
    // leave an unhandled rejection.
    shared.catch(() => undefined);
    readiness.set(client, shared);
  }
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not connected to Redis after ${timeoutMs} ms (${client.status})`)),
      timeoutMs,
    );
    timer.unref();
    shared.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * @internal Validates a command timeout in milliseconds.
 *
 * @example
 * ```ts
 * const timeoutMs = checkTimeout(options.commandTimeoutMs ?? 1_000, 'commandTimeoutMs');
 * ```
 */
export function checkTimeout(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(value)} is invalid: expected a positive number of milliseconds`,
      { argument, value, expected: 'a positive number of milliseconds' },
    );
  }
  return value;
}

/**
 * @internal The nodes a SCAN must visit to see every key: each master of a Cluster, or the client.
 *
 * @example
 * ```ts
 * for (const node of masters(client)) await node.scan('0', 'MATCH', 'shop:*');
 * ```
 */
export function masters(client: RedisClient): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
}
