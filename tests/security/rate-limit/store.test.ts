// The RateLimitStore conformance suite against the package's stores, both algorithms each: memory,
// Redis and Redis Cluster; and against broken stores, each failing the tests about what it breaks.
import { setTimeout as sleep } from 'node:timers/promises';
import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../../src/security/rate-limit/memory-store.js';
import { RedisRateLimitStore } from '../../../src/security/rate-limit/redis-store.js';
import type { RateLimitAlgorithm } from '../../../src/security/rate-limit/types.js';
import type { RateLimitDecision, RateLimitStore } from '../../../src/security/types.js';
import { describeRateLimitStore } from '../../../src/testing/index.js';
import { clusterClients } from '../../support/redis-cluster.js';
import { redisAdmin, type StoreTarget, storePair } from '../../support/redis-store-pair.js';
import { redis, redisCluster, requires } from '../../support/requirements.js';
import { brokenFailures, collectTests, failingTests } from '../../support/suite-runner.js';

const ALGORITHMS: RateLimitAlgorithm[] = ['gcra', 'sliding-window'];

/** The keys under `prefix` on each node given. */
/** Two stores on one prefix; each limited key has its own slot, so no hash tag in the keys. */
function pair(target: StoreTarget, algorithm: RateLimitAlgorithm) {
  const stores = storePair(
    target,
    'test:rate-limit',
    (connection, prefix) => new RedisRateLimitStore({ ...connection, prefix, algorithm }),
    (prefix) => `${prefix}:*`,
  );
  return { ...stores, keys: async () => (await stores.keys()).length };
}

for (const algorithm of ALGORITHMS) {
  describeRateLimitStore(`memory, ${algorithm}`, vitest, {
    create() {
      const store = new MemoryRateLimitStore({ algorithm });
      return {
        store,
        keys: async () => {
          store.prune();
          return store.size;
        },
        cleanup: () => store.close(),
      };
    },
  });
}

describe.runIf(requires(redis))('redis rate limit store', () => {
  const admin = redisAdmin();

  for (const algorithm of ALGORITHMS) {
    describeRateLimitStore(`redis, ${algorithm}`, vitest, {
      create: () => pair({ admin }, algorithm),
    });
  }
});

/**
 * The same contract on a Redis Cluster: TEST_REDIS_CLUSTER_NODES, or the one the test run starts
 * (tests/support/redis-cluster-setup.ts). The sliding window's script touches two keys, which a
 * Cluster allows only within one hash slot.
 */
describe.runIf(redisCluster())('redis rate limit store on a Cluster', () => {
  const clusters = clusterClients(2);

  for (const algorithm of ALGORITHMS) {
    describeRateLimitStore(`redis cluster, ${algorithm}`, vitest, {
      create: () => pair({ clusters }, algorithm),
    });
  }

  it('spreads keys over the Cluster: each key has its own slot', async () => {
    const cluster = clusters[0]!;
    const store = new RedisRateLimitStore({ client: cluster, prefix: 'test:slots' });
    const slots = new Set(
      Array.from({ length: 64 }, (_, i) => store.keysOf(`client-${i}`)[0]!).map((key) =>
        // CLUSTER KEYSLOT answers from any node.
        cluster.nodes('master')[0]!.cluster('KEYSLOT', key),
      ),
    );
    expect((await Promise.all(slots)).length).toBe(64);
    expect(new Set(await Promise.all(slots)).size).toBeGreaterThan(32);
  });
});

type Rule = { limit: number; windowMs: number; cost: number };

/** A store built on the memory store that changes one behaviour. */
function broken(
  consume: (inner: MemoryRateLimitStore, key: string, rule: Rule) => Promise<RateLimitDecision>,
  reset?: (inner: MemoryRateLimitStore, key: string) => Promise<void>,
): () => RateLimitStore {
  return () => {
    const inner = new MemoryRateLimitStore();
    return {
      consume: (key, rule) => consume(inner, key, rule),
      reset: (key) => (reset ?? ((s, k) => s.reset(k)))(inner, key),
    };
  };
}

/** The names of the suite's tests that fail against stores built by `make`. */
function failures(make: () => RateLimitStore): Promise<string[]> {
  return failingTests(describeRateLimitStore, {
    create: () => ({ store: make(), cleanup: () => undefined }),
  });
}

const NAMES = {
  exact: 'admits exactly the limit of 200 concurrent calls on one key',
  costs: 'never admits more than the limit when concurrent calls carry costs',
  first: 'answers a first call with the limit less its cost, and nothing to wait for',
  countdown: 'counts down, then refuses with a wait within the window and usage left as it was',
  retry: 'lets a call through once retryAfterMs has passed',
  refill: 'gives the whole limit back once resetMs has passed',
  cost: 'counts a cost above one, and refuses a cost that does not fit without counting it',
  huge: 'refuses a cost above the limit without counting it',
  reset: 'forgets a key on reset, for every instance',
  independent: 'keeps keys independent, whatever characters they hold',
  idle: 'forgets an idle key once its window has passed',
};

/** Stores that each break one promise of the contract. */
const BROKEN: Record<string, { make: () => RateLimitStore; fails: string[] }> = {
  // Reads, waits for "the network", then writes: the classic lost update under concurrency.
  'read, then write': {
    make: () => {
      const used = new Map<string, number>();
      return {
        async consume(key, { limit, windowMs, cost }) {
          const before = used.get(key) ?? 0;
          await sleep(1);
          const allowed = before + cost <= limit;
          if (allowed) used.set(key, before + cost);
          const now = used.get(key) ?? 0;
          return {
            allowed,
            limit,
            remaining: limit - now,
            resetMs: windowMs,
            retryAfterMs: allowed ? 0 : windowMs,
          };
        },
        async reset(key) {
          used.delete(key);
        },
      };
    },
    fails: [NAMES.exact, NAMES.costs, NAMES.retry, NAMES.refill, NAMES.idle],
  },
  'cost ignored': {
    make: broken((s, key, rule) => s.consume(key, { ...rule, cost: 1 })),
    fails: [NAMES.costs, NAMES.refill, NAMES.cost, NAMES.huge],
  },
  'retry told half as long': {
    make: broken(async (s, key, rule) => {
      const d = await s.consume(key, rule);
      return { ...d, retryAfterMs: Math.floor(d.retryAfterMs / 2) };
    }),
    fails: [NAMES.retry],
  },
  'reset ignored': {
    make: broken(
      (s, key, rule) => s.consume(key, rule),
      async () => {},
    ),
    fails: [NAMES.reset],
  },
  'keys folded to lower case up to the first colon': {
    make: broken((s, key, rule) => s.consume(key.split(':')[0]!.toLowerCase(), rule)),
    fails: [NAMES.independent],
  },
};

describe('describeRateLimitStore', () => {
  it('registers its tests without importing a runner', () => {
    expect(
      collectTests(describeRateLimitStore, {
        create: () => ({ store: new MemoryRateLimitStore(), cleanup() {} }),
      }),
    ).toEqual(Object.values(NAMES).map((name) => expect.objectContaining({ name })));
  });

  it('fails each broken store on the tests about what it breaks, and only on those', async () => {
    const { failed, expected } = await brokenFailures(BROKEN, failures);
    expect(failed).toEqual(expected);
  }, 30_000);
});
