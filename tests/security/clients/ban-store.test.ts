// The BanStore conformance suite against the package's stores (memory, Redis, Redis Cluster), and
// against broken stores: each fails the tests about what it breaks. Then what only Redis can show:
// where the keys live, and the change feed across a lost subscriber connection.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LifecycleError } from '../../../src/core/errors.js';
import type { BanChange } from '../../../src/security/clients/ban-store.js';
import { MemoryBanStore, RedisBanStore } from '../../../src/security/clients/index.js';
import type { Ban, BanStore } from '../../../src/security/types.js';
import { describeBanStore, sampleBan } from '../../../src/testing/index.js';
import { eventually } from '../../support/eventually.js';
import { clusterClients } from '../../support/redis-cluster.js';
import { connectionIds } from '../../support/redis-connections.js';
import { deleteKeysUnderTag, keysUnderTag } from '../../support/redis-keys.js';
import { storePair } from '../../support/redis-store-pair.js';
import { REDIS_URL, redis, redisCluster, requires } from '../../support/requirements.js';
import { brokenFailures, collectTests, failingTests } from '../../support/suite-runner.js';

describeBanStore('memory', vitest, {
  create: () => ({ store: new MemoryBanStore(), cleanup: () => undefined }),
});

describe.runIf(requires(redis))('redis ban store', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(() => admin.quit());

  describeBanStore('redis', vitest, {
    create: () =>
      storePair(
        { admin: () => admin },
        'test:ban-store',
        (connection, prefix) => new RedisBanStore({ ...connection, prefix }),
      ),
    closedErrorType: LifecycleError,
  });

  it('keeps its keys under the configured prefix, one hash tag, and its changes on one channel', async () => {
    const prefix = `test:ban-store:${randomUUID()}`;
    const store = new RedisBanStore({ url: REDIS_URL, prefix });
    try {
      expect(store.channel).toBe(`{${prefix}}:bans:changes`);
      await store.put(sampleBan('203.0.113.7'));
      await store.put(sampleBan('2001:db8::/32'));
      expect((await admin.keys(`*${prefix}*`)).sort()).toEqual(
        [`{${prefix}}:bans`, `{${prefix}}:bans:ends`, `{${prefix}}:bans:version`].sort(),
      );
      // The default prefix is a hash tag of its own too.
      const plain = new RedisBanStore({ url: REDIS_URL });
      expect(plain.prefix).toBe('enterprise:security');
      expect(plain.channel).toBe('{enterprise:security}:bans:changes');
      await plain.close();
    } finally {
      await store.close();
      await deleteKeysUnderTag([admin], prefix);
    }
  });

  it('after its subscriber connection is killed, subscribes again and says to read again', async () => {
    const prefix = `test:ban-store:${randomUUID()}`;
    const name = `bans-${randomUUID().slice(0, 8)}`;
    // The subscriber is a duplicate() of this client, so it carries the same connection name.
    const client = new Redis(REDIS_URL, { connectionName: name });
    const store = new RedisBanStore({ client, prefix });
    const other = new RedisBanStore({ url: REDIS_URL, prefix });
    const changes: BanChange[] = [];
    try {
      const stop = await store.watch((change) => changes.push(change));
      const [id] = await connectionIds(admin, name, true);
      expect(id).toBeDefined();
      expect(await admin.client('KILL', 'ID', id!)).toBe(1);
      await eventually(() => changes.some((c) => c.type === 'resync'), 'a resync', 5_000);
      const given = sampleBan('203.0.113.7');
      await other.put(given);
      await eventually(() => changes.some((c) => c.type === 'put'), 'the put after it', 5_000);
      expect(changes).toEqual([{ type: 'resync' }, { type: 'put', ban: given }]);
      await stop();
    } finally {
      await Promise.all([store.close(), other.close()]);
      await client.quit();
      await deleteKeysUnderTag([admin], prefix);
    }
  });
});

/**
 * The same contract on a Redis Cluster: TEST_REDIS_CLUSTER_NODES, or the one the test run starts
 * (tests/support/redis-cluster-setup.ts). The scripts touch three keys at once, which a Cluster
 * only allows within one hash slot.
 */
describe.runIf(redisCluster())('redis ban store on a Cluster', () => {
  const clusters = clusterClients(2);

  describeBanStore('redis cluster', vitest, {
    create: () =>
      storePair(
        { clusters },
        'test:ban-store',
        (connection, prefix) => new RedisBanStore({ ...connection, prefix }),
      ),
    closedErrorType: LifecycleError,
  });

  it('keeps every key in the slot of its prefix', async () => {
    const prefix = `test:ban-store:${randomUUID()}`;
    const cluster = clusters[0]!;
    const store = new RedisBanStore({ client: cluster, prefix });
    try {
      await store.put(sampleBan('203.0.113.7'));
      const keys = await keysUnderTag(cluster.nodes('master'), prefix);
      expect(keys.sort()).toEqual(
        [`{${prefix}}:bans`, `{${prefix}}:bans:ends`, `{${prefix}}:bans:version`].sort(),
      );
      const node = cluster.nodes('master')[0]!;
      const slots = await Promise.all(
        [...keys, store.channel].map((key) => node.cluster('KEYSLOT', key)),
      );
      expect(new Set(slots)).toEqual(new Set([await node.cluster('KEYSLOT', prefix)]));
    } finally {
      await store.close();
      await deleteKeysUnderTag(cluster.nodes('master'), prefix);
    }
  });
});

/** The names of the suite's tests that fail against stores built by `make`. */
function failures(make: () => BanStore): Promise<string[]> {
  return failingTests(describeBanStore, {
    create: () => ({ store: make(), cleanup: () => undefined }),
  });
}

const NAMES = {
  put: 'lists a ban it was given, every field as given, on every instance',
  expiry: 'leaves out a ban once its until has passed, on every instance',
  ended: 'never lists a ban whose until has already passed, and keeps the others',
  forever: 'keeps a ban for good: until Number.MAX_SAFE_INTEGER',
  replace: 'replaces the ban of a client put again, longer or shorter, on every instance',
  delete: 'deletes a ban for every instance: true when there was one, false after',
  clients: 'keeps addresses, IPv6 prefixes, CIDR ranges and keys apart, each as written',
  many: 'lists a thousand bans',
  concurrentPuts: 'loses no concurrent put, and keeps one of those of one client',
  concurrentDeletes: 'answers concurrent deletes of one ban true once',
  prefixes: 'keeps stores of different prefixes apart',
  copies: 'hands out copies: changing what it returned or was given changes nothing stored',
  watch: 'reports each change to the watchers of every instance, when it has watch()',
  version: 'changes its version with every put and delete, the same on every instance',
  banLists: 'carries bans and unbans between the BanLists of two instances within a second',
  close: 'closes idempotently, when it has close(); calls after it reject',
};

/** A plain BanStore over a map (no watch, version or close), for the broken ones to bend. */
function mapStore(bans = new Map<string, Ban>()): BanStore {
  const inForce = (b: Ban | undefined): b is Ban => b !== undefined && b.until > Date.now();
  return {
    async put(b) {
      bans.set(b.client, { ...b });
    },
    async delete(client) {
      const b = bans.get(client);
      bans.delete(client);
      return inForce(b);
    },
    async list() {
      return [...bans.values()].filter(inForce).map((b) => ({ ...b }));
    },
  };
}

/** A MemoryBanStore seen through `overrides`. */
function memory(overrides: (inner: MemoryBanStore) => Partial<BanStore> & object): BanStore {
  const inner = new MemoryBanStore();
  return {
    put: (b) => inner.put(b),
    delete: (client) => inner.delete(client),
    list: () => inner.list(),
    watch: (listener: (change: BanChange) => void) => inner.watch(listener),
    version: () => inner.version(),
    ...overrides(inner),
  } as BanStore;
}

/** Stores that each break one promise of the contract. */
const BROKEN: Record<string, { make: () => BanStore; fails: string[] }> = {
  'ended bans listed': {
    make: () => {
      const inner = new MemoryBanStore({ clock: { now: () => 0, epochNow: () => 0 } });
      return {
        put: (b) => inner.put(b),
        delete: (client) => inner.delete(client),
        list: () => inner.list(),
      };
    },
    fails: [NAMES.expiry, NAMES.ended, NAMES.replace],
  },
  'delete true for an ended ban': {
    make: () => {
      const bans = new Map<string, Ban>();
      return {
        ...mapStore(bans),
        delete: async (client) => bans.delete(client),
      };
    },
    fails: [NAMES.expiry, NAMES.ended],
  },
  'delete always true': {
    make: () => {
      const inner = mapStore();
      return {
        ...inner,
        async delete(client) {
          await inner.delete(client);
          return true;
        },
      };
    },
    fails: [
      NAMES.expiry,
      NAMES.ended,
      NAMES.delete,
      NAMES.clients,
      NAMES.concurrentDeletes,
      NAMES.prefixes,
    ],
  },
  'the longest ban of a client kept': {
    make: () => {
      const inner = mapStore();
      return {
        ...inner,
        async put(b) {
          const now = (await inner.list()).find((listed) => listed.client === b.client);
          if (now === undefined || now.until < b.until) await inner.put(b);
        },
      };
    },
    fails: [NAMES.replace],
  },
  'the reason dropped': {
    make: () => {
      const inner = mapStore();
      return { ...inner, put: (b) => inner.put({ ...b, reason: '' }) };
    },
    fails: [
      NAMES.put,
      NAMES.expiry,
      NAMES.ended,
      NAMES.forever,
      NAMES.replace,
      NAMES.delete,
      NAMES.clients,
      NAMES.many,
      NAMES.concurrentPuts,
      NAMES.copies,
      NAMES.banLists,
    ],
  },
  'ranges folded to their first address': {
    make: () => {
      const inner = mapStore();
      const fold = (client: string) => client.split('/')[0]!;
      return {
        put: (b) => inner.put({ ...b, client: fold(b.client) }),
        delete: (client) => inner.delete(fold(client)),
        list: () => inner.list(),
      };
    },
    fails: [NAMES.clients],
  },
  'a list of at most 500': {
    make: () => {
      const inner = mapStore();
      return { ...inner, list: async () => (await inner.list()).slice(0, 500) };
    },
    fails: [NAMES.many],
  },
  'stored as given, handed out as stored': {
    make: () => {
      const bans = new Map<string, Ban>();
      const inner = mapStore(bans);
      return {
        ...inner,
        put: async (b) => void bans.set(b.client, b),
        list: async () => [...bans.values()].filter((b) => b.until > Date.now()),
      };
    },
    fails: [NAMES.copies],
  },
  // Each new store starts the map afresh, as a new prefix would, but shares it with the others.
  'one map for every prefix': {
    make: (() => {
      const shared = new Map<string, Ban>();
      return () => {
        shared.clear();
        return mapStore(shared);
      };
    })(),
    fails: [NAMES.prefixes],
  },
  'calls after close() still answered': {
    make: () => ({ ...mapStore(), close: async () => undefined }),
    fails: [NAMES.close],
  },
  'changes not reported': {
    make: () => memory(() => ({ watch: async () => async () => undefined })),
    fails: [NAMES.watch],
  },
  'a version that never changes': {
    make: () => memory(() => ({ version: async () => '1' })),
    fails: [NAMES.version],
  },
};

describe('describeBanStore', () => {
  it('registers its tests without importing a runner', () => {
    expect(
      collectTests(describeBanStore, {
        create: () => ({ store: new MemoryBanStore(), cleanup() {} }),
      }),
    ).toEqual(Object.values(NAMES).map((name) => expect.objectContaining({ name })));
  });

  it('fails each broken store on the tests about what it breaks, and only on those', async () => {
    const { failed, expected } = await brokenFailures(BROKEN, failures);
    expect(failed).toEqual(expected);
  }, 30_000);
});
