// Stores of one prefix for the conformance suites of the Redis stores: two of them, as two
// processes of a deployment have, on the test Redis (by URL) or on two clients of a Cluster, and
// the keys they wrote deleted after each test.
import { randomUUID } from 'node:crypto';
import { type Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { deleteKeysMatching, keysMatching } from './redis-keys.js';
import { REDIS_URL } from './requirements.js';

/**
 * A client of the test Redis for the describe block it is called in, to read and delete keys:
 * opened before its tests, quit after them. Read it inside tests and harnesses.
 */
export function redisAdmin(): () => Redis {
  let admin: Redis | undefined;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin?.quit();
  });
  return () => admin!;
}

/** Where the stores connect: the test Redis by URL, or the first two Cluster clients given. */
export type StoreTarget = { admin: () => Redis } | { clusters: Cluster[] };

/** What a store is opened on; a given client is never closed by the store. */
export type StoreConnection = { url: string } | { client: Cluster };

export interface StorePair<Store> {
  prefix: string;
  store: Store;
  second: Store;
  /** The keys the stores wrote. */
  keys(): Promise<string[]>;
  /** The nodes the keys are on: the test Redis, or the Cluster's masters. */
  nodes(): Redis[];
  /** Closes both stores and deletes their keys. */
  cleanup(): Promise<void>;
}

/**
 * Two stores opened by `open` on one fresh prefix (`<base>:<uuid>`). Their keys are those under
 * the prefix's hash tag, or `keyPattern(prefix)` for stores that spread keys over slots.
 *
 * @example
 * ```ts
 * const admin = redisAdmin();
 * describeBanStore('redis', vitest, {
 *   create: () => storePair({ admin }, 'test:ban-store', (c, prefix) => new RedisBanStore({ ...c, prefix })),
 * });
 * ```
 */
export function storePair<Store extends { close(): Promise<unknown> }>(
  target: StoreTarget,
  base: string,
  open: (connection: StoreConnection, prefix: string) => Store,
  keyPattern: (prefix: string) => string = (prefix) => `{${prefix}}:*`,
): StorePair<Store> {
  const prefix = `${base}:${randomUUID()}`;
  const [first, other] =
    'admin' in target
      ? [{ url: REDIS_URL }, { url: REDIS_URL }]
      : target.clusters.map((client) => ({ client }));
  const store = open(first!, prefix);
  const second = open(other!, prefix);
  const nodes = () => ('admin' in target ? [target.admin()] : target.clusters[0]!.nodes('master'));
  return {
    prefix,
    store,
    second,
    keys: () => keysMatching(nodes(), keyPattern(prefix)),
    nodes,
    async cleanup() {
      await Promise.all([store.close(), second.close()]);
      await deleteKeysMatching(nodes(), keyPattern(prefix));
    },
  };
}
