// The AlertStore conformance suite against the package's stores (memory, Redis, Redis Cluster),
// and against broken stores: each fails the tests about what it breaks, so the suite would catch
// a store that lets two instances send one notification.
import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { MemoryAlertStore } from '../../src/alerts/memory-store.js';
import { RedisAlertStore } from '../../src/alerts/redis-store.js';
import type { AlertTransition } from '../../src/alerts/types.js';
import { describeAlertStore } from '../../src/testing/index.js';
import { clusterClients } from '../support/redis-cluster.js';
import { redisAdmin, storePair } from '../support/redis-store-pair.js';
import { redis, redisCluster, requires } from '../support/requirements.js';
import { brokenFailures, collectTests, failingTests } from '../support/suite-runner.js';

describeAlertStore('memory', vitest, {
  create: () => ({ store: new MemoryAlertStore(), cleanup: () => undefined }),
});

describe.runIf(requires(redis))('redis alert store', () => {
  const admin = redisAdmin();

  describeAlertStore('redis', vitest, {
    create: () =>
      storePair(
        { admin },
        'test:alert-store',
        (connection, prefix) => new RedisAlertStore({ ...connection, prefix }),
      ),
  });
});

/**
 * The same contract on a Redis Cluster: TEST_REDIS_CLUSTER_NODES, or the one the test run starts
 * (tests/support/redis-cluster-setup.ts). The scripts touch several keys at once, which a Cluster
 * only allows within one hash slot.
 */
describe.runIf(redisCluster())('redis alert store on a Cluster', () => {
  const clusters = clusterClients(2);

  describeAlertStore('redis cluster', vitest, {
    create: () =>
      storePair(
        { clusters },
        'test:alert-store',
        (connection, prefix) => new RedisAlertStore({ ...connection, prefix }),
      ),
  });
});

/** The names of the suite's tests that fail against stores built by `make`. */
function failures(make: () => MemoryAlertStore): Promise<string[]> {
  return failingTests(describeAlertStore, {
    create: () => ({ store: make(), cleanup: () => undefined }),
  });
}

const NAMES = {
  claim: 'grants a claim to exactly one caller until its TTL has passed',
  claimRace: 'grants a claim to one of many concurrent callers',
  claimTtl: 'grants a claim again once its TTL has passed, not before',
  episode: 'keeps the first start of an episode and gives it to every caller',
  episodeRace: 'gives concurrent first callers of an episode one start, one of theirs',
  episodeTtl: 'forgets an episode its TTL after the last episode() or touchEpisodes() call',
  touch: 'touches only episodes that exist: a missing or ended one is not brought back',
  end: 'ends an episode for every instance, so the next firing starts a new one',
  acks: 'keeps acknowledgements by fingerprint for every instance, and clears them',
  silences: 'adds, replaces and deletes silences for every instance',
  copies: 'hands out copies: changing what it returned or was given changes nothing stored',
  history: 'keeps the latest transitions up to the limit, newest first, for every instance',
  dedupe: 'records a change several instances saw within dedupeMs once',
  dedupeTtl: 'records the same change again once dedupeMs has passed',
  close: 'closes idempotently, when it has anything to close',
};

/** Stores that each break one promise of the contract. */
const BROKEN: Record<string, { make: () => MemoryAlertStore; fails: string[] }> = {
  'claims granted to everyone': {
    make: () =>
      new (class extends MemoryAlertStore {
        override async claim(): Promise<boolean> {
          return true;
        }
      })(),
    fails: [NAMES.claim, NAMES.claimRace, NAMES.claimTtl],
  },
  'claims that never expire': {
    make: () =>
      new (class extends MemoryAlertStore {
        override claim(key: string): Promise<boolean> {
          return super.claim(key, Number.MAX_SAFE_INTEGER);
        }
      })(),
    fails: [NAMES.claimTtl],
  },
  'episodes where the last writer wins': {
    make: () =>
      new (class extends MemoryAlertStore {
        override async episode(key: string, at: number, ttlMs?: number): Promise<number> {
          await this.endEpisode(key);
          return super.episode(key, at, ttlMs);
        }
      })(),
    fails: [NAMES.episode, NAMES.episodeTtl, NAMES.end],
  },
  'episodes that ignore their TTL': {
    make: () =>
      new (class extends MemoryAlertStore {
        override episode(key: string, at: number): Promise<number> {
          return super.episode(key, at);
        }
      })(),
    fails: [NAMES.episodeTtl],
  },
  'episodes that a touch does not keep': {
    make: () =>
      new (class extends MemoryAlertStore {
        override async touchEpisodes(): Promise<void> {}
      })(),
    fails: [NAMES.episodeTtl],
  },
  'episodes that are never ended': {
    make: () =>
      new (class extends MemoryAlertStore {
        override async endEpisode(): Promise<void> {}
      })(),
    fails: [NAMES.touch, NAMES.end],
  },
  'acknowledgements that are never cleared': {
    make: () =>
      new (class extends MemoryAlertStore {
        override async clearAcknowledgement(): Promise<void> {}
      })(),
    fails: [NAMES.acks],
  },
  'silences deleted twice': {
    make: () =>
      new (class extends MemoryAlertStore {
        override async deleteSilence(id: string): Promise<boolean> {
          await super.deleteSilence(id);
          return true;
        }
      })(),
    fails: [NAMES.silences],
  },
  'history oldest first': {
    make: () =>
      new (class extends MemoryAlertStore {
        override async history(limit: number): Promise<readonly AlertTransition[]> {
          return [...(await super.history(Number.MAX_SAFE_INTEGER))].reverse().slice(0, limit);
        }
      })(),
    fails: [NAMES.history, NAMES.dedupe, NAMES.dedupeTtl],
  },
  'history never capped': {
    make: () =>
      new (class extends MemoryAlertStore {
        override record(t: AlertTransition, _limit: number, dedupeMs?: number): Promise<void> {
          return super.record(t, Number.MAX_SAFE_INTEGER, dedupeMs);
        }
      })(),
    fails: [NAMES.history],
  },
  'history without deduplication': {
    make: () =>
      new (class extends MemoryAlertStore {
        override record(t: AlertTransition, limit: number): Promise<void> {
          return super.record(t, limit);
        }
      })(),
    fails: [NAMES.dedupe],
  },
};

describe('describeAlertStore', () => {
  it('registers its tests without importing a runner', () => {
    expect(
      collectTests(describeAlertStore, {
        create: () => ({ store: new MemoryAlertStore(), cleanup() {} }),
      }),
    ).toEqual(Object.values(NAMES).map((name) => expect.objectContaining({ name })));
  });

  it('fails each broken store on the tests about what it breaks, and only on those', async () => {
    const { failed, expected } = await brokenFailures(BROKEN, failures);
    expect(failed).toEqual(expected);
  }, 20_000);
});
